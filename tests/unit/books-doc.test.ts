import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CHART_SECTION,
  POSTING_SECTION,
  renderChartTable,
  renderPostingTable,
  sectionOf,
  withSection,
} from '../support/books-doc.js';

const DOC = fileURLToPath(new URL('../../docs/books.md', import.meta.url));

describe('docs/books.md', () => {
  it('shows the chart of accounts and the posting rules exactly as the code has them', () => {
    const generated = { [CHART_SECTION]: renderChartTable(), [POSTING_SECTION]: renderPostingTable() };
    let doc = readFileSync(DOC, 'utf8');
    if (process.env['UPDATE_BOOKS_DOC']) {
      for (const [section, table] of Object.entries(generated)) doc = withSection(doc, section, table);
      writeFileSync(DOC, doc);
    }
    for (const [section, table] of Object.entries(generated)) {
      expect(
        sectionOf(doc, section),
        `docs/books.md section ${section} is out of date: run UPDATE_BOOKS_DOC=1 npx vitest run tests/unit/books-doc.test.ts`,
      ).toBe(table);
    }
  });
});

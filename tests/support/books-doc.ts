import { CHART_OF_ACCOUNTS, bookAccount, normalSide } from '../../src/domain/books/chart-of-accounts.js';
import { POSTING_RULES, SUBJECT, type Leg, type PostingRule } from '../../src/domain/books/posting-rules.js';

/**
 * The tables of docs/books.md, rendered from the chart of accounts and the posting rules themselves.
 * The doc test compares the doc with them; `UPDATE_BOOKS_DOC=1 npx vitest run tests/unit/books-doc.test.ts`
 * rewrites the doc's generated sections.
 */
export const CHART_SECTION = 'chart-of-accounts';
export const POSTING_SECTION = 'posting-rules';

const cell = (text: string) => text.replaceAll('|', '\\|');

export function renderChartTable(): string {
  const rows = CHART_OF_ACCOUNTS.map(
    (a) =>
      `| ${a.code} | ${cell(a.name)} | ${a.type} | ${normalSide(a.type)} | ${a.subLedgers.join(', ') || '-'} | ${cell(a.description)} |`,
  );
  return [
    '| code | name | type | normal side | sub-ledgers | what it holds |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function legText(leg: Leg): string {
  const book =
    leg.book === SUBJECT ? "*S* (the account's subject code)" : `${leg.book} ${bookAccount(leg.book)?.name ?? '?'}`;
  return `${book} [${leg.subLedger}]`;
}

function amountText(rule: PostingRule): string {
  if (rule.amount === 'fee') return 'channelFeeMinor, when above 0';
  return 'amountMinor';
}

export function renderPostingTable(): string {
  const rows = POSTING_RULES.map(
    (r) =>
      `| \`${r.id}\` | ${r.event} | ${r.kinds ? r.kinds.join(', ') : 'every'} | ${legText(r.debit)} | ${legText(r.credit)} | ${amountText(r)} | ${cell(r.meaning)} |`,
  );
  return [
    '| rule | event | kind / purpose | debit | credit | amount | meaning |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function markers(section: string): [string, string] {
  return [`<!-- generated:${section} -->`, `<!-- end:${section} -->`];
}

/** The text between a section's markers, or null when the doc lacks them. */
export function sectionOf(doc: string, section: string): string | null {
  const [start, end] = markers(section);
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) return null;
  return doc.slice(from + start.length, to).trim();
}

export function withSection(doc: string, section: string, content: string): string {
  const [start, end] = markers(section);
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/books.md has no ${start} ... ${end} markers`);
  return `${doc.slice(0, from + start.length)}\n${content}\n${doc.slice(to)}`;
}

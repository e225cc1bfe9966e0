import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';
import { openApiRoutes } from './openapi-routes.js';

const root = resolve(import.meta.dirname, '../..');

/**
 * docs/operations.md names every route the service serves, as "`METHOD /path`" in a table, so a reader finds
 * each one. Path parameters may be named more briefly than in the OpenAPI document ("{id}" for "{accountId}").
 */
describe('docs/operations.md', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await startTestLedger();
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('lists every route of /openapi.json', async () => {
    const anyParameter = (route: string) => route.replace(/\{[^}]+\}/g, '{}');
    const routes = await openApiRoutes(ledger.app);
    expect(routes.length).toBeGreaterThan(30);
    const operations = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    const documented = new Set(
      [...operations.matchAll(/`((?:GET|POST|PUT|PATCH|DELETE) \/[^`?\s]*)/g)].map((m) => anyParameter(m[1]!)),
    );
    expect(routes.filter((route) => !documented.has(anyParameter(route)))).toEqual([]);
  });
});

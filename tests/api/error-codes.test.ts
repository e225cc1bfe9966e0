import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_STATUS } from '../../src/adapters/http/problem-details.js';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * Every error code the code base can answer, derived from the source rather than listed by hand: the
 * domain's codes with their statuses, and every problem the HTTP adapter raises by name.
 */
function emittedCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  const add = (status: string, code: string) => {
    const known = codes.get(code);
    // One code, one status: a client may branch on either.
    expect(known === undefined || known === status, `${code} answered with both ${known} and ${status}`).toBe(true);
    codes.set(code, status);
  };
  for (const [code, { status }] of Object.entries(DOMAIN_STATUS)) {
    if (code !== 'invariant_violated') add(String(status), code);
  }
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? sources(join(dir, entry.name))
        : entry.name.endsWith('.ts')
          ? [readFileSync(join(dir, entry.name), 'utf8')]
          : [],
    );
  for (const text of sources(join(import.meta.dirname, '../../src'))) {
    for (const [, status, code] of text.matchAll(/new HttpProblem\(\s*([^,]+?),\s*'([a-z_]+)'/g)) {
      add(/^[0-9]{3}$/.test(status!) ? status! : '4xx', code!);
    }
    for (const [, code] of text.matchAll(/unauthorized\(\s*reply,\s*'([a-z_]+)'/g)) add('401', code!);
    for (const [, status, code] of text.matchAll(/return \[([0-9]{3}), '([a-z_]+)'/g)) add(status!, code!);
  }
  return codes;
}

/** The error table of docs/operations.md: status -> the codes listed for it. */
function documentedCodes(): Map<string, string> {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/operations.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Error codes'));
  const codes = new Map<string, string>();
  for (const [, status, cell] of table.matchAll(/^\| (\d{3}|4xx) +\| (.*) \|$/gm)) {
    for (const [, code] of cell!.matchAll(/`([a-z_]+)`/g)) codes.set(code!, status!);
  }
  return codes;
}

describe('error codes', () => {
  it('every code the code base can answer is in the docs table under its status, and nothing else is', () => {
    const emitted = emittedCodes();
    expect(emitted.size).toBeGreaterThan(60);
    expect(Object.fromEntries([...documentedCodes()].sort())).toEqual(Object.fromEntries([...emitted].sort()));
  });

  describe('the OpenAPI responses of each route', () => {
    let ledger: TestLedger;
    let paths: Record<string, Record<string, RouteDoc>>;
    interface RouteDoc {
      parameters?: { in: string; name: string; required?: boolean }[];
      requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
      responses: Record<string, unknown>;
    }
    beforeAll(async () => {
      ledger = await startTestLedger();
      paths = (await ledger.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths;
    });
    afterAll(async () => {
      await ledger.close();
    });

    const routes = () =>
      Object.entries(paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, doc]) => ({ route: `${method.toUpperCase()} ${path}`, path, doc })),
      );

    it('document what every signed route can answer: 400 (validation, request id), 401 (signature), 503 (storage)', () => {
      const signed = routes().filter(({ path }) => path.startsWith('/v1/'));
      expect(signed.length).toBeGreaterThan(20);
      for (const { route, doc } of signed) {
        expect(Object.keys(doc.responses), route).toEqual(expect.arrayContaining(['400', '401', '503']));
      }
    });

    it('document 409 and 422 wherever an Idempotency-Key is taken (in progress, reused)', () => {
      for (const { route, doc } of routes()) {
        if (!doc.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key')) continue;
        expect(Object.keys(doc.responses), route).toEqual(expect.arrayContaining(['409', '422']));
      }
    });

    it('document 403 and 429 (payer_password_locked) wherever a payer password is taken', () => {
      const taking = routes().filter(
        ({ doc }) => doc.requestBody?.content['application/json']?.schema.properties?.['payerPassword'] !== undefined,
      );
      expect(taking.length).toBeGreaterThanOrEqual(3);
      for (const { route, doc } of taking) {
        expect(Object.keys(doc.responses), route).toEqual(expect.arrayContaining(['403', '422', '429']));
      }
    });

    /** Per status, the codes a route's OpenAPI response says it can carry. */
    const documentedOn = (doc: RouteDoc): Map<string, string[]> =>
      new Map(
        Object.entries(doc.responses)
          .filter(([status]) => Number(status) >= 400)
          .map(([status, response]) => [
            status,
            [...((response as { description: string }).description.matchAll(/`([a-z_]+)`/g) ?? [])].map(([, c]) => c!),
          ]),
      );

    it('describe every error response as problem+json with the codes its status carries, all in the docs table under it', () => {
      const table = documentedCodes();
      for (const { route, doc } of routes()) {
        for (const [status, response] of Object.entries(doc.responses)) {
          // Readiness answers its failing checks, not a problem: the one error response that is not one.
          if (Number(status) < 400 || (route === 'GET /health/ready' && status === '503')) continue;
          expect(response, `${route} ${status}`).toEqual({
            description: expect.stringMatching(/`[a-z_]+`/),
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          });
        }
        for (const [status, codes] of documentedOn(doc)) {
          for (const code of codes) expect(table.get(code), `${route} ${status} ${code}`).toBe(status);
        }
      }
    });

    it('name every code of the docs table on some route, but those answered before any route is found', () => {
      const inOpenApi = new Set(routes().flatMap(({ doc }) => [...documentedOn(doc).values()].flat()));
      const beforeRouting = ['not_found', 'request_timeout', 'malformed_request', 'bad_request'];
      const table = [...documentedCodes().keys()].filter((code) => !beforeRouting.includes(code));
      expect([...inOpenApi].sort()).toEqual(table.sort());
    });

    it('document 500 on every route, and 413 and 415 on every route that takes a body', () => {
      for (const { route, path, doc } of routes()) {
        expect(Object.keys(doc.responses), route).toContain('500');
        // The channels' notify endpoint takes any media type (the channel's own bytes): it cannot answer 415.
        const bodyCodes = path.startsWith('/v1/channel-notifications/') ? ['413'] : ['413', '415'];
        if (doc.requestBody) expect(Object.keys(doc.responses), route).toEqual(expect.arrayContaining(bodyCodes));
      }
    });

    it('document 404 wherever a path names a resource', () => {
      for (const { route, path, doc } of routes()) {
        if (!path.startsWith('/v1/') || !path.includes('{')) continue;
        // The channels' notify endpoint names a channel, not a resource: an unknown one is 400 unknown_channel.
        if (path.startsWith('/v1/channel-notifications/')) continue;
        // A statement upload names the day to store a file into: any day may receive one, none is "not found".
        if (path.startsWith('/v1/reconciliation/statements/')) continue;
        expect(Object.keys(doc.responses), route).toContain('404');
      }
    });
  });
});

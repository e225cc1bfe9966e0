import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_COOKIE } from '../../src/adapters/http/console/console-session.js';
import { IN_PROCESS_CALL_HEADER } from '../../src/adapters/http/in-process-calls.js';
import { HOSTILE, grantConsoleLink, startConsoleScenario, type ConsoleScenario } from '../support/console-scenario.js';
import { createCaller } from '../support/test-ledger.js';
import { eventRow, tamperWithEventsFile } from '../audit/audit-fixture.js';

describe('the web console (server side, through fastify.inject)', () => {
  let s: ConsoleScenario;
  beforeAll(async () => {
    s = await startConsoleScenario();
  });
  afterAll(async () => {
    await s.ledger.close();
  });

  const app = () => s.ledger.app;
  /** Opens a granted link: the cookie of the session, and the sign-in answer. */
  async function signIn(role: 'operator' | 'auditor' = 'operator') {
    const link = await grantConsoleLink(s.ledger, role);
    const shown = await app().inject({ method: 'GET', url: link.path });
    expect(shown.statusCode).toBe(200);
    const opened = await app().inject({
      method: 'POST',
      url: '/console/login',
      payload: `token=${link.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const cookie = opened.cookies.find((c) => c.name === CONSOLE_COOKIE);
    return { link, opened, cookie: cookie ? `${CONSOLE_COOKIE}=${cookie.value}` : '', setCookie: cookie };
  }
  const get = (url: string, cookie: string) => app().inject({ method: 'GET', url, headers: { cookie } });
  const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1];
  const form = (url: string, cookie: string, fields: Record<string, string>) =>
    app().inject({
      method: 'POST',
      url,
      payload: new URLSearchParams(fields).toString(),
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });

  it('signs in by a one-time link: an http-only, SameSite=Strict cookie limited to /console, expiring', async () => {
    const { opened, setCookie, link } = await signIn();
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe('/console');
    expect(setCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(setCookie?.secure).toBeUndefined();
    expect(setCookie?.maxAge).toBeGreaterThan(7 * 3600);
    // The link works once.
    const again = await app().inject({
      method: 'POST',
      url: '/console/login',
      payload: `token=${link.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(again.statusCode).toBe(401);
    expect(again.cookies).toHaveLength(0);
  });

  it('sets the cookie Secure when the request came over TLS (a proxy saying so)', async () => {
    const link = await grantConsoleLink(s.ledger);
    const opened = await app().inject({
      method: 'POST',
      url: '/console/login',
      payload: `token=${link.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
    });
    expect(opened.cookies[0]).toMatchObject({ secure: true });
  });

  it('answers no page without a session, and grants links to operators only', async () => {
    expect((await get('/console', '')).statusCode).toBe(401);
    expect((await get('/console', `${CONSOLE_COOKIE}=${'A'.repeat(43)}`)).statusCode).toBe(401);
    const refused = await s.ledger.inject({ method: 'POST', url: '/v1/console/links', payload: {} }, s.shop);
    expect(refused.statusCode).toBe(403);
    expect((await app().inject({ method: 'POST', url: '/v1/console/links', payload: {} })).statusCode).toBe(401);
  });

  it('refuses a forged in-process call header: only a token the service itself made is taken', async () => {
    const forged = await app().inject({
      method: 'GET',
      url: '/v1/log/head',
      headers: { [IN_PROCESS_CALL_HEADER]: 'x'.repeat(43) },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('signature_invalid');
  });

  it('shows an account with its balances and statement, the CSV, an operation with a verified chain, the books', async () => {
    const { cookie } = await signIn();
    const search = await get(`/console?q=${s.wallet}`, cookie);
    expect(search.statusCode).toBe(200);
    expect(search.headers['content-security-policy']).toContain("default-src 'none'");
    expect(search.body).toContain(`/console/accounts/${s.wallet}`);
    expect(search.body).toContain('<svg');

    const account = await get(`/console/accounts/${s.wallet}`, cookie);
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('487.50');
    expect(account.body).toContain(`/console/operations/payment/${s.paymentId}`);
    const csv = await get(`/console/accounts/${s.wallet}/statement.csv`, cookie);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('attachment');
    expect(csv.body.split('\n').filter((l) => l.trim() !== '').length).toBe(3);

    const operation = await get(`/console/operations/payment/${s.paymentId}`, cookie);
    expect(operation.statusCode).toBe(200);
    expect(operation.body).toContain('data-chain="verified"');
    expect(operation.body).toContain(s.merchantOrderNo);

    const days = await get('/console/books', cookie);
    expect(days.body).toContain(`<a href="/console/books?date&#61;${s.accountingDate}&#38;currency&#61;CNY">CNY</a>`);
    const books = await get(`/console/books?date=${s.accountingDate}&currency=CNY`, cookie);
    expect(books.statusCode).toBe(200);
    expect(books.body).toContain('data-zero-check="balanced"');

    for (const path of [
      '/console/projections',
      '/console/channels',
      '/console/webhooks',
      '/console/reconciliation',
      '/console/sessions',
      `/console/entities/${s.userId}`,
      '/console/payments',
    ])
      expect((await get(path, cookie)).statusCode, path).toBe(200);
    // An online rebuild's progress shows on the projections page (none yet, then the finished one).
    expect((await get('/console/projections', cookie)).body).toContain('No online rebuild');
    const asked = await s.ledger.inject({ method: 'POST', url: '/v1/projections/balances/rebuild' });
    expect(asked.statusCode).toBe(202);
    let phase = '';
    for (let attempt = 0; attempt < 600 && phase !== 'done' && phase !== 'failed'; attempt += 1) {
      phase = (await s.ledger.inject({ method: 'GET', url: '/v1/projections/rebuild' })).json<{
        rebuild: { phase: string };
      }>().rebuild.phase;
      if (phase !== 'done') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(phase).toBe('done');
    const rebuilt = (await get('/console/projections', cookie)).body;
    expect(rebuilt).toContain('data-rebuild-phase="done"');
    expect(rebuilt).toContain('balances');
    const missing = await get('/console/accounts/1000000000000000', cookie);
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('account_not_found');
  });

  it('escapes hostile names and descriptions on every page that shows them', async () => {
    const { cookie } = await signIn();
    for (const path of [
      `/console?q=${s.userId}`,
      `/console/accounts/${s.wallet}`,
      `/console/entities/${s.userId}`,
      `/console/operations/payment/${s.paymentId}`,
      '/console?kind=user',
    ]) {
      const answer = await get(path, cookie);
      expect(answer.statusCode, path).toBe(200);
      expect(answer.body, path).not.toContain('<script>alert');
      expect(answer.body, path).not.toContain('<img src');
      expect(answer.body, path).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    }
    // A hostile query is shown escaped too.
    const reflected = await get(`/console?q=${encodeURIComponent(HOSTILE)}`, cookie);
    expect(reflected.body).not.toContain('<script>alert');
  });

  it('signs out with the CSRF token only, and a signed-out session reads nothing', async () => {
    const { cookie } = await signIn();
    const home = await get('/console', cookie);
    const csrf = csrfOf(home.body);
    expect(csrf).toBeDefined();
    expect((await form('/console/logout', cookie, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await form('/console/logout', cookie, {})).statusCode).toBe(403);
    expect((await get('/console', cookie)).statusCode).toBe(200);
    const out = await form('/console/logout', cookie, { csrf: csrf! });
    expect(out.statusCode).toBe(200);
    expect((await get('/console', cookie)).statusCode).toBe(401);
  });

  it('lets an operator revoke another session; an auditor session reads but may not revoke', async () => {
    const auditor = await signIn('auditor');
    const operator = await signIn();
    expect((await get(`/console/accounts/${s.wallet}`, auditor.cookie)).statusCode).toBe(200);
    const auditorHome = await get('/console', auditor.cookie);
    expect(auditorHome.body).not.toContain('/console/sessions');
    expect((await get('/console/sessions', auditor.cookie)).statusCode).toBe(403);
    const refused = await form('/console/sessions/revoke', auditor.cookie, {
      csrf: csrfOf(auditorHome.body)!,
      sessionId: operator.link.sessionId,
    });
    expect(refused.statusCode).toBe(403);
    expect((await get('/console', operator.cookie)).statusCode).toBe(200);

    const sessions = await get('/console/sessions', operator.cookie);
    expect(sessions.body).toContain(auditor.link.sessionId);
    const revoked = await form('/console/sessions/revoke', operator.cookie, {
      csrf: csrfOf(sessions.body)!,
      sessionId: auditor.link.sessionId,
    });
    expect(revoked.statusCode).toBe(303);
    expect((await get('/console', auditor.cookie)).statusCode).toBe(401);
  });

  it('serves a merchant-granted principal nothing: links need an operator, and the stream route too', async () => {
    const merchant = await createCaller(s.ledger.service, 'merchant', 'Other');
    const events = await s.ledger.inject({ method: 'GET', url: `/v1/streams/payment-${s.paymentId}/events` }, merchant);
    expect(events.statusCode).toBe(403);
    const own = await s.ledger.inject({ method: 'GET', url: `/v1/streams/payment-${s.paymentId}/events` });
    expect(own.json()).toMatchObject({ chain: { verified: true, firstBreak: null }, nextRevision: null });
    expect((await s.ledger.inject({ method: 'GET', url: '/v1/streams/idempotency-x/events' })).statusCode).toBe(400);
    const unknown = await s.ledger.inject({ method: 'GET', url: '/v1/streams/payment-unknown/events' });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'stream_not_found']);
    // A page past the first links to the event before it: still verified.
    const second = await s.ledger.inject({
      method: 'GET',
      url: `/v1/streams/payment-${s.paymentId}/events?fromRevision=1&limit=1`,
    });
    expect(second.json()).toMatchObject({ events: [{ revision: '1', linked: true }], chain: { verified: true } });
  });

  // Last: it changes a stored event of the shared scenario.
  it('shows a broken chain when a stored event was changed behind the ledger', async () => {
    const { cookie } = await signIn();
    tamperWithEventsFile(s.ledger.dataDir, (db) => {
      const row = eventRow(db, `payment-${s.paymentId}`, 1);
      const tampered = row.data.replace('"paymentId":"', '"paymentId":"x');
      expect(tampered).not.toBe(row.data);
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(tampered, row.position);
    });
    const operation = await get(`/console/operations/payment/${s.paymentId}`, cookie);
    expect(operation.statusCode).toBe(200);
    expect(operation.body).toContain('data-chain="broken"');
    expect(operation.body).toContain('Hash chain broken at revision 1 (hash)');
  });
});

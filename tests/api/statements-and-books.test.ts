import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import {
  createCaller,
  freshKey,
  openWallet,
  recharge,
  startTestLedger,
  type Credentials,
  type TestLedger,
} from '../support/test-ledger.js';

interface Line {
  sequence: number;
  direction: string;
  operationKind: string;
  operationId: string;
  amount: string;
  balanceAfter: string;
  availableAfter: string;
  frozenAfter: string;
  counterparty: { accountId: string | null };
  accountingDate: string;
}

interface Entry {
  entryId: string;
  eventType: string;
  operationId: string;
  accountingDate: string;
  lines: Array<{ code: string; side: 'debit' | 'credit'; amount: string; subLedger: { type: string; id: string } }>;
}

describe('statement and books query API', () => {
  let ledger: TestLedger;
  let merchant: Credentials;
  let walletId: string;
  let merchantAccountId: string;
  let paymentId: string;
  let lastPosition: string;
  const description = '=HYPERLINK("x"), large';

  beforeAll(async () => {
    ledger = await startTestLedger();
    merchant = await createCaller(ledger.service, 'merchant', 'Coffee shop');
    walletId = (await openWallet(ledger.app, 'CNY')).accountId;
    const opened = await ledger.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { ownerId: merchant.entityId, type: 'merchant_settlement', currency: 'CNY' },
    });
    expect(opened.statusCode).toBe(201);
    merchantAccountId = opened.json().accountId;
    expect((await recharge(ledger.app, walletId, '100.00')).statusCode).toBe(201);
    // Posted by the platform's cashier (the test operator), which collected the payer's consent itself.
    const paid = await ledger.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: { 'idempotency-key': freshKey() },
      payload: {
        payerAccountId: walletId,
        payeeAccountId: merchantAccountId,
        amount: '12.50',
        currency: 'CNY',
        merchantOrderNo: 'SO-BOOKS-1',
        description,
      },
    });
    expect(paid.statusCode).toBe(201);
    paymentId = paid.json().paymentId;
    const frozen = await ledger.inject({
      method: 'POST',
      url: `/v1/accounts/${walletId}/freezes`,
      headers: { 'idempotency-key': freshKey() },
      payload: { amount: '5.00', currency: 'CNY', reason: 'order SO-42' },
    });
    expect(frozen.statusCode).toBe(201);
    lastPosition = frozen.json().position;
  });

  afterAll(async () => {
    await ledger.close();
  });

  const statementOf = async (accountId: string, query = '', as?: Credentials) =>
    ledger.inject(
      { method: 'GET', url: `/v1/accounts/${accountId}/statement?minPosition=${lastPosition}${query}` },
      as,
    );

  it('lists every movement of an account with the funds after it, in order', async () => {
    const response = await statementOf(walletId);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ accountId: walletId, currency: 'CNY', nextCursor: null });
    expect(
      body.lines.map((l: Line) => [
        l.sequence,
        l.direction,
        l.operationKind,
        l.amount,
        l.balanceAfter,
        l.availableAfter,
        l.frozenAfter,
      ]),
    ).toEqual([
      [1, 'credit', 'recharge', '100.00', '100.00', '100.00', '0.00'],
      [2, 'debit', 'payment', '12.50', '87.50', '87.50', '0.00'],
      [3, 'freeze', 'freeze', '5.00', '87.50', '82.50', '5.00'],
    ]);
    expect(body.lines[1]).toMatchObject({
      operationId: paymentId,
      counterparty: { accountId: merchantAccountId },
      merchantOrderNo: 'SO-BOOKS-1',
      memo: description,
    });
  });

  it('pages with a cursor', async () => {
    const first = (await statementOf(walletId, '&limit=2')).json();
    expect(first.lines.map((l: Line) => l.sequence)).toEqual([1, 2]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await statementOf(walletId, `&limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.lines.map((l: Line) => l.sequence)).toEqual([3]);
    expect(second.nextCursor).toBeNull();
  });

  it('filters by accounting date or by instant, not both', async () => {
    const date = (await statementOf(walletId)).json().lines[0].accountingDate as string;
    expect((await statementOf(walletId, `&fromDate=${date}&toDate=${date}`)).json().lines).toHaveLength(3);
    expect((await statementOf(walletId, '&fromDate=2000-01-01&toDate=2000-01-31')).json().lines).toHaveLength(0);
    expect((await statementOf(walletId, '&from=2999-01-01T00:00:00Z')).json().lines).toHaveLength(0);
    expect((await statementOf(walletId, '&to=2999-01-01T00:00:00%2B08:00')).json().lines).toHaveLength(3);
    const mixed = await statementOf(walletId, `&from=2000-01-01T00:00:00Z&toDate=${date}`);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json()).toMatchObject({ code: 'invalid_query' });
  });

  it("shows a statement to the account's owner and operators only", async () => {
    expect((await statementOf(walletId, '', merchant)).statusCode).toBe(404);
    const own = await statementOf(merchantAccountId, '', merchant);
    expect(own.statusCode).toBe(200);
    expect(own.json().lines.map((l: Line) => [l.direction, l.amount, l.balanceAfter])).toEqual([
      ['credit', '12.50', '12.50'],
    ]);
    expect((await statementOf('1010000000000018')).statusCode).toBe(404);
  });

  it('exports a statement as RFC 4180 CSV, free text defused', async () => {
    const response = await ledger.inject({
      method: 'GET',
      url: `/v1/accounts/${walletId}/statement.csv?minPosition=${lastPosition}`,
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(response.headers['content-disposition']).toBe(`attachment; filename="statement-${walletId}.csv"`);
    const records = response.body.split('\r\n');
    expect(records.at(-1)).toBe('');
    expect(records[0]).toBe(
      'sequence,occurred_at,accounting_date,direction,operation_kind,operation_id,amount,balance_after,available_after,frozen_after,currency,counterparty_account_id,counterparty_owner_id,counterparty_name,counterparty_channel,merchant_order_no,channel_order_no,freeze_id,memo,event_id,position',
    );
    expect(records).toHaveLength(5);
    expect(records[2]).toContain(`,debit,payment,${paymentId},12.50,87.50,87.50,0.00,CNY,${merchantAccountId},`);
    expect(records[2]).toContain(`,SO-BOOKS-1,,,"'=HYPERLINK(""x""), large",`);
  });

  it('answers journal entries by operation, each balanced, and by day', async () => {
    const byOperation = await ledger.inject({
      method: 'GET',
      url: `/v1/books/journal?operationId=${paymentId}&minPosition=${lastPosition}`,
    });
    expect(byOperation.statusCode).toBe(200);
    const entries: Entry[] = byOperation.json().entries;
    expect(entries.map((e) => e.lines.map((l) => `${l.side} ${l.code} ${l.amount}`))).toEqual([
      ['debit 2201 12.50', 'credit 2290 12.50'],
      ['debit 2290 12.50', 'credit 2202 12.50'],
    ]);
    const date = entries[0]!.accountingDate;
    const byDay = (await ledger.inject({ method: 'GET', url: `/v1/books/journal?date=${date}&limit=500` })).json()
      .entries as Entry[];
    expect(byDay.map((e) => e.eventType)).toEqual(
      expect.arrayContaining(['FundsRecharged', 'FundsDebited', 'FundsCredited', 'FundsFrozen']),
    );
    expect(byDay.every((e) => e.accountingDate === date)).toBe(true);
    expect((await ledger.inject({ method: 'GET', url: '/v1/books/journal' })).statusCode).toBe(400);
    expect((await ledger.inject({ method: 'GET', url: `/v1/books/journal?date=${date}` }, merchant)).statusCode).toBe(
      403,
    );
  });

  it('gives a book account its balances per currency and per sub-ledger', async () => {
    const wallets = await ledger.inject({
      method: 'GET',
      url: `/v1/books/accounts/2201/balances?currency=CNY&minPosition=${lastPosition}`,
    });
    expect(wallets.statusCode).toBe(200);
    const body = wallets.json();
    expect(body).toMatchObject({ code: '2201', type: 'liability', normalSide: 'credit', nextCursor: null });
    expect(body.subLedgers).toContainEqual({
      type: 'account',
      id: walletId,
      currency: 'CNY',
      debit: '17.50',
      credit: '100.00',
      balance: '82.50',
    });
    const frozen = (await ledger.inject({ method: 'GET', url: '/v1/books/accounts/2203/balances' })).json();
    expect(frozen.subLedgers).toContainEqual({
      type: 'account',
      id: walletId,
      currency: 'CNY',
      debit: '0.00',
      credit: '5.00',
      balance: '5.00',
    });
    const transit = (await ledger.inject({ method: 'GET', url: '/v1/books/accounts/2290/balances' })).json();
    expect(transit.totals).toEqual([{ currency: 'CNY', debit: '12.50', credit: '12.50', balance: '0.00' }]);
    expect((await ledger.inject({ method: 'GET', url: '/v1/books/accounts/9999/balances' })).statusCode).toBe(404);
    expect((await ledger.inject({ method: 'GET', url: '/v1/books/accounts/2201/balances' }, merchant)).statusCode).toBe(
      403,
    );
  });

  it('gives a balanced trial balance for a day and currency', async () => {
    const entries: Entry[] = (
      await ledger.inject({
        method: 'GET',
        url: `/v1/books/journal?operationId=${paymentId}&minPosition=${lastPosition}`,
      })
    ).json().entries;
    const date = entries[0]!.accountingDate;
    const response = await ledger.inject({ method: 'GET', url: `/v1/books/trial-balance?date=${date}&currency=CNY` });
    expect(response.statusCode).toBe(200);
    const trial = response.json();
    expect(trial).toMatchObject({ accountingDate: date, currency: 'CNY', balanced: true });
    expect(trial.totalDebit).toBe(trial.totalCredit);
    expect(trial.accounts).toContainEqual({
      code: '2290',
      name: 'Payments in transit',
      type: 'liability',
      debit: '12.50',
      credit: '12.50',
    });
    const quiet = (
      await ledger.inject({ method: 'GET', url: '/v1/books/trial-balance?date=2000-01-01&currency=CNY' })
    ).json();
    expect(quiet).toMatchObject({
      totalDebit: '0.00',
      totalCredit: '0.00',
      balanced: true,
      entryCount: 0,
      accounts: [],
    });
    expect(
      (await ledger.inject({ method: 'GET', url: `/v1/books/trial-balance?date=${date}&currency=ABC` })).statusCode,
    ).toBe(400);
  });

  it('documents the routes in OpenAPI and serves the chart of accounts', async () => {
    const chart = (await ledger.inject({ method: 'GET', url: '/v1/books/chart-of-accounts' })).json();
    expect(chart.accounts.map((a: { code: string }) => a.code)).toEqual(
      expect.arrayContaining(['1122', '2201', '2202', '2203', '2290', '6603']),
    );
    const paths = Object.keys((await ledger.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/accounts/{accountId}/statement',
        '/v1/accounts/{accountId}/statement.csv',
        '/v1/books/journal',
        '/v1/books/accounts/{code}/balances',
        '/v1/books/trial-balance',
        '/v1/books/chart-of-accounts',
      ]),
    );
  });

  it('dates statement lines in the configured accounting time zone', async () => {
    const london = await startTestLedger(mkdtempSync(join(tmpdir(), 'ledger-zone-')), {
      ACCOUNTING_TIME_ZONE: 'Europe/London',
    });
    try {
      const wallet = await openWallet(london.app);
      const position = (await recharge(london.app, wallet.accountId, '1.00')).json().position;
      const lines = (
        await london.inject({
          method: 'GET',
          url: `/v1/accounts/${wallet.accountId}/statement?minPosition=${position}`,
        })
      ).json().lines;
      expect(lines).toHaveLength(1);
      expect(lines[0].accountingDate).toBe(
        DateTime.fromISO(lines[0].occurredAt, { zone: 'utc' }).setZone('Europe/London').toISODate(),
      );
      // The clock is real, so the dates above may agree in both zones: check what the runner was given too.
      const zones = london.service.readModelProjections
        .map((p) => ('accountingTimeZone' in p ? p.accountingTimeZone : null))
        .filter((z) => z !== null);
      expect(zones).toEqual(['Europe/London', 'Europe/London', 'Europe/London']);
    } finally {
      await london.close();
    }
  });
});

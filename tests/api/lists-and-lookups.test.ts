import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resumeStalledOperations } from '../../src/commands/operations/resume-operations.js';
import { expireDuePreauths } from '../../src/commands/preauths/preauth-expiry.js';
import { encodeEvent } from '../../src/domain/event-catalogue.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { LIST_PAGE_SIZE_MAX } from '../../src/adapters/http/read-model-queries.js';
import { anEvent } from '../support/events.js';
import {
  createCaller,
  startTestLedger,
  type Credentials,
  type TestLedger,
  payerOf,
  payeeOf,
} from '../support/test-ledger.js';

/**
 * Finding again what one made: every list and lookup, scoped by who asks (a merchant its own, an operator
 * all), paged by cursor, filtered, and carrying `position` for read-your-writes.
 */
describe('lists and lookups over HTTP', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let rival: Credentials;
  let payerId: string;
  let wallet: string;
  let shopAccount: string;
  let rivalAccount: string;
  /** Position at or after everything the setup recorded. */
  let setupPosition: string;
  const paymentIds: string[] = [];
  let refundedPaymentId: string;
  let freezeId: string;
  let preauthId: string;
  let transferId: string;
  let withdrawalId: string;
  let walletRechargeId: string;
  let shopRechargeId: string;
  let startedAt: string;

  const PAYER_PASSWORD = '739184';
  const key = () => ({ 'idempotency-key': randomUUID() });
  const post = (url: string, payload: object, as?: Credentials) =>
    ledger.inject({ method: 'POST', url, payload, headers: key() }, as);
  const get = (url: string, as?: Credentials) => ledger.inject({ method: 'GET', url }, as);
  const withPosition = (url: string) => `${url}${url.includes('?') ? '&' : '?'}minPosition=${setupPosition}`;
  /** The ids on one page of a list. */
  const idsOf = async (url: string, as?: Credentials, idField = 'operationId'): Promise<string[]> => {
    const response = await get(withPosition(url), as);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().items as Record<string, string>[]).map((item) => item[idField]!);
  };
  /** Every item of a list, page by page. */
  const allPages = async (url: string, as?: Credentials, idField = 'operationId'): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const pageUrl: string = withPosition(`${url}${url.includes('?') ? '&' : '?'}limit=2`);
      const response = await get(cursor === null ? pageUrl : `${pageUrl}&cursor=${cursor}`, as);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json<{ items: Record<string, string>[]; nextCursor: string | null }>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      ids.push(...page.items.map((item) => item[idField]!));
      cursor = page.nextCursor;
      pages += 1;
      expect(pages).toBeLessThan(100);
    } while (cursor !== null);
    return ids;
  };
  const later = (position: string, than: string) => BigInt(position) >= BigInt(than);
  const track = (response: { statusCode: number; body: string; json(): { position?: string } }, status = 201) => {
    expect(response.statusCode, response.body).toBe(status);
    const position = response.json().position;
    if (position !== undefined && later(position, setupPosition)) setupPosition = position;
    return response.json() as Record<string, string>;
  };
  const allFlags = (overrides: Record<string, unknown>) => ({
    mayRecharge: false,
    mayWithdraw: true,
    mayPay: true,
    mayReceive: true,
    maySendTransfers: true,
    mayReceiveTransfers: true,
    mayOverdraw: false,
    overdraftLimit: '0',
    ...overrides,
  });

  beforeAll(async () => {
    ledger = await startTestLedger();
    startedAt = DateTime.utc().minus({ seconds: 1 }).toISO()!;
    setupPosition = '0';
    shop = await createCaller(ledger.service, 'merchant', 'Shop');
    rival = await createCaller(ledger.service, 'merchant', 'Rival');
    payerId = track(await post('/v1/entities', { kind: 'user', displayName: 'Payer' }))['entityId']!;
    track(await post(`/v1/entities/${payerId}/payment-password`, { newPassword: PAYER_PASSWORD }), 200);
    wallet = track(await post('/v1/accounts', { ownerId: payerId, type: 'wallet', currency: 'CNY' }))['accountId']!;
    shopAccount = track(
      await post('/v1/accounts', { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' }),
    )['accountId']!;
    rivalAccount = track(
      await post('/v1/accounts', { ownerId: rival.entityId, type: 'merchant_settlement', currency: 'CNY' }),
    )['accountId']!;
    track(
      await ledger.inject({
        method: 'PUT',
        url: `/v1/accounts/${shopAccount}/flags`,
        headers: key(),
        payload: { flags: allFlags({ mayRecharge: true }), reason: 'top-ups for the lists test' },
      }),
      200,
    );
    walletRechargeId = track(
      await post('/v1/recharges', {
        accountId: wallet,
        amount: '500.00',
        currency: 'CNY',
        payer: await payerOf(ledger.app),
      }),
    )['rechargeId']!;
    shopRechargeId = track(
      await post(
        '/v1/recharges',
        { accountId: shopAccount, amount: '50.00', currency: 'CNY', payer: await payerOf(ledger.app) },
        shop,
      ),
    )['rechargeId']!;
    for (const [orderNo, amount] of [
      ['L-1', '10.00'],
      ['L-2', '20.00'],
      ['L-3', '30.00'],
    ] as const) {
      const paid = track(
        await post(
          '/v1/payments',
          {
            payerAccountId: wallet,
            payeeAccountId: shopAccount,
            amount,
            currency: 'CNY',
            merchantOrderNo: orderNo,
            payerPassword: PAYER_PASSWORD,
          },
          shop,
        ),
      );
      paymentIds.push(paid['paymentId']!);
    }
    refundedPaymentId = paymentIds[2]!;
    for (const [refundNo, amount] of [
      ['R-1', '1.00'],
      ['R-2', '2.00'],
    ] as const) {
      track(await post(`/v1/payments/${refundedPaymentId}/refunds`, { refundNo, amount, currency: 'CNY' }, shop));
    }
    freezeId = track(
      await post(
        `/v1/accounts/${wallet}/freezes`,
        { amount: '5.00', currency: 'CNY', reason: 'order L-9', payerPassword: PAYER_PASSWORD },
        shop,
      ),
    )['freezeId']!;
    preauthId = track(
      await post(
        '/v1/preauths',
        {
          payerAccountId: wallet,
          payeeAccountId: shopAccount,
          amount: '7.00',
          currency: 'CNY',
          merchantOrderNo: 'HOLD-1',
          expiresInSeconds: 60,
          payerPassword: PAYER_PASSWORD,
        },
        shop,
      ),
    )['preauthId']!;
    transferId = track(
      await post(
        '/v1/transfers',
        { fromAccountId: shopAccount, toAccountId: wallet, amount: '1.00', currency: 'CNY', memo: 'cashback' },
        shop,
      ),
    )['transferId']!;
    withdrawalId = track(
      await post(
        '/v1/withdrawals',
        { accountId: shopAccount, amount: '2.00', currency: 'CNY', payee: await payeeOf(ledger.app) },
        shop,
      ),
    )['withdrawalId']!;
  });
  afterAll(async () => {
    await ledger.close();
  });

  describe('accounts', () => {
    it('lists a merchant its own accounts only, with flags, overdraft limit, status and position', async () => {
      const response = await get(withPosition('/v1/accounts'), shop);
      expect(response.statusCode).toBe(200);
      const { items, nextCursor } = response.json();
      expect(nextCursor).toBeNull();
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        accountId: shopAccount,
        ownerId: shop.entityId,
        type: 'merchant_settlement',
        status: 'active',
        flags: { mayRecharge: true, mayOverdraw: false, overdraftLimit: '0.00' },
      });
      expect(later(items[0].position, '1')).toBe(true);
      // Asking for another owner's accounts is no oracle: an empty page.
      expect(await idsOf(`/v1/accounts?ownerId=${rival.entityId}`, shop, 'accountId')).toEqual([]);
    });

    it('lets an operator list all, filter by owner, kind, currency and status, and page through them', async () => {
      const all = await allPages('/v1/accounts', undefined, 'accountId');
      expect(new Set(all).size).toBe(all.length);
      expect(all).toEqual(expect.arrayContaining([wallet, shopAccount, rivalAccount]));
      // Newest first by default; oldest first on request.
      expect(all.indexOf(rivalAccount)).toBeLessThan(all.indexOf(wallet));
      const ascending = await allPages('/v1/accounts?order=asc', undefined, 'accountId');
      expect(ascending).toEqual([...all].reverse());
      expect(await idsOf(`/v1/accounts?ownerId=${payerId}`, undefined, 'accountId')).toEqual([wallet]);
      expect(await idsOf('/v1/accounts?type=merchant_settlement', undefined, 'accountId')).toEqual([
        rivalAccount,
        shopAccount,
      ]);
      expect(await idsOf('/v1/accounts?currency=JPY', undefined, 'accountId')).toEqual([]);
      expect(await idsOf('/v1/accounts?status=active&type=wallet', undefined, 'accountId')).toEqual([wallet]);
      expect(await idsOf('/v1/accounts?status=frozen', undefined, 'accountId')).toEqual([]);
    });

    it('answers bad filters, limits and cursors with problem+json 400 and stable codes', async () => {
      const badCursor = await get('/v1/accounts?cursor=bm90LWEtY3Vyc29y');
      expect(badCursor.statusCode).toBe(400);
      expect(badCursor.headers['content-type']).toContain('application/problem+json');
      expect(badCursor.json().code).toBe('cursor_mismatch');
      const tooMany = await get(`/v1/accounts?limit=${LIST_PAGE_SIZE_MAX + 1}`);
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().code).toBe('validation_failed');
      expect((await get('/v1/accounts?type=piggy_bank')).json().code).toBe('validation_failed');
      expect((await get('/v1/accounts?colour=blue')).json().code).toBe('validation_failed');
      const backwards = await get(`/v1/accounts?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`);
      expect(backwards.json().code).toBe('invalid_query');
    });

    it("gives an account's balance at a past instant and at the end of an accounting day, from its statement", async () => {
      const before = await get(withPosition(`/v1/accounts/${wallet}/balance?at=${encodeURIComponent(startedAt)}`));
      expect(before.statusCode, before.body).toBe(200);
      expect(before.json()).toMatchObject({ balance: '0.00', available: '0.00', frozen: '0.00', lastLine: null });
      // Asked before the account was opened: said so, not only zero.
      expect(before.json()).toMatchObject({ opened: false, openedAt: expect.any(String) });
      const current = (await get(withPosition(`/v1/accounts/${wallet}`))).json();
      const now = DateTime.utc().toISO();
      const atNow = (await get(withPosition(`/v1/accounts/${wallet}/balance?at=${encodeURIComponent(now)}`))).json();
      expect(atNow).toMatchObject({
        accountId: wallet,
        currency: 'CNY',
        balance: current.balance,
        available: current.available,
        frozen: current.frozen,
      });
      expect(atNow.frozen).toBe('12.00');
      const today = DateTime.utc().setZone(ledger.service.config.accountingTimeZone).toISODate()!;
      expect(atNow).toMatchObject({ opened: true, openedAt: before.json().openedAt });
      const dayBefore = DateTime.fromISO(today).minus({ days: 1 }).toISODate()!;
      const closedDay = (await get(`/v1/accounts/${wallet}/balance?accountingDate=${dayBefore}`)).json();
      expect(closedDay).toMatchObject({ balance: '0.00', accountingDate: dayBefore, at: null, opened: false });
      // The balance just after the first line (the recharge) is the recharge.
      const firstLine = (await get(withPosition(`/v1/accounts/${wallet}/statement?limit=1`))).json().lines[0];
      const afterFirst = DateTime.fromISO(firstLine.occurredAt).plus({ milliseconds: 1 }).toISO()!;
      const justAfter = (await get(`/v1/accounts/${wallet}/balance?at=${encodeURIComponent(afterFirst)}`)).json();
      expect(justAfter.lastLine.sequence).toBeGreaterThanOrEqual(1);
      expect(BigInt(justAfter.lastLine.position)).toBeGreaterThanOrEqual(BigInt(firstLine.position));
    });

    it('refuses a balance as of an instant still to come or an accounting day not yet over, as not final', async () => {
      const later = DateTime.utc().plus({ minutes: 1 }).toISO();
      const future = await get(`/v1/accounts/${wallet}/balance?at=${encodeURIComponent(later)}`);
      expect(future.statusCode, future.body).toBe(400);
      expect(future.json().code).toBe('balance_instant_in_future');
      const today = DateTime.utc().setZone(ledger.service.config.accountingTimeZone).toISODate()!;
      for (const day of [today, DateTime.fromISO(today).plus({ days: 1 }).toISODate()!]) {
        const open = await get(`/v1/accounts/${wallet}/balance?accountingDate=${day}`);
        expect(open.statusCode, open.body).toBe(422);
        expect(open.json().code).toBe('accounting_date_not_closed');
      }
    });

    it("refuses a balance query without exactly one of at and accountingDate, and hides others' accounts", async () => {
      expect((await get(`/v1/accounts/${wallet}/balance`)).json().code).toBe('invalid_query');
      const both = await get(`/v1/accounts/${wallet}/balance?at=2026-01-01T00:00:00Z&accountingDate=2026-01-01`);
      expect(both.json().code).toBe('invalid_query');
      const others = await get(`/v1/accounts/${rivalAccount}/balance?accountingDate=2026-01-01`, shop);
      const unknown = await get('/v1/accounts/1019999999999999/balance?accountingDate=2026-01-01', shop);
      expect(others.statusCode).toBe(404);
      expect(unknown.statusCode).toBe(404);
      expect(others.json().code).toBe(unknown.json().code);
      expect((await get(`/v1/accounts/${rivalAccount}/balance?accountingDate=2026-01-01`)).statusCode).toBe(200);
    });
  });

  describe('entities', () => {
    it('lists all entities to an operator, by kind and paged; a merchant only itself', async () => {
      const merchants = await allPages('/v1/entities?kind=merchant', undefined, 'entityId');
      expect(merchants).toEqual([rival.entityId, shop.entityId]);
      const users = await idsOf('/v1/entities?kind=user', undefined, 'entityId');
      expect(users).toEqual([payerId]);
      const own = (await get(withPosition('/v1/entities'), shop)).json();
      expect(own.items).toHaveLength(1);
      expect(own.items[0]).toMatchObject({ entityId: shop.entityId, kind: 'merchant', activeKeyCount: 1 });
      expect(own.items[0]).not.toHaveProperty('phone');
      expect(await idsOf('/v1/entities?kind=user', shop, 'entityId')).toEqual([]);
      const payer = (await get(withPosition(`/v1/entities?kind=user`))).json().items[0];
      expect(payer).toMatchObject({ paymentPasswordSet: true });
      expect(later(payer.position, '1')).toBe(true);
    });

    it('refuses a cursor sent with other filters, order or resource than the query that returned it', async () => {
      const cursorOf = async (url: string, as?: Credentials) => {
        const page = await get(withPosition(url), as);
        expect(page.statusCode, page.body).toBe(200);
        expect(page.json().nextCursor, url).toEqual(expect.any(String));
        return page.json().nextCursor as string;
      };
      const reuses: [string, string, Credentials?][] = [
        ['/v1/entities?limit=1', '/v1/entities?kind=user'],
        ['/v1/entities?limit=1', '/v1/entities?order=asc'],
        ['/v1/accounts?limit=1', '/v1/accounts?currency=CNY'],
        ['/v1/payments?limit=1', '/v1/payments?status=completed', shop],
        ['/v1/payments?limit=1', '/v1/preauths?limit=1', shop],
        [`/v1/accounts/${shopAccount}/statement?limit=1`, `/v1/accounts/${wallet}/statement?limit=1`],
      ];
      for (const [first, second, as] of reuses) {
        const cursor = await cursorOf(first, as);
        const reused = await get(withPosition(`${second}&cursor=${cursor}`), as);
        expect(reused.statusCode, `${first} -> ${second}`).toBe(400);
        expect(reused.json().code).toBe('cursor_mismatch');
        // With its own query (another page size included) the cursor pages on.
        expect(
          (await get(withPosition(`${first.replace('limit=1', 'limit=2')}&cursor=${cursor}`), as)).statusCode,
        ).toBe(200);
      }
    });

    it('lists the accounts of an entity in its view', async () => {
      const view = (await get(`/v1/entities/${payerId}`)).json();
      expect(view.accounts).toEqual([
        { accountId: wallet, type: 'wallet', currency: 'CNY', status: 'active', displayName: expect.any(String) },
      ]);
      expect(view.moreAccounts).toBe(false);
      expect((await get(`/v1/entities/${shop.entityId}`, shop)).json().accounts[0].accountId).toBe(shopAccount);
    });
  });

  describe('payments and refunds', () => {
    it('lists a merchant its own payments, newest first, paged, by status, order number and date range', async () => {
      const listed = await allPages('/v1/payments', shop);
      expect(listed).toEqual([...paymentIds].reverse());
      expect(await idsOf('/v1/payments?merchantOrderNo=L-2', shop)).toEqual([paymentIds[1]]);
      expect(await idsOf('/v1/payments?status=completed&order=asc', shop)).toEqual(paymentIds);
      expect(await idsOf('/v1/payments?status=cancelled', shop)).toEqual([]);
      expect(await idsOf(`/v1/payments?accountId=${wallet}`, shop)).toHaveLength(3);
      const future = DateTime.utc().plus({ hours: 1 }).toISO();
      expect(await idsOf(`/v1/payments?from=${encodeURIComponent(future)}`, shop)).toEqual([]);
      expect(
        await idsOf(`/v1/payments?from=${encodeURIComponent(startedAt)}&to=${encodeURIComponent(future)}`, shop),
      ).toHaveLength(3);
      expect(await idsOf(`/v1/payments?to=${encodeURIComponent(startedAt)}`, shop)).toEqual([]);
    });

    it('shows another merchant nothing, and an operator everything or one merchant', async () => {
      expect(await idsOf('/v1/payments', rival)).toEqual([]);
      expect(await idsOf(`/v1/payments?merchantId=${shop.entityId}`, rival)).toEqual([]);
      expect(await idsOf('/v1/payments?merchantOrderNo=L-1', rival)).toEqual([]);
      expect(await idsOf(`/v1/payments?merchantId=${shop.entityId}`)).toHaveLength(3);
      expect(await idsOf(`/v1/payments?merchantId=${rival.entityId}`)).toEqual([]);
      expect(await idsOf('/v1/payments')).toHaveLength(3);
    });

    it('carries the position of the last event applied: the refunded amount is in the view', async () => {
      const [refunded] = (await get(withPosition(`/v1/payments?merchantOrderNo=L-3`), shop)).json().items;
      expect(refunded).toMatchObject({
        kind: 'payment',
        status: 'completed',
        amount: '30.00',
        settledBack: '3.00',
        pending: '0.00',
        inFlight: false,
        merchantId: shop.entityId,
        sourceAccountId: wallet,
        targetAccountId: shopAccount,
      });
      const byId = (await get(`/v1/payments/${refundedPaymentId}`, shop)).json();
      expect(byId.position).toBe(refunded.position);
      // Waiting for that position sees the refunds in the statement.
      const lines = (await get(`/v1/accounts/${shopAccount}/statement?minPosition=${byId.position}`, shop)).json()
        .lines;
      expect(lines.filter((l: { operationKind: string }) => l.operationKind === 'refund')).toHaveLength(2);
    });

    it('lists refunds by payment and by refund number; a merchant only those of its own payments', async () => {
      const refunds = (await get(withPosition(`/v1/refunds?paymentId=${refundedPaymentId}&order=asc`), shop)).json();
      expect(refunds.items).toMatchObject([
        { refundNo: 'R-1', amount: '1.00', status: 'completed', paymentId: refundedPaymentId },
        { refundNo: 'R-2', amount: '2.00', status: 'completed', paymentId: refundedPaymentId },
      ]);
      expect(refunds.items[0].position).toMatch(/^[0-9]+$/);
      expect(await idsOf(`/v1/refunds?paymentId=${refundedPaymentId}&refundNo=R-2`, shop, 'refundNo')).toEqual(['R-2']);
      expect(await idsOf('/v1/refunds?refundNo=R-1', undefined, 'refundNo')).toEqual(['R-1']);
      expect(await idsOf(`/v1/refunds?paymentId=${paymentIds[0]}`, shop, 'refundNo')).toEqual([]);
      const noPayment = await get('/v1/refunds?refundNo=R-1', shop);
      expect(noPayment.statusCode).toBe(400);
      expect(noPayment.json().code).toBe('invalid_query');
      const others = await get(`/v1/refunds?paymentId=${refundedPaymentId}`, rival);
      const unknown = await get(`/v1/refunds?paymentId=${randomUUID()}`, rival);
      expect(others.statusCode).toBe(404);
      expect(others.json().code).toBe(unknown.json().code);
      expect(others.json().detail).toMatch(/does not exist/);
    });
  });

  describe('recharges, withdrawals, transfers, freezes, pre-authorisations', () => {
    it('gets a recharge by id with its position, for its account owner and operators; to others it does not exist', async () => {
      const byOwner = await get(withPosition(`/v1/recharges/${shopRechargeId}`), shop);
      expect(byOwner.statusCode, byOwner.body).toBe(200);
      expect(byOwner.json()).toMatchObject({
        rechargeId: shopRechargeId,
        status: 'completed',
        amount: '50.00',
        accountId: shopAccount,
        channel: 'sim-citybank',
        failure: null,
      });
      expect(byOwner.json().channelOrderNo).toEqual(expect.any(String));
      const balance = (await get(`/v1/accounts/${shopAccount}?minPosition=${byOwner.json().position}`, shop)).json();
      expect(balance.lastMovementAt).not.toBeNull();
      expect((await get(`/v1/recharges/${walletRechargeId}`)).json().amount).toBe('500.00');
      const others = await get(`/v1/recharges/${shopRechargeId}`, rival);
      const unknown = await get(`/v1/recharges/${randomUUID()}`, rival);
      expect(others.statusCode).toBe(404);
      expect(unknown.statusCode).toBe(404);
      expect(others.json().code).toBe('operation_not_found');
      expect(unknown.json().code).toBe('operation_not_found');
      // A payment's id is not a recharge's.
      expect((await get(`/v1/recharges/${paymentIds[0]}`)).statusCode).toBe(404);
    });

    it('lists recharges and withdrawals of a merchant account; a merchant names one of its own', async () => {
      expect(await idsOf(`/v1/recharges?accountId=${shopAccount}`, shop)).toEqual([shopRechargeId]);
      expect(await idsOf('/v1/recharges?status=completed&order=asc')).toEqual([walletRechargeId, shopRechargeId]);
      expect(await idsOf('/v1/recharges?channel=other-bank')).toEqual([]);
      expect(await idsOf(`/v1/withdrawals?accountId=${shopAccount}`, shop)).toEqual([withdrawalId]);
      const missing = await get('/v1/recharges', shop);
      expect(missing.statusCode).toBe(400);
      expect(missing.json().code).toBe('invalid_query');
      const others = await get(`/v1/withdrawals?accountId=${shopAccount}`, rival);
      const unknown = await get('/v1/withdrawals?accountId=1019999999999999', rival);
      expect(others.statusCode).toBe(404);
      expect(others.json().code).toBe('account_not_found');
      expect(unknown.json().code).toBe('account_not_found');
      const byIdWithdrawal = (await get(`/v1/withdrawals/${withdrawalId}`, shop)).json();
      const [listedWithdrawal] = (await get(withPosition(`/v1/withdrawals?accountId=${shopAccount}`), shop)).json()
        .items;
      expect(byIdWithdrawal.position).toBe(listedWithdrawal.position);
    });

    it('lists transfers to the sender, and to the receiver with side=received', async () => {
      expect(await idsOf('/v1/transfers', shop)).toEqual([transferId]);
      expect(await idsOf('/v1/transfers?side=received', shop)).toEqual([]);
      expect(await idsOf('/v1/transfers', rival)).toEqual([]);
      expect(await idsOf(`/v1/transfers?toAccountId=${wallet}`)).toEqual([transferId]);
      expect(await idsOf(`/v1/transfers?accountId=${wallet}`)).toEqual([]);
      const byId = (await get(`/v1/transfers/${transferId}`, shop)).json();
      expect(byId.position).toMatch(/^[0-9]+$/);
    });

    it('lists freezes to who placed them', async () => {
      const [freeze] = (await get(withPosition('/v1/freezes'), shop)).json().items;
      expect(freeze).toMatchObject({ operationId: freezeId, kind: 'freeze', status: 'placed', ownerId: shop.entityId });
      expect(await idsOf('/v1/freezes', rival)).toEqual([]);
      expect(await idsOf(`/v1/freezes?placedBy=${shop.entityId}&accountId=${wallet}`)).toEqual([freezeId]);
      expect((await get(`/v1/freezes/${freezeId}`, shop)).json().position).toBe(freeze.position);
    });

    it('shows a lapsed hold with its position, so a client can wait for what the service did by itself', async () => {
      const [held] = (await get(withPosition('/v1/preauths?status=authorised'), shop)).json().items;
      expect(held).toMatchObject({ operationId: preauthId, status: 'authorised', amount: '7.00' });
      expect(held.expiresAt).toEqual(expect.any(String));
      const afterExpiry = DateTime.fromISO(held.expiresAt).plus({ seconds: 1 }).toUTC().toISO()!;
      expect(await expireDuePreauths(ledger.service.commands, ledger.service.readModels, afterExpiry)).toBe(1);
      // The sweep answered no client: the head of the log is how a client catches up with it.
      const head = (await get('/v1/log/head', shop)).json().position;
      expect(later(head, held.position)).toBe(true);
      const [lapsed] = (await get(`/v1/preauths?minPosition=${head}`, shop)).json().items;
      expect(lapsed).toMatchObject({ operationId: preauthId, status: 'cancelled', reasonCode: 'expired' });
      expect(later(lapsed.position, held.position) && lapsed.position !== held.position).toBe(true);
      expect((await get(`/v1/preauths/${preauthId}`, shop)).json().position).toBe(lapsed.position);
      expect(await idsOf('/v1/preauths', rival)).toEqual([]);
      expect(await idsOf('/v1/preauths?merchantOrderNo=HOLD-1')).toEqual([preauthId]);
    });

    it('finds a recharge the recovery sweep finished after its request died, with the position of the outcome', async () => {
      // A process recorded the request and died before charging: no client ever got an answer.
      const rechargeId = randomUUID();
      const requested = encodeEvent({
        type: 'RechargeRequested',
        data: {
          rechargeId,
          accountId: wallet,
          amountMinor: 321n,
          currency: parseCurrency('CNY'),
          channel: 'sim-citybank',
          instrument: await payerOf(ledger.app),
        },
      });
      const diedAt = DateTime.utc().minus({ minutes: 10 }).toISO();
      const { metadata } = anEvent();
      await ledger.service.eventStore.appendToStream(
        `recharge-${rechargeId}`,
        [{ ...requested, metadata: { ...metadata, occurredAt: diedAt, correlationId: rechargeId } }],
        'no_stream',
      );
      const afterDeath = (await get('/v1/log/head')).json().position;
      const [stalled] = (
        await get(`/v1/recharges?accountId=${wallet}&status=requested&minPosition=${afterDeath}`)
      ).json().items;
      expect(stalled).toMatchObject({ operationId: rechargeId, status: 'requested', inFlight: true });

      const now = DateTime.utc().toISO();
      const { readModels, commands } = ledger.service;
      expect(await resumeStalledOperations(commands, readModels, now, 60_000)).toBe(1);
      const head = (await get('/v1/log/head')).json().position;
      const recovered = (await get(`/v1/recharges/${rechargeId}?minPosition=${head}`)).json();
      expect(recovered).toMatchObject({
        status: 'completed',
        amount: '3.21',
        failure: null,
        channel: 'sim-citybank',
      });
      expect(BigInt(recovered.position)).toBeGreaterThan(BigInt(stalled.position));
      // Its position covers the credit: the statement read at it shows the recharge line.
      const lines = (await get(`/v1/accounts/${wallet}/statement?minPosition=${recovered.position}`)).json().lines;
      expect(lines.some((l: { operationId: string }) => l.operationId === rechargeId)).toBe(true);
    });

    it('refuses a status that the kind does not have', async () => {
      const response = await get('/v1/freezes?status=completed');
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('validation_failed');
    });
  });

  describe('log head and accounting dates', () => {
    it('gives the head of the log, which every read can wait for', async () => {
      const recorded = String(await ledger.service.eventStore.headPosition());
      const head = (await get('/v1/log/head')).json().position;
      expect(head).toBe(recorded);
      expect(later(head, setupPosition)).toBe(true);
      const response = await get(`/v1/accounts?minPosition=${head}`);
      expect(response.statusCode).toBe(200);
    });

    it('lists the accounting dates with entries, to operators', async () => {
      const today = DateTime.utc().setZone(ledger.service.config.accountingTimeZone).toISODate()!;
      const response = await get(withPosition('/v1/books/accounting-dates'));
      expect(response.statusCode, response.body).toBe(200);
      const [day] = response.json().items;
      expect(day).toMatchObject({ accountingDate: today, currencies: ['CNY'] });
      expect(day.entryCount).toBeGreaterThan(10);
      expect((await get(`/v1/books/accounting-dates?toDate=${today}&fromDate=${today}`)).json().items).toHaveLength(1);
      const yesterday = DateTime.fromISO(today).minus({ days: 1 }).toISODate()!;
      expect((await get(`/v1/books/accounting-dates?toDate=${yesterday}`)).json().items).toEqual([]);
      expect((await get(`/v1/books/accounting-dates?fromDate=${today}&toDate=${yesterday}`)).json().code).toBe(
        'invalid_query',
      );
      expect((await get('/v1/books/accounting-dates', shop)).statusCode).toBe(403);
    });
  });

  it('documents every list and lookup route in OpenAPI (tags, summary, description) and in docs/operations.md', async () => {
    const doc = (await ledger.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    for (const path of [
      '/v1/accounts',
      '/v1/accounts/{accountId}/balance',
      '/v1/entities',
      '/v1/payments',
      '/v1/refunds',
      '/v1/recharges',
      '/v1/recharges/{rechargeId}',
      '/v1/withdrawals',
      '/v1/transfers',
      '/v1/freezes',
      '/v1/preauths',
      '/v1/log/head',
      '/v1/books/accounting-dates',
    ]) {
      const route = doc.paths[path]?.get;
      expect(route, path).toBeDefined();
      expect(route.tags.length, path).toBeGreaterThan(0);
      expect(route.summary, path).toEqual(expect.any(String));
      expect(route.description.length, path).toBeGreaterThan(20);
      expect(operations, path).toContain(`GET ${path.replace(/\{[A-Za-z]+\}/g, '{id}')}`);
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TRANSFER_BATCH_ITEMS } from '../../src/domain/transfers/transfer-batch-decider.js';
import {
  createCaller,
  openWallet,
  recharge,
  startTestLedger,
  type Credentials,
  type TestLedger,
} from '../support/test-ledger.js';

interface BatchAnswer {
  batchId: string;
  status: string;
  appliedCount: number;
  position?: string;
  items: Array<{ transferId: string; status: string; reference: string | null; failure: { code: string } | null }>;
}

/**
 * POST /v1/transfer-batches on both paths: one commit (SQLite) and the per-item process (ONE_COMMIT=off,
 * the path engines without a multi-stream append take). Each suite says what either path must do.
 */
describe.each(['auto', 'off'])('transfer batches (ONE_COMMIT=%s)', (oneCommit) => {
  let ledger: TestLedger;
  let shop: Credentials;
  let rival: Credentials;
  let shopAccount: string;
  let [a, b, c] = ['', '', ''];

  const batch = (payload: object, as?: Credentials, key = randomUUID()) =>
    ledger.inject({ method: 'POST', url: '/v1/transfer-batches', payload, headers: { 'idempotency-key': key } }, as);
  const balanceOf = async (accountId: string, minPosition = '0') =>
    (await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountId}?minPosition=${minPosition}` })).json<{
      balance: string;
    }>().balance;
  const item = (fromAccountId: string, toAccountId: string, amount: string, reference?: string) => ({
    fromAccountId,
    toAccountId,
    amount,
    currency: 'CNY',
    memo: 'batch',
    ...(reference ? { reference } : {}),
  });

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, { ONE_COMMIT: oneCommit });
    shop = await createCaller(ledger.service, 'merchant', 'Payroll shop');
    rival = await createCaller(ledger.service, 'merchant', 'Rival');
    a = (await openWallet(ledger.app)).accountId;
    b = (await openWallet(ledger.app)).accountId;
    c = (await openWallet(ledger.app)).accountId;
    expect((await recharge(ledger.app, a, '100.00')).statusCode).toBe(201);
    const opened = await ledger.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
    });
    shopAccount = opened.json<{ accountId: string }>().accountId;
    const flags = await ledger.inject({
      method: 'PUT',
      url: `/v1/accounts/${shopAccount}/flags`,
      payload: {
        flags: {
          mayRecharge: true,
          mayWithdraw: false,
          mayPay: false,
          mayReceive: true,
          maySendTransfers: true,
          mayReceiveTransfers: true,
          mayOverdraw: false,
          overdraftLimit: '0',
        },
        reason: 'payroll',
      },
    });
    expect(flags.statusCode, flags.body).toBe(200);
    expect((await recharge(ledger.app, shopAccount, '50.00')).statusCode).toBe(201);
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('independent: the accepted items move in order, the refused one is reported; a retry replays', async () => {
    const payload = {
      mode: 'independent',
      items: [item(a, b, '10.00', 'pay-1'), item(a, c, '200.00', 'pay-2'), item(a, b, '5.00'), item(a, a, '1.00')],
    };
    const key = randomUUID();
    const first = await batch(payload, undefined, key);
    expect(first.statusCode, first.body).toBe(201);
    const answer = first.json<BatchAnswer>();
    expect(answer).toMatchObject({ status: 'partially_applied', appliedCount: 2 });
    expect(answer.items.map((i) => [i.status, i.failure?.code ?? null, i.reference])).toEqual([
      ['completed', null, 'pay-1'],
      ['refused', 'insufficient_funds', 'pay-2'],
      ['completed', null, null],
      ['refused', 'same_account', null],
    ]);
    expect(await balanceOf(a, answer.position)).toBe('85.00');
    expect(await balanceOf(b, answer.position)).toBe('15.00');
    expect(await balanceOf(c, answer.position)).toBe('0.00');
    const transfer = await ledger.inject({ method: 'GET', url: `/v1/transfers/${answer.items[0]!.transferId}` });
    expect(transfer.json()).toMatchObject({ status: 'completed', amount: '10.00', fromAccountId: a, toAccountId: b });
    const again = await batch(payload, undefined, key);
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([201, 'true', answer]);
    const read = await ledger.inject({ method: 'GET', url: `/v1/transfer-batches/${answer.batchId}` });
    expect(read.json()).toEqual(answer);
    expect(await balanceOf(a)).toBe('85.00');
  });

  it('all_or_nothing: one refused item and nothing moves; the others are not_applied', async () => {
    const refused = await batch({ mode: 'all_or_nothing', items: [item(a, b, '1.00'), item(b, c, '999.00')] });
    expect(refused.statusCode, refused.body).toBe(201);
    const answer = refused.json<BatchAnswer>();
    expect(answer).toMatchObject({ status: 'refused', appliedCount: 0 });
    expect(answer.items.map((i) => [i.status, i.failure?.code ?? null])).toEqual([
      ['not_applied', null],
      ['refused', 'insufficient_funds'],
    ]);
    expect(await balanceOf(a, answer.position)).toBe('85.00');
    expect(await balanceOf(b)).toBe('15.00');
    const notApplied = await ledger.inject({ method: 'GET', url: `/v1/transfers/${answer.items[0]!.transferId}` });
    expect(notApplied.statusCode).toBe(404);
  });

  it('all_or_nothing: items decided on the states earlier items left, an account in many items', async () => {
    // 150 debits of one account: more than one append's MAX_EVENTS_PER_APPEND on that account's stream.
    const items = [item(a, c, '30.00'), item(c, b, '30.00'), ...Array.from({ length: 150 }, () => item(a, b, '0.10'))];
    const moved = await batch({ mode: 'all_or_nothing', items });
    expect(moved.statusCode, moved.body).toBe(201);
    const answer = moved.json<BatchAnswer>();
    expect(answer).toMatchObject({ status: 'applied', appliedCount: 152 });
    expect(await balanceOf(a, answer.position)).toBe('40.00');
    expect(await balanceOf(b, answer.position)).toBe('60.00');
    expect(await balanceOf(c, answer.position)).toBe('0.00');
  });

  it('a merchant moves only from its own accounts; another merchant cannot read its batch', async () => {
    const mixed = await batch({ mode: 'independent', items: [item(shopAccount, b, '2.00'), item(a, b, '1.00')] }, shop);
    expect(mixed.statusCode, mixed.body).toBe(201);
    const answer = mixed.json<BatchAnswer>();
    expect(answer.items.map((i) => [i.status, i.failure?.code ?? null])).toEqual([
      ['completed', null],
      ['refused', 'account_not_found'],
    ]);
    expect(await balanceOf(a, answer.position)).toBe('40.00');
    expect(await balanceOf(shopAccount, answer.position)).toBe('48.00');
    const own = await ledger.inject({ method: 'GET', url: `/v1/transfer-batches/${answer.batchId}` }, shop);
    expect(own.json()).toEqual(answer);
    const other = await ledger.inject({ method: 'GET', url: `/v1/transfer-batches/${answer.batchId}` }, rival);
    expect([other.statusCode, other.json().code]).toEqual([404, 'operation_not_found']);
    const unknown = await ledger.inject({ method: 'GET', url: `/v1/transfer-batches/${randomUUID()}` });
    expect(unknown.statusCode).toBe(404);
  });

  it("lists the caller's own batches, newest first, paged and filtered; another merchant's are invisible", async () => {
    const list = async (query: string, as?: Credentials) => {
      const url = query === '' ? '/v1/transfer-batches' : `/v1/transfer-batches?${query}`;
      const listed = await ledger.inject({ method: 'GET', url }, as);
      expect(listed.statusCode, listed.body).toBe(200);
      return listed.json<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>();
    };
    const made: BatchAnswer[] = [];
    for (const amount of ['0.01', '0.02', '999.00']) {
      const answered = await batch({ mode: 'independent', items: [item(shopAccount, c, amount)] }, shop);
      expect(answered.statusCode, answered.body).toBe(201);
      made.push(answered.json<BatchAnswer>());
    }
    const rivals = await batch({ mode: 'independent', items: [item(shopAccount, c, '0.01')] }, rival);
    const rivalBatch = rivals.json<BatchAnswer>();
    const at = made[2]!.position!;
    const summary = (answer: BatchAnswer, status: string, appliedCount: number) =>
      expect.objectContaining({
        batchId: answer.batchId,
        ownerId: shop.entityId,
        mode: 'independent',
        status,
        itemCount: 1,
        appliedCount,
        createdAt: expect.stringMatching(/Z$/),
      });

    // The shop's own: the three batches above and the one of the test before, newest first.
    const own = await list(`minPosition=${rivalBatch.position}`, shop);
    expect(own.items.slice(0, 3)).toEqual([
      summary(made[2]!, 'refused', 0),
      summary(made[1]!, 'applied', 1),
      summary(made[0]!, 'applied', 1),
    ]);
    expect(own.items.map((i) => i['ownerId'])).toEqual(own.items.map(() => shop.entityId));
    expect(own.items.map((i) => i['batchId'])).not.toContain(rivalBatch.batchId);
    // Each item's position answers a read-your-writes wait for the batch.
    expect(BigInt(own.items[0]!['position'] as string)).toBeGreaterThanOrEqual(BigInt(at));

    // Pages of one, oldest first: the cursor is bound to the query.
    const first = await list(`limit=1&order=asc&status=applied&minPosition=${at}`, shop);
    expect(first.items).toHaveLength(1);
    const second = await list(`limit=1&order=asc&status=applied&cursor=${first.nextCursor}`, shop);
    expect(second.items.map((i) => i['batchId'])).not.toEqual(first.items.map((i) => i['batchId']));
    const mismatched = await ledger.inject(
      { method: 'GET', url: `/v1/transfer-batches?limit=1&order=desc&status=applied&cursor=${first.nextCursor}` },
      shop,
    );
    expect([mismatched.statusCode, mismatched.json().code]).toEqual([400, 'cursor_mismatch']);
    const refusedOnes = await list('status=refused', shop);
    expect(refusedOnes.items.map((i) => i['batchId'])).toContain(made[2]!.batchId);
    expect(refusedOnes.items.every((i) => i['status'] === 'refused')).toBe(true);
    const later = await list(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, shop);
    expect(later.items).toEqual([]);

    // Another merchant sees only its own, and naming the shop gives it an empty page.
    const theirs = await list('', rival);
    expect(theirs.items.map((i) => i['batchId'])).toEqual([rivalBatch.batchId]);
    expect((await list(`merchantId=${shop.entityId}`, rival)).items).toEqual([]);
    // The operator sees every batch (its own too), or one merchant's.
    const all = await list('limit=200');
    expect(all.items.map((i) => i['batchId'])).toEqual(expect.arrayContaining([rivalBatch.batchId, made[0]!.batchId]));
    expect(all.items.some((i) => i['ownerId'] === null)).toBe(true);
    const shops = await list(`merchantId=${shop.entityId}&limit=200`);
    expect(shops.items.map((i) => i['batchId'])).toEqual(own.items.map((i) => i['batchId']));
  });

  it('refuses bad input with a problem and changes nothing', async () => {
    const tooMany = Array.from({ length: MAX_TRANSFER_BATCH_ITEMS + 1 }, () => item(a, b, '0.01'));
    const cases: Array<[object, number, string]> = [
      [{ mode: 'independent', items: [] }, 400, 'validation_failed'],
      [{ mode: 'independent', items: tooMany }, 400, 'validation_failed'],
      [{ mode: 'sometimes', items: [item(a, b, '1.00')] }, 400, 'validation_failed'],
      [{ mode: 'independent', items: [item(a, b, '-1.00')] }, 400, 'validation_failed'],
      [{ mode: 'independent', items: [item(a, b, '1.00'), item(a, b, '1.001')] }, 400, 'invalid_amount'],
    ];
    for (const [payload, status, code] of cases) {
      const refused = await batch(payload);
      expect([refused.statusCode, refused.headers['content-type'], refused.json().code], refused.body).toEqual([
        status,
        'application/problem+json',
        code,
      ]);
    }
    // As the merchant's batch left them (b took 2.00 from the shop).
    expect(await balanceOf(a)).toBe('40.00');
    expect(await balanceOf(b)).toBe('62.00');
  });
});

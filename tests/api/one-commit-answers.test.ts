import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whileChannelsDecline } from '../support/test-channels.js';
import { openWallet, startTestLedger, type TestLedger, payerOf, payeeOf } from '../support/test-ledger.js';

/**
 * Answers of operations recorded in one commit (payments, refunds, transfers) or two (recharges): a retry with the
 * same key replays the first answer exactly, its position included (read back from the operation's last
 * event), and that position is the operation stream's own, as GET by id answers it. Refusals replay too.
 * On the process path (ONE_COMMIT=off) the same holds: the suite says what either path must do.
 */
describe('answers of one-commit operations', () => {
  let ledger: TestLedger;
  let wallet: string;
  let otherWallet: string;
  let shopAccount: string;

  const post = (url: string, payload: object, key = randomUUID()) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': key } });

  beforeAll(async () => {
    ledger = await startTestLedger();
    wallet = (await openWallet(ledger.app)).accountId;
    otherWallet = (await openWallet(ledger.app)).accountId;
    const shop = (await post('/v1/entities', { kind: 'merchant', displayName: 'Shop' })).json<{ entityId: string }>();
    shopAccount = (
      await post('/v1/accounts', { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' })
    ).json<{ accountId: string }>().accountId;
  });
  afterAll(async () => {
    await ledger.close();
  });

  async function answeredTwice(url: string, payload: object, status: number) {
    const key = randomUUID();
    const first = await post(url, payload, key);
    expect(first.statusCode, first.body).toBe(status);
    const again = await post(url, payload, key);
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([
      status,
      'true',
      first.json(),
    ]);
    return first.json<Record<string, string>>();
  }

  /** What `run` appends: each multi-stream append by its streams' kinds, each single append by its stream. */
  async function appendsOf<T>(run: () => Promise<T>): Promise<{ value: T; calls: string[] }> {
    const store = ledger.service.eventStore;
    const calls: string[] = [];
    const [appendToStream, appendToStreams] = [store.appendToStream.bind(store), store.appendToStreams?.bind(store)];
    store.appendToStream = (...args) => {
      calls.push(`one:${args[0]}`);
      return appendToStream(...args);
    };
    if (appendToStreams) {
      store.appendToStreams = (appends) => {
        calls.push(`many:${appends.map((a) => a.streamId.split('-')[0]).join(',')}`);
        return appendToStreams(appends);
      };
    }
    try {
      return { value: await run(), calls };
    } finally {
      store.appendToStream = appendToStream;
      if (appendToStreams) store.appendToStreams = appendToStreams;
    }
  }

  it('a recharge, a payment and a transfer replay exactly, with the position GET by id gives', async () => {
    const recharged = await answeredTwice(
      '/v1/recharges',
      { accountId: wallet, amount: '50.00', currency: 'CNY', payer: await payerOf(ledger.app) },
      201,
    );
    const readRecharge = await ledger.inject({ method: 'GET', url: `/v1/recharges/${recharged['rechargeId']}` });
    expect(readRecharge.json()).toEqual(recharged);

    const paid = await answeredTwice(
      '/v1/payments',
      {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount: '12.00',
        currency: 'CNY',
        merchantOrderNo: 'OC-1',
      },
      201,
    );
    const readPayment = await ledger.inject({ method: 'GET', url: `/v1/payments/${paid['paymentId']}` });
    expect(readPayment.json()).toEqual(paid);

    const moved = await answeredTwice(
      '/v1/transfers',
      { fromAccountId: wallet, toAccountId: otherWallet, amount: '3.00', currency: 'CNY' },
      201,
    );
    const readTransfer = await ledger.inject({ method: 'GET', url: `/v1/transfers/${moved['transferId']}` });
    expect(readTransfer.json()).toEqual(moved);

    // The position answers a read-your-writes wait with every effect of the operations applied.
    const balance = await ledger.inject({
      method: 'GET',
      url: `/v1/accounts/${wallet}?minPosition=${moved['position']}`,
    });
    expect(balance.json()).toMatchObject({ balance: '35.00' });
  });

  it('a refund replays exactly, with the position GET by id gives, in one multi-stream append', async () => {
    const paid = await answeredTwice(
      '/v1/payments',
      { payerAccountId: wallet, payeeAccountId: shopAccount, amount: '4.00', currency: 'CNY', merchantOrderNo: 'OC-3' },
      201,
    );
    const url = `/v1/payments/${paid['paymentId']}/refunds`;
    const payload = { refundNo: 'OC-3-R1', amount: '1.50', currency: 'CNY' };
    const key = randomUUID();
    const { value: first, calls } = await appendsOf(() => post(url, payload, key));
    expect(first.statusCode, first.body).toBe(201);
    const again = await post(url, payload, key);
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([201, 'true', first.json()]);
    // Request, payee debit, payer credit, completion, the key's claim and answer: one commit where the
    // engine can (the payment stream last: its last event's position answers); else one append at a time.
    if (ledger.service.commands.oneCommit) {
      expect(calls).toEqual(['many:account,account,payment,idempotency']);
    } else {
      expect(calls.filter((c) => c.startsWith('many:'))).toEqual([]);
      expect(calls.filter((c) => c.startsWith('one:account-'))).toHaveLength(2);
    }
    const refunded = first.json<Record<string, string>>();
    const readPayment = await ledger.inject({ method: 'GET', url: `/v1/payments/${paid['paymentId']}` });
    const { refundId, ...view } = refunded;
    expect(refundId).toEqual(expect.any(String));
    expect(readPayment.json()).toEqual(view);
    expect(view).toMatchObject({ refundedAmount: '1.50' });
    const payer = await ledger.inject({ method: 'GET', url: `/v1/accounts/${wallet}?minPosition=${view['position']}` });
    const shop = await ledger.inject({ method: 'GET', url: `/v1/accounts/${shopAccount}` });
    expect([payer.json().balance, shop.json().balance]).toEqual(['32.50', '14.50']);
  });

  /** An account's balance (the wallet's by default) as the command side holds it (the read models may lag without a position). */
  async function balanceMinor(accountId = wallet): Promise<bigint> {
    const state = await ledger.service.commands.getAccountState(accountId);
    if (!state.exists) throw new Error(`account ${accountId} exists`);
    return state.balanceMinor;
  }

  it('a withdrawal (paid out or declined) replays exactly, in two multi-stream appends', async () => {
    for (const [amount, status] of [
      ['1.00', 201],
      ['0.99', 422],
    ] as const) {
      const payload = { accountId: wallet, amount, currency: 'CNY', payee: await payeeOf(ledger.app) };
      const key = randomUUID();
      const before = await balanceMinor();
      // The 0.99 payout is the one the channels decline (no amount is declined by its digits).
      const send = () => appendsOf(() => post('/v1/withdrawals', payload, key));
      const { value: first, calls } = await (status === 422
        ? whileChannelsDecline(ledger.service.channels, send)
        : send());
      expect(first.statusCode, first.body).toBe(status);
      const again = await post('/v1/withdrawals', payload, key);
      expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([
        status,
        'true',
        first.json(),
      ]);
      // The request and the debit with the key's claim, durable before the payout; then the completion (or
      // the debit's reversal and the failure) with the answer. The process appends one stream at a time.
      if (ledger.service.commands.oneCommit) {
        expect(calls).toEqual([
          'many:withdrawal,account,idempotency',
          status === 201 ? 'many:withdrawal,idempotency' : 'many:account,withdrawal,idempotency',
        ]);
      } else {
        expect(calls.filter((c) => c.startsWith('many:'))).toEqual([]);
      }
      expect(await balanceMinor()).toBe(before - (status === 201 ? 100n : 0n));
    }
    const answered = (
      await post('/v1/withdrawals', {
        accountId: wallet,
        amount: '2.00',
        currency: 'CNY',
        payee: await payeeOf(ledger.app),
      })
    ).json<Record<string, string>>();
    const read = await ledger.inject({ method: 'GET', url: `/v1/withdrawals/${answered['withdrawalId']}` });
    expect(read.json()).toEqual(answered);
  });

  it('a freeze replays exactly, with the position GET by id gives, in one multi-stream append', async () => {
    const url = `/v1/accounts/${wallet}/freezes`;
    const payload = { amount: '1.25', currency: 'CNY', reason: 'order OC-5' };
    const key = randomUUID();
    const before = await balanceMinor();
    const { value: first, calls } = await appendsOf(() => post(url, payload, key));
    expect(first.statusCode, first.body).toBe(201);
    const again = await post(url, payload, key);
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([201, 'true', first.json()]);
    // The request, FundsFrozen on the account, the confirmation and the key's claim and answer.
    if (ledger.service.commands.oneCommit) expect(calls).toEqual(['many:account,freeze,idempotency']);
    else expect(calls.filter((c) => c.startsWith('many:'))).toEqual([]);
    const placed = first.json<Record<string, string>>();
    expect(placed).toMatchObject({ status: 'placed', amount: '1.25', remaining: '1.25' });
    const read = await ledger.inject({ method: 'GET', url: `/v1/freezes/${placed['freezeId']}` });
    expect(read.json()).toEqual(placed);
    const account = await ledger.service.commands.getAccountState(wallet);
    if (!account.exists) throw new Error('the wallet exists');
    expect([account.balanceMinor, account.frozenMinor >= 125n]).toEqual([before, true]);
    const beyond = await answeredTwice(url, { amount: '100000.00', currency: 'CNY', reason: 'too much' }, 422);
    expect(beyond['code']).toBe('insufficient_funds');
  });

  /** A shop account of its own, paid `amount` from the wallet: the payment's answer. */
  async function paidToNewShop(amount: string, orderNo: string) {
    const shop = (await post('/v1/entities', { kind: 'merchant', displayName: orderNo })).json<{ entityId: string }>();
    const account = (
      await post('/v1/accounts', { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' })
    ).json<{ accountId: string }>().accountId;
    const payload = {
      payerAccountId: wallet,
      payeeAccountId: account,
      amount,
      currency: 'CNY',
      merchantOrderNo: orderNo,
    };
    return { account, paid: await answeredTwice('/v1/payments', payload, 201) };
  }

  it('a cancellation replays exactly, with the position GET by id gives, in one multi-stream append', async () => {
    const { account, paid } = await paidToNewShop('3.00', 'OC-6');
    const url = `/v1/payments/${paid['paymentId']}/cancel`;
    const before = await balanceMinor();
    const key = randomUUID();
    const { value: first, calls } = await appendsOf(() => post(url, { reason: 'asked' }, key));
    expect(first.statusCode, first.body).toBe(200);
    const again = await post(url, { reason: 'asked' }, key);
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([200, 'true', first.json()]);
    // The request, the payee's debit, the payer's credit, the completion and the key's claim and answer.
    if (ledger.service.commands.oneCommit) expect(calls).toEqual(['many:account,account,payment,idempotency']);
    else expect(calls.filter((c) => c.startsWith('many:'))).toEqual([]);
    const cancelled = first.json<Record<string, string>>();
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    const read = await ledger.inject({ method: 'GET', url: `/v1/payments/${paid['paymentId']}` });
    expect(read.json()).toEqual(cancelled);
    const shop = await ledger.inject({
      method: 'GET',
      url: `/v1/accounts/${account}?minPosition=${cancelled['position']}`,
    });
    expect([await balanceMinor(), shop.json().balance]).toEqual([before + 300n, '0.00']);
    // Cancelled already: a new key answers the payment as it is, recording nothing.
    const { value: twice, calls: none } = await appendsOf(() => post(url, {}));
    expect([twice.statusCode, twice.json()]).toEqual([200, cancelled]);
    expect(none.filter((c) => !c.includes('idempotency'))).toEqual([]);
  });

  it('a cancellation refused (refunded before, or the merchant cannot cover it) replays the refusal on both paths', async () => {
    const { paid } = await paidToNewShop('2.00', 'OC-7');
    await answeredTwice(
      `/v1/payments/${paid['paymentId']}/refunds`,
      { refundNo: 'OC-7-R1', amount: '0.50', currency: 'CNY' },
      201,
    );
    const refunded = await answeredTwice(`/v1/payments/${paid['paymentId']}/cancel`, {}, 409);
    expect(refunded['code']).toBe('operation_state_conflict');

    // Most of the merchant's money is frozen: the payee's debit is refused, and the failed cancellation recorded.
    const moved = await paidToNewShop('2.00', 'OC-8');
    await answeredTwice(`/v1/accounts/${moved.account}/freezes`, { amount: '1.50', currency: 'CNY' }, 201);
    const before = await balanceMinor();
    const uncovered = await answeredTwice(`/v1/payments/${moved.paid['paymentId']}/cancel`, {}, 422);
    expect(uncovered['code']).toBe('insufficient_funds');
    const read = await ledger.inject({ method: 'GET', url: `/v1/payments/${moved.paid['paymentId']}` });
    expect(read.json()).toMatchObject({ status: 'completed' });
    expect(await balanceMinor()).toBe(before);
  });

  it("a freeze's release and deduction replay exactly, each in one multi-stream append, and refusals replay", async () => {
    const [walletBefore, shopBefore] = [await balanceMinor(), await balanceMinor(shopAccount)];
    const placed = await answeredTwice(`/v1/accounts/${wallet}/freezes`, { amount: '4.00', currency: 'CNY' }, 201);
    const freezeUrl = `/v1/freezes/${placed['freezeId']}`;
    const cases = [
      {
        url: `${freezeUrl}/release`,
        payload: { amount: '1.00', currency: 'CNY' },
        status: 200,
        parts: 'account,freeze',
      },
      {
        url: `${freezeUrl}/deduct`,
        payload: { amount: '2.50', currency: 'CNY', payeeAccountId: shopAccount, memo: 'shipped' },
        status: 201,
        parts: 'account,account,freeze',
      },
    ];
    for (const { url, payload, status, parts } of cases) {
      const key = randomUUID();
      const { value: first, calls } = await appendsOf(() => post(url, payload, key));
      expect(first.statusCode, first.body).toBe(status);
      const again = await post(url, payload, key);
      expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([
        status,
        'true',
        first.json(),
      ]);
      if (ledger.service.commands.oneCommit) expect(calls).toEqual([`many:${parts},idempotency`]);
      else expect(calls.filter((c) => c.startsWith('many:'))).toEqual([]);
      const { deductionId, ...view } = first.json<Record<string, string>>();
      expect(deductionId === undefined || typeof deductionId === 'string').toBe(true);
      const read = await ledger.inject({ method: 'GET', url: freezeUrl });
      expect(read.json()).toEqual(view);
    }
    const freeze = (await ledger.inject({ method: 'GET', url: freezeUrl })).json<Record<string, unknown>>();
    expect(freeze).toMatchObject({ remaining: '0.50', released: '1.00' });
    expect(freeze['deductions']).toEqual([expect.objectContaining({ amount: '2.50', status: 'completed' })]);
    // 1.00 back to available, 2.50 from the wallet's frozen funds to the shop, 0.50 still frozen.
    expect([await balanceMinor(), await balanceMinor(shopAccount)]).toEqual([walletBefore - 250n, shopBefore + 250n]);

    const tooMuchReleased = await answeredTwice(`${freezeUrl}/release`, { amount: '0.51', currency: 'CNY' }, 422);
    expect(tooMuchReleased['code']).toBe('release_exceeds_frozen');
    const tooMuchDeducted = await answeredTwice(
      `${freezeUrl}/deduct`,
      { amount: '0.51', currency: 'CNY', payeeAccountId: shopAccount },
      422,
    );
    expect(tooMuchDeducted['code']).toBe('deduction_exceeds_frozen');
    expect((await ledger.inject({ method: 'GET', url: freezeUrl })).json()).toEqual(freeze);
  });

  it('a pre-authorisation, its completion, the completion cancelled and the cancellation each replay exactly, in one multi-stream append', async () => {
    const [walletBefore, shopBefore] = [await balanceMinor(), await balanceMinor(shopAccount)];
    const frozenMinor = async () => {
      const state = await ledger.service.commands.getAccountState(wallet);
      if (!state.exists) throw new Error('the wallet exists');
      return state.frozenMinor;
    };
    const frozenBefore = await frozenMinor();
    const authorisation = {
      payerAccountId: wallet,
      payeeAccountId: shopAccount,
      amount: '5.00',
      currency: 'CNY',
      merchantOrderNo: 'OC-9',
    };
    let preauthId = '';
    const url = (path: string) => (path === '' ? '/v1/preauths' : `/v1/preauths/${preauthId}${path}`);
    // The payer is held (the payee only checked); captured below the hold (the rest released) to the payee;
    // the capture given back and held again; the hold released. Each with the key's claim and answer.
    const steps = [
      {
        path: '',
        payload: authorisation,
        status: 201,
        parts: 'account,preauth',
        view: { status: 'authorised' },
        frozen: 500n,
        moved: 0n,
      },
      {
        path: '/complete',
        payload: { amount: '3.00', currency: 'CNY' },
        status: 200,
        parts: 'account,account,preauth',
        view: { status: 'completed', captured: '3.00' },
        frozen: 0n,
        moved: 300n,
      },
      {
        path: '/completion/cancel',
        payload: {},
        status: 200,
        parts: 'account,account,preauth',
        view: { status: 'authorised', captured: null },
        frozen: 500n,
        moved: 0n,
      },
      {
        path: '/cancel',
        payload: {},
        status: 200,
        parts: 'account,preauth',
        view: { status: 'cancelled', cancelReason: 'merchant' },
        frozen: 0n,
        moved: 0n,
      },
    ];
    for (const step of steps) {
      const key = randomUUID();
      const { value: first, calls } = await appendsOf(() => post(url(step.path), step.payload, key));
      expect(first.statusCode, first.body).toBe(step.status);
      const again = await post(url(step.path), step.payload, key);
      expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([
        step.status,
        'true',
        first.json(),
      ]);
      if (ledger.service.commands.oneCommit) expect(calls).toEqual([`many:${step.parts},idempotency`]);
      else expect(calls.filter((c) => c.startsWith('many:'))).toEqual([]);
      const answered = first.json<Record<string, string>>();
      expect(answered).toMatchObject(step.view);
      preauthId = answered['preauthId']!;
      const read = await ledger.inject({ method: 'GET', url: `/v1/preauths/${preauthId}` });
      expect(read.json()).toEqual(answered);
      expect([await frozenMinor(), await balanceMinor(), await balanceMinor(shopAccount)]).toEqual([
        frozenBefore + step.frozen,
        walletBefore - step.moved,
        shopBefore + step.moved,
      ]);
    }
  });

  it('pre-authorisation refusals replay as the refusal on both paths, recording nothing', async () => {
    const tooMuch = await answeredTwice(
      '/v1/preauths',
      {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount: '100000.00',
        currency: 'CNY',
        merchantOrderNo: 'OC-10',
      },
      422,
    );
    expect(tooMuch['code']).toBe('insufficient_funds');
    const held = await answeredTwice(
      '/v1/preauths',
      {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount: '1.00',
        currency: 'CNY',
        merchantOrderNo: 'OC-11',
      },
      201,
    );
    const preauthUrl = `/v1/preauths/${held['preauthId']}`;
    const over = await answeredTwice(`${preauthUrl}/complete`, { amount: '1.01', currency: 'CNY' }, 422);
    expect(over['code']).toBe('capture_exceeds_authorisation');
    const notCompleted = await answeredTwice(`${preauthUrl}/completion/cancel`, {}, 409);
    expect(notCompleted['code']).toBe('operation_state_conflict');
    expect((await ledger.inject({ method: 'GET', url: preauthUrl })).json()).toEqual(held);
    const cancelled = await answeredTwice(`${preauthUrl}/cancel`, {}, 200);
    const notAuthorised = await answeredTwice(`${preauthUrl}/complete`, { amount: '0.50', currency: 'CNY' }, 409);
    expect(notAuthorised['code']).toBe('operation_state_conflict');
    // Cancelled already: a new key answers it as it is.
    expect((await post(`${preauthUrl}/cancel`, {})).json()).toEqual(cancelled);
  });

  it('a refusal replays as the refusal, recording nothing else', async () => {
    const refused = await answeredTwice(
      '/v1/payments',
      {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount: '999.00',
        currency: 'CNY',
        merchantOrderNo: 'OC-2',
      },
      422,
    );
    expect(refused['code']).toBe('insufficient_funds');
    const payer = await payerOf(ledger.app);
    const declined = await whileChannelsDecline(ledger.service.channels, () =>
      answeredTwice('/v1/recharges', { accountId: wallet, amount: '10.99', currency: 'CNY', payer }, 422),
    );
    expect(declined['code']).toBe('channel_declined');
    const paid = await answeredTwice(
      '/v1/payments',
      { payerAccountId: wallet, payeeAccountId: shopAccount, amount: '2.00', currency: 'CNY', merchantOrderNo: 'OC-4' },
      201,
    );
    const tooMuch = await answeredTwice(
      `/v1/payments/${paid['paymentId']}/refunds`,
      { refundNo: 'OC-4-R1', amount: '2.01', currency: 'CNY' },
      422,
    );
    expect(tooMuch['code']).toBe('refund_exceeds_payment');
    const read = await ledger.inject({ method: 'GET', url: `/v1/payments/${paid['paymentId']}` });
    expect(read.json()).toEqual(paid);
  });
});

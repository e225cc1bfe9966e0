import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whileChannelsDecline } from '../support/test-channels.js';
import {
  createCaller,
  startTestLedger,
  type Credentials,
  type TestLedger,
  payerOf,
  payeeOf,
} from '../support/test-ledger.js';

describe('payments, refunds, freezes, pre-authorisations, transfers and withdrawals over HTTP', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let rival: Credentials;
  let wallet: string;
  let shopAccount: string;

  const key = () => ({ 'idempotency-key': randomUUID() });
  const post = (url: string, payload: object, as?: Credentials) =>
    ledger.inject({ method: 'POST', url, payload, headers: key() }, as);
  const get = (url: string, as?: Credentials) => ledger.inject({ method: 'GET', url }, as);
  const balanceOf = async (accountId: string, position: string) =>
    (await get(`/v1/accounts/${accountId}?minPosition=${position}`)).json();
  /** The wallet owner's payment password: the merchant's checkout collects it as the payer's consent. */
  const PAYER_PASSWORD = '739184';
  const pay = (
    orderNo: string,
    amount: string,
    as: Credentials = shop,
    payerPassword: string | undefined = PAYER_PASSWORD,
  ) =>
    post(
      '/v1/payments',
      {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount,
        currency: 'CNY',
        merchantOrderNo: orderNo,
        description: 'test order',
        ...(payerPassword ? { payerPassword } : {}),
      },
      as,
    );

  beforeAll(async () => {
    ledger = await startTestLedger();
    shop = await createCaller(ledger.service, 'merchant', 'Shop');
    rival = await createCaller(ledger.service, 'merchant', 'Rival');
    const payer = (await post('/v1/entities', { kind: 'user', displayName: 'Payer' })).json();
    expect(
      (await post(`/v1/entities/${payer.entityId}/payment-password`, { newPassword: PAYER_PASSWORD })).statusCode,
    ).toBe(200);
    wallet = (await post('/v1/accounts', { ownerId: payer.entityId, type: 'wallet', currency: 'CNY' })).json()
      .accountId;
    shopAccount = (
      await post('/v1/accounts', { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' })
    ).json().accountId;
    const funded = await post('/v1/recharges', {
      accountId: wallet,
      amount: '500.00',
      currency: 'CNY',
      payer: await payerOf(ledger.app),
    });

    expect(funded.statusCode).toBe(201);
  });
  afterAll(async () => {
    await ledger.close();
  });

  describe('payments', () => {
    it('pays, and the order is found by id and by merchant order number', async () => {
      const paid = await pay('SO-1', '12.50');
      expect(paid.statusCode).toBe(201);
      const body = paid.json();
      expect(body).toMatchObject({
        status: 'completed',
        amount: '12.50',
        currency: 'CNY',
        merchantId: shop.entityId,
        merchantOrderNo: 'SO-1',
        refundedAmount: '0.00',
        refunds: [],
        failure: null,
      });
      expect((await get(`/v1/payments/${body.paymentId}`, shop)).json()).toMatchObject({
        paymentId: body.paymentId,
        status: 'completed',
      });
      const byOrderNo = (url: string, as?: Credentials) =>
        get(`${url}&minPosition=${body.position}`, as).then((r) =>
          r.json().items.map((p: { operationId: string }) => p.operationId),
        );
      expect(await byOrderNo('/v1/payments?merchantOrderNo=SO-1', shop)).toEqual([body.paymentId]);
      expect(await byOrderNo(`/v1/payments?merchantOrderNo=SO-1&merchantId=${shop.entityId}`)).toEqual([
        body.paymentId,
      ]);
      expect((await balanceOf(shopAccount, body.position)).balance).toBe('12.50');
    });

    it('hides a payment from another merchant, and refuses to pay into an account the merchant does not own', async () => {
      const paid = (await pay('SO-2', '1.00')).json();
      expect((await get(`/v1/payments/${paid.paymentId}`, rival)).statusCode).toBe(404);
      // Another merchant's account answers like one that does not exist: no existence oracle.
      const intrusion = await pay('SO-3', '1.00', rival);
      expect(intrusion.statusCode).toBe(404);
      expect(intrusion.json().code).toBe('account_not_found');
    });

    it("takes money from a user's wallet only with the user's payment password", async () => {
      const missing = await pay('SO-consent-1', '1.00', shop, '');
      expect(missing.statusCode).toBe(403);
      expect(missing.json().code).toBe('payer_consent_required');
      const wrong = await pay('SO-consent-2', '1.00', shop, '000000x');
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().code).toBe('payer_password_invalid');
      expect(wrong.body).not.toContain('000000x');
      const frozen = await post(`/v1/accounts/${wallet}/freezes`, { amount: '1.00', currency: 'CNY' }, shop);
      expect(frozen.json().code).toBe('payer_consent_required');
      const held = await post(
        '/v1/preauths',
        {
          payerAccountId: wallet,
          payeeAccountId: shopAccount,
          amount: '1.00',
          currency: 'CNY',
          merchantOrderNo: 'H-consent',
        },
        shop,
      );
      expect(held.json().code).toBe('payer_consent_required');
      // Guessing is slowed down: after five wrong passwords a payer is locked for a while (another payer,
      // so the rest of this file can still use the first one).
      const victim = (await post('/v1/entities', { kind: 'user', displayName: 'Victim' })).json();
      await post(`/v1/entities/${victim.entityId}/payment-password`, { newPassword: '582937' });
      const victimWallet = (
        await post('/v1/accounts', { ownerId: victim.entityId, type: 'wallet', currency: 'CNY' })
      ).json().accountId;
      const guess = (orderNo: string, payerPassword: string) =>
        post(
          '/v1/payments',
          {
            payerAccountId: victimWallet,
            payeeAccountId: shopAccount,
            amount: '1.00',
            currency: 'CNY',
            merchantOrderNo: orderNo,
            payerPassword,
          },
          shop,
        );
      for (let i = 0; i < 5; i += 1) expect((await guess(`SO-guess-${i}`, `99999${i}x`)).statusCode).toBe(403);
      const locked = await guess('SO-guess-locked', '582937');
      expect(locked.statusCode).toBe(429);
      expect(locked.json().code).toBe('payer_password_locked');
      expect(locked.headers['retry-after']).toBeDefined();
      // An operator (the platform's cashier) collected consent itself.
      expect((await pay('SO-consent-3', '1.00', ledger.operator, '')).statusCode).toBe(201);
    });

    it('refuses a reused order number with other terms (409) and insufficient funds (422), recording nothing', async () => {
      await pay('SO-4', '2.00');
      const reused = await pay('SO-4', '3.00');
      expect(reused.statusCode).toBe(409);
      expect(reused.json().code).toBe('duplicate_order_no');
      const tooMuch = await pay('SO-5', '100000.00');
      expect(tooMuch.statusCode).toBe(422);
      expect(tooMuch.json().code).toBe('insufficient_funds');
      const head = (await get('/v1/log/head')).json().position;
      expect((await get(`/v1/payments?merchantOrderNo=SO-5&minPosition=${head}`, shop)).json().items).toEqual([]);
    });

    it('refunds in parts up to the amount paid, then refuses more', async () => {
      const paid = (await pay('SO-6', '30.00')).json();
      const refund = (refundNo: string, amount: string) =>
        post(`/v1/payments/${paid.paymentId}/refunds`, { refundNo, amount, currency: 'CNY' }, shop);
      expect((await refund('RF-1', '10.00')).statusCode).toBe(201);
      const second = await refund('RF-2', '20.00');
      expect(second.json()).toMatchObject({ refundedAmount: '30.00' });
      expect(second.json().refunds).toHaveLength(2);
      const over = await refund('RF-3', '0.01');
      expect(over.statusCode).toBe(422);
      expect(over.json().code).toBe('refund_exceeds_payment');
    });

    it('cancels a same-day payment in full', async () => {
      const paid = (await pay('SO-7', '8.00')).json();
      const cancelled = await post(`/v1/payments/${paid.paymentId}/cancel`, { reason: 'customer asked' }, shop);
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json().status).toBe('cancelled');
      const again = await post(
        `/v1/payments/${paid.paymentId}/refunds`,
        { refundNo: 'x', amount: '1.00', currency: 'CNY' },
        shop,
      );
      expect(again.json().code).toBe('operation_state_conflict');
    });
  });

  describe('freezes', () => {
    it('freezes, releases part, deducts part to the merchant', async () => {
      const placed = await post(
        `/v1/accounts/${wallet}/freezes`,
        { amount: '60.00', currency: 'CNY', reason: 'order SO-42', payerPassword: PAYER_PASSWORD },
        shop,
      );
      expect(placed.statusCode).toBe(201);
      const freeze = placed.json();
      expect(freeze).toMatchObject({ status: 'placed', amount: '60.00', remaining: '60.00', placedBy: shop.entityId });
      const afterFreeze = await balanceOf(wallet, freeze.position);
      // balance = available + frozen: 60.00 moved from available to frozen.
      expect(BigInt(afterFreeze.available.replace('.', '')) + 6_000n).toBe(BigInt(afterFreeze.balanceMinor));
      expect(afterFreeze.frozen).toBe('60.00');

      const released = await post(`/v1/freezes/${freeze.freezeId}/release`, { amount: '10.00', currency: 'CNY' }, shop);
      expect(released.json()).toMatchObject({ remaining: '50.00', released: '10.00' });
      const deducted = await post(
        `/v1/freezes/${freeze.freezeId}/deduct`,
        { amount: '45.00', currency: 'CNY', payeeAccountId: shopAccount, memo: 'shipped' },
        shop,
      );
      expect(deducted.statusCode).toBe(201);
      expect(deducted.json()).toMatchObject({ remaining: '5.00' });
      const over = await post(
        `/v1/freezes/${freeze.freezeId}/deduct`,
        { amount: '5.01', currency: 'CNY', payeeAccountId: shopAccount },
        shop,
      );
      expect(over.json().code).toBe('deduction_exceeds_frozen');
      expect((await get(`/v1/freezes/${freeze.freezeId}`, rival)).statusCode).toBe(404);
      const rest = await post(`/v1/freezes/${freeze.freezeId}/release`, {}, shop);
      expect(rest.json()).toMatchObject({ remaining: '0.00' });
      expect((await balanceOf(wallet, rest.json().position)).frozen).toBe('0.00');
    });
  });

  describe('pre-authorisations', () => {
    it('authorises, completes below the hold, cancels the completion (valid again), then cancels the authorisation', async () => {
      const held = await post(
        '/v1/preauths',
        {
          payerAccountId: wallet,
          payeeAccountId: shopAccount,
          amount: '100.00',
          currency: 'CNY',
          merchantOrderNo: 'HOTEL-1',
          payerPassword: PAYER_PASSWORD,
        },
        shop,
      );
      expect(held.statusCode).toBe(201);
      const preauth = held.json();
      expect(preauth).toMatchObject({ status: 'authorised', amount: '100.00', captured: null });
      expect((await balanceOf(wallet, preauth.position)).frozen).toBe('100.00');

      const over = await post(
        `/v1/preauths/${preauth.preauthId}/complete`,
        { amount: '100.01', currency: 'CNY' },
        shop,
      );
      expect(over.json().code).toBe('capture_exceeds_authorisation');
      const completed = await post(
        `/v1/preauths/${preauth.preauthId}/complete`,
        { amount: '80.00', currency: 'CNY' },
        shop,
      );
      expect(completed.json()).toMatchObject({ status: 'completed', captured: '80.00' });
      expect((await balanceOf(wallet, completed.json().position)).frozen).toBe('0.00');
      const twice = await post(`/v1/preauths/${preauth.preauthId}/complete`, { amount: '1.00', currency: 'CNY' }, shop);
      expect(twice.statusCode).toBe(409);

      const uncompleted = await post(`/v1/preauths/${preauth.preauthId}/completion/cancel`, {}, shop);
      expect(uncompleted.json()).toMatchObject({ status: 'authorised', captured: null });
      expect((await balanceOf(wallet, uncompleted.json().position)).frozen).toBe('100.00');
      const cancelled = await post(`/v1/preauths/${preauth.preauthId}/cancel`, {}, shop);
      expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelReason: 'merchant' });
      expect((await balanceOf(wallet, cancelled.json().position)).frozen).toBe('0.00');
    });
  });

  describe('transfers and withdrawals', () => {
    it('transfers out of a merchant account it owns and withdraws to a card; a declined payout is credited back', async () => {
      const flags = await ledger.inject({
        method: 'PUT',
        url: `/v1/accounts/${shopAccount}/flags`,
        headers: key(),
        payload: {
          flags: {
            mayRecharge: false,
            mayWithdraw: true,
            mayPay: true,
            mayReceive: true,
            maySendTransfers: true,
            mayReceiveTransfers: false,
            mayOverdraw: false,
            overdraftLimit: '0',
          },
          reason: 'allow payouts to wallets',
        },
      });
      expect(flags.statusCode).toBe(200);
      const moved = await post(
        '/v1/transfers',
        { fromAccountId: shopAccount, toAccountId: wallet, amount: '1.00', currency: 'CNY', memo: 'cashback' },
        shop,
      );
      expect(moved.statusCode).toBe(201);
      expect(moved.json().status).toBe('completed');
      const paidOut = await post(
        '/v1/withdrawals',
        { accountId: shopAccount, amount: '2.00', currency: 'CNY', payee: await payeeOf(ledger.app) },
        shop,
      );
      // The bank pays out for 1.00 flat, the card network for 2.00: the bank is chosen.
      expect(paidOut.json()).toMatchObject({ status: 'completed', channel: 'sim-citybank', channelFee: '1.00' });
      const payee = await payeeOf(ledger.app);
      const declined = await whileChannelsDecline(ledger.service.channels, () =>
        post('/v1/withdrawals', { accountId: shopAccount, amount: '0.99', currency: 'CNY', payee }, shop),
      );
      expect(declined.statusCode).toBe(422);
      expect(declined.json().code).toBe('channel_declined');
      const cardNumber = await post(
        '/v1/withdrawals',
        {
          accountId: shopAccount,
          amount: '1.00',
          currency: 'CNY',
          payee: { ...payee, contracts: [{ channelId: 'sim-citybank', contractNo: '6222-0212-3456-7890' }] },
        },
        shop,
      );
      expect(cardNumber.statusCode).toBe(400);
      expect(cardNumber.body).not.toContain('6222');
      const fromOthers = await post(
        '/v1/transfers',
        { fromAccountId: wallet, toAccountId: shopAccount, amount: '1.00', currency: 'CNY' },
        shop,
      );
      expect(fromOthers.statusCode).toBe(404);
      expect(fromOthers.json().code).toBe('account_not_found');
    });
  });

  describe('account controls', () => {
    it('lets an operator freeze a whole account, and refuses merchants', async () => {
      const byMerchant = await ledger.inject(
        {
          method: 'PUT',
          url: `/v1/accounts/${wallet}/status`,
          headers: key(),
          payload: { status: 'frozen', reason: 'x' },
        },
        shop,
      );
      expect(byMerchant.statusCode).toBe(403);
      const frozen = await ledger.inject({
        method: 'PUT',
        url: `/v1/accounts/${wallet}/status`,
        headers: key(),
        payload: { status: 'frozen', reason: 'risk review' },
      });
      expect(frozen.json()).toMatchObject({ status: 'frozen' });
      const refused = await pay('SO-frozen', '1.00');
      expect(refused.json()).toMatchObject({ code: 'account_not_active', details: { status: 'frozen' } });
      await ledger.inject({
        method: 'PUT',
        url: `/v1/accounts/${wallet}/status`,
        headers: key(),
        payload: { status: 'active', reason: 'cleared' },
      });
      expect((await pay('SO-thawed', '1.00')).statusCode).toBe(201);
    });
  });

  it('documents every command route in OpenAPI', async () => {
    const doc = (await ledger.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/payments',
        '/v1/payments/{paymentId}',
        '/v1/payments/{paymentId}/cancel',
        '/v1/payments/{paymentId}/refunds',
        '/v1/accounts/{accountId}/freezes',
        '/v1/freezes/{freezeId}/release',
        '/v1/freezes/{freezeId}/deduct',
        '/v1/preauths',
        '/v1/preauths/{preauthId}/cancel',
        '/v1/preauths/{preauthId}/complete',
        '/v1/preauths/{preauthId}/completion/cancel',
        '/v1/withdrawals',
        '/v1/transfers',
      ]),
    );
  });

  it('reads each stream a payment touches from the event store once, not once per check', async () => {
    const store = ledger.service.eventStore;
    const reads = new Map<string, number>();
    const readStream = store.readStream.bind(store);
    store.readStream = (streamId, options) => {
      reads.set(streamId, (reads.get(streamId) ?? 0) + 1);
      return readStream(streamId, options);
    };
    try {
      expect((await pay(`order-${randomUUID()}`, '1.00')).statusCode).toBe(201);
    } finally {
      store.readStream = readStream;
    }
    // The payer, the payee, the payer's owner (its consent) and the new payment's stream, each once (and
    // the caller's entity, when its cached copy is due for a refresh). In one commit the new payment's
    // stream is not read at all: its expected revision (no stream) says whether it is new.
    expect(reads.get(`account-${wallet}`)).toBe(1);
    expect(reads.get(`account-${shopAccount}`)).toBe(1);
    const newStreamReads = ledger.service.commands.oneCommit ? 1 : 2;
    expect([...reads.keys()].filter((streamId) => /^(entity-u-|payment-)/.test(streamId))).toHaveLength(newStreamReads);
    expect([...reads.entries()].filter(([, count]) => count > 1)).toEqual([]);
  });
});

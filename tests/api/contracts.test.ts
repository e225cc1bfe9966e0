import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCaller,
  openWallet,
  recharge,
  registerUser,
  startTestLedger,
  type Credentials,
  type TestLedger,
  payerOf,
} from '../support/test-ledger.js';

/** The API's contracts with its clients: what it shows it takes back, one shape for every refusal. */
describe('API contracts', () => {
  let ledger: TestLedger;
  let shop: Credentials;
  let rival: Credentials;
  let shopAccount: string;
  let shopAccountPosition: string;

  const post = (url: string, payload?: object, as?: Credentials) =>
    ledger.inject({ method: 'POST', url, ...(payload ? { payload } : {}) }, as);
  const put = (url: string, payload: object) => ledger.inject({ method: 'PUT', url, payload });

  beforeAll(async () => {
    ledger = await startTestLedger();
    shop = await createCaller(ledger.service, 'merchant', 'Shop');
    rival = await createCaller(ledger.service, 'merchant', 'Rival');
    const opened = await post('/v1/accounts', { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' });
    expect(opened.statusCode, opened.body).toBe(201);
    shopAccount = opened.json().accountId;
    shopAccountPosition = opened.json().position;
  });
  afterAll(async () => {
    await ledger.close();
  });

  /** An operator's payment from a wallet into the shop's account. */
  const payShop = (payerAccountId: string, amount: string, merchantOrderNo: string) =>
    post('/v1/payments', { payerAccountId, payeeAccountId: shopAccount, amount, currency: 'CNY', merchantOrderNo });

  describe('what the API returns, it accepts', () => {
    it("an account's flags, as opened and as changed, sent back unchanged", async () => {
      const opened = await post('/v1/accounts', {
        ownerId: await registerUser(ledger.app),
        type: 'wallet',
        currency: 'CNY',
      });
      const { accountId, flags, status } = opened.json();
      expect(flags.overdraftLimit).toBe('0.00');
      const changed = await put(`/v1/accounts/${accountId}/flags`, { flags, reason: 'round trip' });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json().flags).toEqual(flags);
      const again = await put(`/v1/accounts/${accountId}/flags`, { flags: changed.json().flags, reason: 'again' });
      expect(again.statusCode, again.body).toBe(200);
      const overdraft = await put(`/v1/accounts/${accountId}/flags`, {
        flags: { ...flags, mayOverdraw: true, overdraftLimit: '50.00' },
        reason: 'credit line',
      });
      expect(overdraft.json().flags.overdraftLimit).toBe('50.00');
      const back = await put(`/v1/accounts/${accountId}/flags`, {
        flags: overdraft.json().flags,
        reason: 'the same, as shown',
      });
      expect(back.statusCode, back.body).toBe(200);
      const sameStatus = await put(`/v1/accounts/${accountId}/status`, { status, reason: 'round trip' });
      expect(sameStatus.statusCode, sameStatus.body).toBe(200);
      expect(sameStatus.json().status).toBe(status);
    });

    it("an entity's payment settings, as the entity view shows them", async () => {
      const registered = await post('/v1/entities', { kind: 'user', displayName: 'Round trip' });
      const { entityId, mayPay, securityLevel } = registered.json();
      const changed = await post(`/v1/entities/${entityId}/payment-settings`, { mayPay, securityLevel });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json()).toMatchObject({ mayPay, securityLevel });
    });

    it('one view of an entity, with its accounts, from registration, settings and GET by id', async () => {
      const registered = await post('/v1/entities', { kind: 'user', displayName: 'One view' });
      expect(registered.json()).toMatchObject({ accounts: [], moreAccounts: false });
      const { entityId } = registered.json();
      const opened = await post('/v1/accounts', { ownerId: entityId, type: 'wallet', currency: 'CNY' });
      expect(opened.statusCode, opened.body).toBe(201);
      // The accounts come from the balances read model: wait until it has the new account.
      await ledger.inject({
        method: 'GET',
        url: `/v1/accounts?ownerId=${entityId}&minPosition=${opened.json().position}`,
      });
      const read = await ledger.inject({ method: 'GET', url: `/v1/entities/${entityId}` });
      const changed = await post(`/v1/entities/${entityId}/payment-settings`, { mayPay: false });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(Object.keys(changed.json()).sort()).toEqual(Object.keys(read.json()).sort());
      expect(changed.json()).toMatchObject({ mayPay: false, accounts: read.json().accounts, moreAccounts: false });
      expect(read.json().accounts.map((a: { accountId: string }) => a.accountId)).toEqual([opened.json().accountId]);
    });
  });

  describe('accounts are opened only for an existing owner of a fitting kind', () => {
    const open = (ownerId: string, type: string) => post('/v1/accounts', { ownerId, type, currency: 'CNY' });

    it('wallets for users, settlement accounts for merchants, platform kinds for the platform', async () => {
      const userId = await registerUser(ledger.app);
      expect((await open(userId, 'wallet')).statusCode).toBe(201);
      expect((await open(shop.entityId, 'merchant_settlement')).statusCode).toBe(201);
      for (const type of ['channel_clearing', 'fee_income', 'suspense', 'platform']) {
        const opened = await open('platform', type);
        expect(opened.statusCode, opened.body).toBe(201);
        expect(opened.json().ownerId).toBe('platform');
      }
    });

    it.each([
      ['a wallet for a merchant', 'merchant', 'wallet'],
      ['a settlement account for a user', 'user', 'merchant_settlement'],
      ['a platform account for a user', 'user', 'fee_income'],
      ['a wallet for the platform', 'platform', 'wallet'],
      ['a wallet for an operator', 'operator', 'wallet'],
    ])('refuses %s (422 account_owner_unfit) and records nothing', async (_name, owner, type) => {
      const ownerId =
        owner === 'merchant'
          ? shop.entityId
          : owner === 'user'
            ? await registerUser(ledger.app)
            : owner === 'operator'
              ? ledger.operator.entityId
              : 'platform';
      const before = await ledger.service.eventStore.headPosition();
      const refused = await open(ownerId, type);
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'account_owner_unfit', details: { ownerId, type } });
      expect(await ledger.service.eventStore.headPosition()).toBe(before);
    });

    it('refuses an owner that does not exist (404 entity_not_found)', async () => {
      const refused = await open('u-0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3', 'wallet');
      expect(refused.statusCode, refused.body).toBe(404);
      expect(refused.json().code).toBe('entity_not_found');
      expect((await open('u-1001', 'wallet')).json().code).toBe('entity_not_found');
    });
  });

  describe('every creating command needs an Idempotency-Key', () => {
    it.each([
      ['/v1/accounts', () => ({ ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' })],
      ['/v1/entities', () => ({ kind: 'user', displayName: 'No key' })],
      [
        '/v1/entities/{merchant}/keys',
        () => ({
          publicKey: generateKeyPairSync('ed25519')
            .publicKey.export({ type: 'spki', format: 'der' })
            .toString('base64'),
        }),
      ],
    ])('POST %s without one is refused (400) and records nothing', async (route, payload) => {
      const before = await ledger.service.eventStore.headPosition();
      const refused = await ledger.inject({
        method: 'POST',
        url: route.replace('{merchant}', shop.entityId),
        payload: payload(),
        withoutIdempotencyKey: true,
      });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'validation_failed' });
      expect(refused.body).toContain('idempotency-key');
      expect(await ledger.service.eventStore.headPosition()).toBe(before);
    });
  });

  describe('amounts in refusals are major units, like everywhere else', () => {
    it('a refund above what is left, and a release above what is frozen', async () => {
      const wallet = await openWallet(ledger.app);
      expect((await recharge(ledger.app, wallet.accountId, '100.00')).statusCode).toBe(201);
      const paid = await payShop(wallet.accountId, '12.50', 'MAJOR-1');
      expect(paid.statusCode, paid.body).toBe(201);
      const refund = await post(`/v1/payments/${paid.json().paymentId}/refunds`, {
        refundNo: 'R-1',
        amount: '20.00',
        currency: 'CNY',
      });
      expect(refund.statusCode).toBe(422);
      expect(refund.json()).toMatchObject({
        code: 'refund_exceeds_payment',
        details: { refundableAmount: '12.50', currency: 'CNY' },
      });
      expect(refund.json().detail).toContain('12.50 CNY');

      const frozen = await post(`/v1/accounts/${wallet.accountId}/freezes`, {
        amount: '30.00',
        currency: 'CNY',
        reason: 'order',
      });
      expect(frozen.statusCode, frozen.body).toBe(201);
      const release = await post(`/v1/freezes/${frozen.json().freezeId}/release`, { amount: '31.00', currency: 'CNY' });
      expect(release.statusCode).toBe(422);
      expect(release.json()).toMatchObject({
        code: 'release_exceeds_frozen',
        details: { remainingAmount: '30.00', currency: 'CNY' },
      });
      expect(JSON.stringify(release.json())).not.toMatch(/Minor|minor units|"3000"/);
    });
  });

  describe('a command whose body is optional takes no body at all', () => {
    it('cancels a payment and releases a freeze in full, posted with no body and no Content-Type', async () => {
      const wallet = await openWallet(ledger.app);
      expect((await recharge(ledger.app, wallet.accountId, '50.00')).statusCode).toBe(201);
      const paid = await payShop(wallet.accountId, '5.00', 'NO-BODY-1');
      expect(paid.statusCode, paid.body).toBe(201);
      const cancelled = await post(`/v1/payments/${paid.json().paymentId}/cancel`);
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(cancelled.json().status).toBe('cancelled');

      const frozen = await post(`/v1/accounts/${wallet.accountId}/freezes`, {
        amount: '10.00',
        currency: 'CNY',
        reason: 'order',
      });
      expect(frozen.statusCode, frozen.body).toBe(201);
      const released = await post(`/v1/freezes/${frozen.json().freezeId}/release`);
      expect(released.statusCode, released.body).toBe(200);
      expect(released.json()).toMatchObject({ remaining: '0.00', released: '10.00' });
    });
  });

  describe('one way to name the merchant: merchantId, when an operator acts', () => {
    it('an order is found by number with its merchant named; a merchant naming another finds nothing', async () => {
      const wallet = await openWallet(ledger.app);
      expect((await recharge(ledger.app, wallet.accountId, '10.00')).statusCode).toBe(201);
      const paid = await payShop(wallet.accountId, '1.00', 'NAMED-1');
      // The payee account's owner is the merchant, whoever signed.
      expect(paid.json().merchantId).toBe(shop.entityId);
      const found = async (query: string, as?: Credentials) => {
        const url = `/v1/payments?merchantOrderNo=NAMED-1&minPosition=${paid.json().position}${query}`;
        const response = await ledger.inject({ method: 'GET', url }, as);
        expect(response.statusCode, response.body).toBe(200);
        return response.json().items.map((item: { operationId: string }) => item.operationId);
      };
      const paymentId = paid.json().paymentId;
      expect(await found(`&merchantId=${shop.entityId}`)).toEqual([paymentId]);
      expect(await found(`&merchantId=${rival.entityId}`)).toEqual([]);
      expect(await found('', shop)).toEqual([paymentId]);
      expect(await found(`&merchantId=${shop.entityId}`, shop)).toEqual([paymentId]);
      expect(await found(`&merchantId=${rival.entityId}`, shop)).toEqual([]);
      expect(await found('', rival)).toEqual([]);
    });
  });

  describe('payer consent', () => {
    it('a payer who never set a payment password is told so, not "does not match"', async () => {
      const wallet = await openWallet(ledger.app);
      expect((await recharge(ledger.app, wallet.accountId, '10.00')).statusCode).toBe(201);
      const refused = await post(
        '/v1/payments',
        {
          payerAccountId: wallet.accountId,
          payeeAccountId: shopAccount,
          amount: '1.00',
          currency: 'CNY',
          merchantOrderNo: 'NO-PASSWORD-1',
          payerPassword: '739184',
        },
        shop,
      );
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json().code).toBe('payer_password_not_set');
    });
  });

  describe('no existence oracle', () => {
    it("another owner's account answers a merchant exactly like an unknown one; an operator sees it", async () => {
      const unknown = '2010000000000014';
      const answers = async (accountId: string) => {
        const read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountId}` }, rival);
        const statement = await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountId}/statement` }, rival);
        const recharged = await post(
          '/v1/recharges',
          { accountId, amount: '1.00', currency: 'CNY', payer: await payerOf(ledger.app) },
          rival,
        );
        const transfer = await post(
          '/v1/transfers',
          { fromAccountId: accountId, toAccountId: shopAccount, amount: '1.00', currency: 'CNY' },
          rival,
        );
        // The account number is the only difference between the two answers.
        return [read, statement, recharged, transfer].map((response) => ({
          status: response.statusCode,
          body: response.body.replaceAll(accountId, '<account>'),
        }));
      };
      const forOthers = await answers(shopAccount);
      expect(forOthers.every((answer) => answer.status === 404)).toBe(true);
      expect(forOthers).toEqual(await answers(unknown));
      const asOperator = await ledger.inject({
        method: 'GET',
        url: `/v1/accounts/${shopAccount}?minPosition=${shopAccountPosition}`,
      });
      expect(asOperator.statusCode).toBe(200);
    });
  });
});

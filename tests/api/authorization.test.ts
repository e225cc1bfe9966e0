import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCaller,
  freshKey,
  startTestLedger,
  type Credentials,
  type TestLedger,
  payerOf,
} from '../support/test-ledger.js';

describe('authorisation: operators, and merchants on their own resources', () => {
  let ledger: TestLedger;
  let merchantA: Credentials;
  let merchantB: Credentials;
  let accountOfA: string;
  let accountOfB: string;

  beforeAll(async () => {
    ledger = await startTestLedger();
    merchantA = await createCaller(ledger.service, 'merchant', 'Merchant A');
    merchantB = await createCaller(ledger.service, 'merchant', 'Merchant B');
    // A merchant's own account: its settlement account, which an operator lets take recharges here.
    const open = async (ownerId: string) => {
      const response = await ledger.inject({
        method: 'POST',
        url: '/v1/accounts',
        payload: { ownerId, type: 'merchant_settlement', currency: 'CNY' },
      });
      expect(response.statusCode).toBe(201);
      const { accountId, flags } = response.json();
      const rechargeable = await ledger.inject({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/flags`,
        payload: { flags: { ...flags, mayRecharge: true }, reason: 'merchant top-ups' },
      });
      expect(rechargeable.statusCode).toBe(200);
      await ledger.service.projections.waitForPosition('balances', BigInt(rechargeable.json().position), 5_000);
      return accountId as string;
    };
    accountOfA = await open(merchantA.entityId);
    accountOfB = await open(merchantB.entityId);
  });
  afterAll(async () => {
    await ledger.close();
  });

  function expectForbidden(response: { statusCode: number; json(): { code: string } }) {
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'forbidden', status: 403 });
  }
  /** Another owner's account answers like one that does not exist: no existence oracle. */
  function expectUnknownAccount(response: { statusCode: number; json(): { code: string } }) {
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'account_not_found', status: 404 });
  }

  it('lets only operators open accounts', async () => {
    const payload = { ownerId: merchantA.entityId, type: 'merchant_settlement', currency: 'USD' };
    expectForbidden(await ledger.inject({ method: 'POST', url: '/v1/accounts', payload }, merchantA));
    expect((await ledger.inject({ method: 'POST', url: '/v1/accounts', payload })).statusCode).toBe(201);
  });

  it("lets a merchant read its own account, not another merchant's; an operator reads both", async () => {
    expect((await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountOfA}` }, merchantA)).statusCode).toBe(200);
    expectUnknownAccount(await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountOfB}` }, merchantA));
    expect((await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountOfA}` })).statusCode).toBe(200);
    expect((await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountOfB}` })).statusCode).toBe(200);
  });

  it('lets a merchant recharge its own account only; an operator recharges any', async () => {
    const payer = await payerOf(ledger.app);
    const recharge = (accountId: string, as?: Credentials) =>
      ledger.inject(
        {
          method: 'POST',
          url: '/v1/recharges',
          headers: { 'idempotency-key': freshKey() },
          payload: { accountId, amount: '5.00', currency: 'CNY', payer },
        },
        as,
      );
    expect((await recharge(accountOfA, merchantA)).statusCode).toBe(201);
    expectUnknownAccount(await recharge(accountOfB, merchantA));
    expect((await recharge(accountOfB)).statusCode).toBe(201);
  });

  it('lets a merchant recharge an account it owns, straight after it was opened', async () => {
    const opened = await ledger.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: { ownerId: merchantA.entityId, type: 'merchant_settlement', currency: 'CNY' },
    });
    const { accountId, flags } = opened.json();
    await ledger.inject({
      method: 'PUT',
      url: `/v1/accounts/${accountId}/flags`,
      payload: { flags: { ...flags, mayRecharge: true }, reason: 'merchant top-ups' },
    });
    const payload = { accountId, amount: '5.00', currency: 'CNY', payer: await payerOf(ledger.app) };
    const own = await ledger.inject(
      { method: 'POST', url: '/v1/recharges', headers: { 'idempotency-key': freshKey() }, payload },
      merchantA,
    );
    expect(own.statusCode).toBe(201);
    expectUnknownAccount(
      await ledger.inject(
        { method: 'POST', url: '/v1/recharges', headers: { 'idempotency-key': freshKey() }, payload },
        merchantB,
      ),
    );
  });

  it('answers a merchant 404 for an account that does not exist, as it would an operator', async () => {
    const response = await ledger.inject(
      {
        method: 'POST',
        url: '/v1/recharges',
        headers: { 'idempotency-key': freshKey() },
        payload: { accountId: '1010000000000018', amount: '1.00', currency: 'CNY', payer: await payerOf(ledger.app) },
      },
      merchantA,
    );
    expect(response.statusCode).toBe(404);
  });

  it('lets a merchant read itself but no other entity; an operator reads any', async () => {
    expect(
      (await ledger.inject({ method: 'GET', url: `/v1/entities/${merchantA.entityId}` }, merchantA)).statusCode,
    ).toBe(200);
    expectForbidden(await ledger.inject({ method: 'GET', url: `/v1/entities/${merchantB.entityId}` }, merchantA));
    // Whether an id exists is not revealed to a merchant either.
    expectForbidden(
      await ledger.inject({ method: 'GET', url: '/v1/entities/m-0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3' }, merchantA),
    );
    expect((await ledger.inject({ method: 'GET', url: `/v1/entities/${merchantB.entityId}` })).statusCode).toBe(200);
  });

  it('keeps entity administration to operators', async () => {
    expectForbidden(
      await ledger.inject(
        { method: 'POST', url: '/v1/entities', payload: { kind: 'merchant', displayName: 'Sneaky' } },
        merchantA,
      ),
    );
    expectForbidden(
      await ledger.inject(
        { method: 'POST', url: `/v1/entities/${merchantA.entityId}/keys`, payload: { publicKey: 'x' } },
        merchantA,
      ),
    );
    expectForbidden(
      await ledger.inject(
        { method: 'POST', url: `/v1/entities/${merchantA.entityId}/keys/1/revoke`, payload: { reason: 'x' } },
        merchantA,
      ),
    );
    expectForbidden(
      await ledger.inject(
        {
          method: 'POST',
          url: `/v1/entities/${merchantA.entityId}/payment-password`,
          payload: { newPassword: '583920' },
        },
        merchantA,
      ),
    );
    expectForbidden(
      await ledger.inject(
        { method: 'POST', url: `/v1/entities/${merchantA.entityId}/payment-settings`, payload: { mayPay: false } },
        merchantA,
      ),
    );
  });
});

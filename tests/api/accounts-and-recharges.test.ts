import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../support/events.js';
import { whileChannelsDecline } from '../support/test-channels.js';
import {
  createCaller,
  freshKey,
  openWallet,
  recharge,
  registerUser,
  startTestLedger,
  type TestLedger,
  payerOf,
} from '../support/test-ledger.js';

describe('accounts and recharges over HTTP', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await startTestLedger();
  });
  afterAll(async () => {
    await ledger.close();
  });

  async function eventCount(): Promise<number> {
    return (await ledger.service.eventStore.readAll({ after: 'start', maxCount: 10_000 })).length;
  }

  describe('POST /v1/accounts', () => {
    it('opens a wallet with a 16-digit number whose prefix tells the type', async () => {
      const userId = await registerUser(ledger.app);
      const response = await ledger.inject({
        method: 'POST',
        url: '/v1/accounts',
        payload: { ownerId: userId, type: 'wallet', currency: 'CNY' },
      });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({
        type: 'wallet',
        currency: 'CNY',
        status: 'active',
        ownerId: userId,
        subjectCode: '2201',
      });
      expect(body.accountId).toMatch(/^101[0-9]{13}$/);
      expect(body.flags).toMatchObject({ mayRecharge: true, mayOverdraw: false, overdraftLimit: '0.00' });
      expect(body.position).toMatch(/^[0-9]+$/);
    });

    it('opens one account per Idempotency-Key, however often the request is sent', async () => {
      const key = freshKey();
      const merchant = await createCaller(ledger.service, 'merchant', 'Shop');
      const send = () =>
        ledger.inject({
          method: 'POST',
          url: '/v1/accounts',
          headers: { 'idempotency-key': key },
          payload: { ownerId: merchant.entityId, type: 'merchant_settlement', currency: 'USD' },
        });
      const first = await send();
      const second = await send();
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.json()).toEqual(first.json());
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(first.json().accountId).toMatch(/^201/);
    });

    it.each([
      [{ ownerId: 'u-1', type: 'wallet', currency: 'XYZ' }, 'unknown_currency'],
      [{ ownerId: 'u-1', type: 'piggy_bank', currency: 'CNY' }, 'validation_failed'],
      [{ ownerId: 'u-1', type: 'wallet', currency: 'CNY', extra: true }, 'validation_failed'],
      [{ type: 'wallet', currency: 'CNY' }, 'validation_failed'],
      [{ ownerId: 42, type: 'wallet', currency: 'CNY' }, 'validation_failed'],
    ])('refuses %j with %s and records nothing', async (payload, code) => {
      const before = await eventCount();
      const response = await ledger.inject({ method: 'POST', url: '/v1/accounts', payload });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status: 400, code, type: `urn:ledger:problem:${code}` });
      expect(response.json().detail).toEqual(expect.any(String));
      expect(await eventCount()).toBe(before);
    });

    it('answers malformed JSON with a problem, not a stack trace', async () => {
      const response = await ledger.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: { 'content-type': 'application/json' },
        payload: '{"ownerId": ',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'malformed_json' });
      expect(response.body).not.toMatch(/at .*\.(ts|js):\d+/);
    });

    it('names a prototype key in valid JSON as the invalid field, not as malformed JSON', async () => {
      for (const [payload, path] of [
        ['{"ownerId": "u-1", "__proto__": {"admin": true}}', 'body.__proto__'],
        ['{"ownerId": "u-1", "flags": {"constructor": {"prototype": {}}}}', 'body.flags.constructor'],
      ] as const) {
        const before = await eventCount();
        const response = await ledger.inject({
          method: 'POST',
          url: '/v1/accounts',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(response.statusCode).toBe(400);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json()).toMatchObject({ code: 'validation_failed', errors: [{ path }] });
        expect(response.json().detail).toContain(path);
        expect(await eventCount()).toBe(before);
      }
    });

    it('names the body itself "body" when it is of the wrong type', async () => {
      const response = await ledger.inject({ method: 'POST', url: '/v1/accounts', payload: [] });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('validation_failed');
      expect(response.json().errors.map((e: { path: string }) => e.path)).toEqual(['body']);
    });
  });

  describe('POST /v1/recharges and GET /v1/accounts/:id', () => {
    it('answers one view of a recharge, with the status words of its list, from POST and GET by id', async () => {
      const wallet = await openWallet(ledger.app);
      const created = (await recharge(ledger.app, wallet.accountId, '12.00')).json();
      const read = await ledger.inject({ method: 'GET', url: `/v1/recharges/${created.rechargeId}` });
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json()).toEqual(created);
      const listed = await ledger.inject({
        method: 'GET',
        url: `/v1/recharges?accountId=${wallet.accountId}&status=${created.status}&minPosition=${created.position}`,
      });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json().items.map((item: { operationId: string }) => item.operationId)).toEqual([
        created.rechargeId,
      ]);
    });

    it('credits the wallet and the balance is readable at the returned position', async () => {
      const wallet = await openWallet(ledger.app);
      const response = await recharge(ledger.app, wallet.accountId, '100.00');
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({
        accountId: wallet.accountId,
        amount: '100.00',
        currency: 'CNY',
        status: 'completed',
        // The bank's quick pay (0.2 %) is cheaper than the card network's (0.38 %) for this card.
        channel: 'sim-citybank',
        routingReason: 'cheapest_healthy',
        channelFee: '0.20',
        channelAnswer: null,
      });
      expect(body.rechargeId).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.position).toMatch(/^[0-9]+$/);

      const read = await ledger.inject({
        method: 'GET',
        url: `/v1/accounts/${wallet.accountId}?minPosition=${body.position}`,
      });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toMatchObject({
        accountId: wallet.accountId,
        type: 'wallet',
        currency: 'CNY',
        status: 'active',
        balance: '100.00',
        available: '100.00',
        frozen: '0.00',
        balanceMinor: '10000',
      });
    });

    it('replays the same key and body: same response, no second credit', async () => {
      const wallet = await openWallet(ledger.app);
      const key = freshKey();
      const first = await recharge(ledger.app, wallet.accountId, '25.50', key);
      const before = await eventCount();
      const again = await recharge(ledger.app, wallet.accountId, '25.50', key);
      expect(again.statusCode).toBe(201);
      expect(again.json()).toEqual(first.json());
      expect(await eventCount()).toBe(before);
      const read = await ledger.inject({
        method: 'GET',
        url: `/v1/accounts/${wallet.accountId}?minPosition=${first.json().position}`,
      });
      expect(read.json().balance).toBe('25.50');
    });

    it('runs concurrent retries of one key once', async () => {
      const wallet = await openWallet(ledger.app);
      const key = freshKey();
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => recharge(ledger.app, wallet.accountId, '1.00', key)),
      );
      const succeeded = responses.filter((r) => r.statusCode === 201);
      expect(succeeded.length).toBeGreaterThanOrEqual(1);
      for (const r of responses) expect([201, 409]).toContain(r.statusCode);
      for (const r of succeeded) expect(r.json()).toEqual(succeeded[0]!.json());
      const events = await collect(ledger.service.eventStore.readStream(`account-${wallet.accountId}`));
      expect(events.filter((e) => e.type === 'FundsRecharged')).toHaveLength(1);
    });

    it('refuses the same key with a different body', async () => {
      const wallet = await openWallet(ledger.app);
      const key = freshKey();
      await recharge(ledger.app, wallet.accountId, '10.00', key);
      const reused = await recharge(ledger.app, wallet.accountId, '11.00', key);
      expect(reused.statusCode).toBe(422);
      expect(reused.json()).toMatchObject({ code: 'idempotency_key_reused' });
    });

    it('requires an Idempotency-Key', async () => {
      const wallet = await openWallet(ledger.app);
      const response = await ledger.inject({
        method: 'POST',
        url: '/v1/recharges',
        payload: { accountId: wallet.accountId, amount: '1.00', currency: 'CNY', payer: await payerOf(ledger.app) },
        withoutIdempotencyKey: true,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('validation_failed');
    });

    it.each([
      ['12.345', 'CNY', 'invalid_amount'],
      ['-5.00', 'CNY', 'validation_failed'],
      ['1e3', 'CNY', 'validation_failed'],
      ['0.00', 'CNY', 'invalid_amount'],
      ['5.00', 'USD', 'currency_mismatch'],
      ['5.00', 'QQQ', 'unknown_currency'],
    ])('refuses amount %s %s with %s and changes nothing', async (amount, currency, code) => {
      const wallet = await openWallet(ledger.app);
      const before = await eventCount();
      const response = await recharge(ledger.app, wallet.accountId, amount, freshKey(), currency);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe(code);
      const accountEvents = await collect(ledger.service.eventStore.readStream(`account-${wallet.accountId}`));
      expect(accountEvents.map((e) => e.type)).toEqual(['AccountOpened']);
      if (code !== 'currency_mismatch') expect(await eventCount()).toBe(before);
    });

    it('refuses a recharge of an unknown account with 404', async () => {
      const response = await recharge(ledger.app, '1010000000000018', '1.00');
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('account_not_found');
    });

    it('refuses an unknown channel and a declined charge', async () => {
      const wallet = await openWallet(ledger.app);
      const unknown = await ledger.inject({
        method: 'POST',
        url: '/v1/recharges',
        headers: { 'idempotency-key': freshKey() },
        payload: {
          accountId: wallet.accountId,
          amount: '1.00',
          currency: 'CNY',
          payer: {
            method: 'quick_pay',
            card: {
              bankCode: 'CITY',
              cardKind: 'debit',
              contracts: [{ channelId: 'no-such-bank', contractNo: 'C-1' }],
            },
          },
        },
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().code).toBe('unknown_channel');
      const declined = await whileChannelsDecline(ledger.service.channels, () =>
        recharge(ledger.app, wallet.accountId, '1.99'),
      );
      expect(declined.statusCode).toBe(422);
      expect(declined.json().code).toBe('channel_declined');
    });

    it('answers 404 for an unknown account and 400 for a malformed id', async () => {
      expect((await ledger.inject({ method: 'GET', url: '/v1/accounts/1010000000000018' })).statusCode).toBe(404);
      const malformed = await ledger.inject({ method: 'GET', url: '/v1/accounts/abc' });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().code).toBe('validation_failed');
    });

    it('answers 503 with Retry-After when the read model cannot reach minPosition in time', async () => {
      // A ledger whose read models stopped: what it writes is never applied.
      const lagging = await startTestLedger(undefined, { READ_YOUR_WRITES_TIMEOUT_MS: '200' });
      await lagging.service.projections.stop();
      const wallet = await openWallet(lagging.app);
      const response = await lagging.inject({
        method: 'GET',
        url: `/v1/accounts/${wallet.accountId}?minPosition=${wallet.position}`,
      });
      await lagging.close();
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(response.json().code).toBe('read_model_behind');
    }, 15_000);
  });

  describe('service endpoints', () => {
    it('serves the OpenAPI document with the command routes, unsigned', async () => {
      const response = await ledger.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(response.statusCode).toBe(200);
      const doc = response.json();
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/v1/accounts', '/v1/recharges', '/v1/accounts/{accountId}']),
      );
      expect((await ledger.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    });

    it('reports liveness and readiness, unsigned', async () => {
      expect((await ledger.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
      const ready = await ledger.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks).toEqual({ eventStore: 'ok', readModels: 'ok' });
    });

    it('answers unknown routes with a problem', async () => {
      const response = await ledger.inject({ method: 'GET', url: '/v1/nothing' });
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('not_found');
    });
  });
});

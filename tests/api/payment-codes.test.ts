import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentCodes } from '../../src/client/payment-codes/payment-code.js';
import { PAYMENT_CODE_SLOT_GUARD, PAYMENT_CODE_TERMINAL_GUARD } from '../../src/adapters/ledger-service.js';
import { createCaller, payerOf, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';
import { movableClock } from '../support/movable-clock.js';
import { OPENED_SEED_LIMITS, OpenedSeeds } from '../../src/commands/payment-codes/opened-seeds.js';
import { PaymentCodeSeeds } from '../../src/commands/payment-codes/payment-code-seeds.js';
import { context } from '../support/command-fixtures.js';

interface IssuedSeed {
  seedId: string;
  seed: string;
  slot: number;
  prefix: number;
  permutationKey: string;
  algorithm: 'SHA1';
  stepSeconds: number;
  status: string;
}

describe('offline payment codes over HTTP', () => {
  const clock = movableClock();
  let ledger: TestLedger;
  let shop: Credentials;
  let shopAccount: string;
  let shopUsdAccount: string;
  let payer: string;
  let wallet: string;

  const post = (url: string, payload: object, as?: Credentials) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const get = (url: string, as?: Credentials) => ledger.inject({ method: 'GET', url }, as);

  async function issue(
    userId = payer,
    accountId = wallet,
    deviceId = `phone-${randomUUID().slice(0, 8)}`,
    extra: object = {},
  ): Promise<IssuedSeed> {
    const response = await post(`/v1/users/${userId}/payment-code-seeds`, {
      deviceId,
      accountId,
      perCodeLimit: '50.00',
      dailyLimit: '120.00',
      ...extra,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }

  /** What the payer's app shows now (by the service's clock), from the issuance's answer alone. */
  function codeOf(issued: IssuedSeed, atMs = clock.now().toMillis()): string {
    const codes = new PaymentCodes({
      algorithm: issued.algorithm,
      stepSeconds: issued.stepSeconds,
      keys: new Map([[issued.prefix, Buffer.from(issued.permutationKey, 'hex')]]),
    });
    return codes.generate({
      seed: Secret.fromBase32(issued.seed).bytes,
      slot: issued.slot,
      prefix: issued.prefix,
      atMs,
    });
  }

  const redeem = (
    code: string,
    over: {
      amount?: string;
      currency?: string;
      orderNo?: string;
      terminalId?: string;
      payee?: string;
      payerPassword?: string;
    } = {},
    as: Credentials = shop,
  ) =>
    post(
      '/v1/payment-codes/redeem',
      {
        code,
        amount: over.amount ?? '10.00',
        currency: over.currency ?? 'CNY',
        merchantOrderNo: over.orderNo ?? `POS-${randomUUID()}`,
        terminalId: over.terminalId ?? 'till-1',
        payeeAccountId: over.payee ?? shopAccount,
        ...(over.payerPassword === undefined ? {} : { payerPassword: over.payerPassword }),
      },
      as,
    );

  async function newPayer(balance = '500.00'): Promise<{ userId: string; accountId: string }> {
    const userId = (await post('/v1/entities', { kind: 'user', displayName: 'Payer' })).json().entityId;
    const accountId = (await post('/v1/accounts', { ownerId: userId, type: 'wallet', currency: 'CNY' })).json()
      .accountId;
    const funded = await post('/v1/recharges', {
      accountId,
      amount: balance,
      currency: 'CNY',
      payer: await payerOf(ledger.app),
    });
    expect(funded.statusCode).toBe(201);
    return { userId, accountId };
  }

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, {}, { clock });
    shop = await createCaller(ledger.service, 'merchant', 'Shop');
    const account = (type: string, currency: string) =>
      post('/v1/accounts', { ownerId: shop.entityId, type, currency }).then((r) => r.json().accountId as string);
    shopAccount = await account('merchant_settlement', 'CNY');
    shopUsdAccount = await account('merchant_settlement', 'USD');
    ({ userId: payer, accountId: wallet } = await newPayer());
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it('issues a seed once, stored only sealed, and lists it masked', async () => {
    const issued = await issue(payer, wallet, 'ios-device-4321');
    expect(issued).toMatchObject({ status: 'live', prefix: 10, algorithm: 'SHA1', stepSeconds: 60 });
    expect(Secret.fromBase32(issued.seed).bytes).toHaveLength(20);
    const listed = (await get(`/v1/users/${payer}/payment-code-seeds`)).json().items;
    const mine = listed.find((s: { seedId: string }) => s.seedId === issued.seedId);
    expect(mine).toMatchObject({ deviceId: '***********4321', status: 'live', perCodeLimit: '50.00' });
    expect(JSON.stringify(listed)).not.toContain(issued.seed);
    // Neither the base32 nor the hex of the seed is anywhere in the event log or the read models' files.
    const hex = Buffer.from(Secret.fromBase32(issued.seed).bytes).toString('hex');
    const log = JSON.stringify(
      (await ledger.service.eventStore.readAll({ after: 'start', maxCount: 10_000 })).map((e) => e.data),
    );
    expect(log).toContain(issued.seedId);
    expect(log).not.toContain(issued.seed);
    expect(log).not.toContain(hex);
    for (const file of readdirSync(ledger.dataDir).filter((name) => name.endsWith('.sqlite'))) {
      const bytes = readFileSync(join(ledger.dataDir, file));
      expect(bytes.includes(Buffer.from(Secret.fromBase32(issued.seed).bytes)), file).toBe(false);
    }
  });

  it('only operators issue, list and revoke seeds; only merchants redeem', async () => {
    const refused = await post(
      `/v1/users/${payer}/payment-code-seeds`,
      { deviceId: 'd', accountId: wallet, perCodeLimit: '1.00', dailyLimit: '1.00' },
      shop,
    );
    expect(refused.statusCode).toBe(403);
    expect((await get(`/v1/users/${payer}/payment-code-seeds`, shop)).statusCode).toBe(403);
    const unknown = await get('/v1/users/u-no-such-user/payment-code-seeds');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('entity_not_found');
    expect((await get(`/v1/users/${shop.entityId}/payment-code-redemptions`)).json().code).toBe('entity_not_found');
    const issued = await issue();
    const byOperator = await redeem(codeOf(issued), {}, ledger.operator);
    expect(byOperator.json().code).toBe('forbidden');
    // Another user's wallet is not found for this user.
    const other = await newPayer();
    const wrongWallet = await post(`/v1/users/${payer}/payment-code-seeds`, {
      deviceId: 'd',
      accountId: other.accountId,
      perCodeLimit: '1.00',
      dailyLimit: '1.00',
    });
    expect(wrongWallet.json().code).toBe('account_not_found');
  });

  it('redeems a valid code: an ordinary payment from the wallet, in the history', async () => {
    const { userId, accountId } = await newPayer('100.00');
    const issued = await issue(userId, accountId);
    const response = await redeem(codeOf(issued), { amount: '12.50', orderNo: 'POS-valid-1' });
    expect(response.statusCode, response.body).toBe(201);
    const { redemption, payment, position } = response.json();
    expect(payment).toMatchObject({
      status: 'completed',
      amount: '12.50',
      payerAccountId: accountId,
      payeeAccountId: shopAccount,
      merchantOrderNo: 'POS-valid-1',
    });
    expect(redemption).toMatchObject({
      seedId: issued.seedId,
      terminalId: 'till-1',
      amount: '12.50',
      paymentId: payment.paymentId,
    });
    const balance = (await get(`/v1/accounts/${accountId}?minPosition=${position}`)).json();
    expect(balance.balance).toBe('87.50');
    const history = (await get(`/v1/users/${userId}/payment-code-redemptions`)).json().items;
    expect(history).toEqual([redemption]);
  });

  it('uses a code once: another order is refused, the same order again is the first payment', async () => {
    const issued = await issue();
    const code = codeOf(issued);
    const first = await redeem(code, { orderNo: 'POS-reuse-1' });
    expect(first.statusCode).toBe(201);
    const replay = await redeem(code, { orderNo: 'POS-reuse-2', terminalId: 'till-2' });
    expect(replay.statusCode).toBe(409);
    expect(replay.json().code).toBe('payment_code_used');
    const retry = await redeem(code, { orderNo: 'POS-reuse-1' });
    expect(retry.statusCode).toBe(201);
    expect(retry.json().payment.paymentId).toBe(first.json().payment.paymentId);
  });

  it('two terminals redeeming one code at once: exactly one wins', async () => {
    const issued = await issue();
    const code = codeOf(issued);
    const answers = await Promise.all(
      ['till-a', 'till-b', 'till-c'].map((terminalId) =>
        redeem(code, { terminalId, orderNo: `POS-race-${terminalId}` }),
      ),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409]);
    for (const lost of answers.filter((a) => a.statusCode === 409)) expect(lost.json().code).toBe('payment_code_used');
    const history = (await get(`/v1/users/${payer}/payment-code-redemptions`)).json().items;
    expect(history.filter((r: { seedId: string }) => r.seedId === issued.seedId)).toHaveLength(1);
  });

  it('refuses a wrong code, a code of another step, and a code for another currency', async () => {
    const issued = await issue();
    const code = codeOf(issued);
    const tampered = `${code.slice(0, 17)}${(Number(code[17]) + 1) % 10}`;
    const wrong = await redeem(tampered, { terminalId: 'till-wrong' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().code).toBe('payment_code_wrong');
    const old = await redeem(codeOf(issued, clock.now().toMillis() - 3 * 60_000), { terminalId: 'till-wrong' });
    expect(old.json().code).toBe('payment_code_wrong');
    const usd = await redeem(code, { currency: 'USD', payee: shopUsdAccount });
    expect(usd.statusCode).toBe(422);
    expect(usd.json().code).toBe('payment_code_currency_mismatch');
  });

  it("applies the seed's limits: above the per-code limit the payer must confirm; the daily total", async () => {
    const issued = await issue();
    const over = await redeem(codeOf(issued), { amount: '50.01' });
    expect(over.statusCode).toBe(422);
    expect(over.json().code).toBe('payment_code_confirmation_required');
    expect((await redeem(codeOf(issued), { amount: '50.00' })).statusCode).toBe(201);
    clock.advance(60);
    expect((await redeem(codeOf(issued), { amount: '50.00' })).statusCode).toBe(201);
    clock.advance(60);
    const daily = await redeem(codeOf(issued), { amount: '20.01' });
    expect(daily.json().code).toBe('payment_code_daily_limit');
  });

  describe("risk on redemptions: the payer's confirmation, a step-up, a block", () => {
    const PAYER_PASSWORD = '739184';
    async function payerWithPassword(balance = '500.00') {
      const created = await newPayer(balance);
      const set = await post(`/v1/entities/${created.userId}/payment-password`, { newPassword: PAYER_PASSWORD });
      expect(set.statusCode, set.body).toBe(200);
      return created;
    }

    it('above the per-code limit: refused, then the same order with the payment password pays once', async () => {
      const { userId, accountId } = await payerWithPassword();
      const issued = await issue(userId, accountId);
      const code = codeOf(issued);
      const orderNo = `POS-confirm-${randomUUID()}`;
      const refused = await redeem(code, { amount: '80.00', orderNo });
      expect(refused.statusCode).toBe(422);
      expect(refused.json().code).toBe('payment_code_confirmation_required');
      // A wrong password is refused and records nothing either.
      const wrong = await redeem(code, { amount: '80.00', orderNo, payerPassword: '902137' });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().code).toBe('payer_password_invalid');
      // The refusals left the code usable: the same code, the same order, with the password, pays.
      const confirmed = await redeem(code, { amount: '80.00', orderNo, payerPassword: PAYER_PASSWORD });
      expect(confirmed.statusCode, confirmed.body).toBe(201);
      const { redemption, payment, position } = confirmed.json();
      expect(payment).toMatchObject({ status: 'completed', amount: '80.00', merchantOrderNo: orderNo });
      expect(redemption.risk).toMatchObject({ confirmedBy: 'payment_password', verdict: 'review' });
      expect(redemption.risk.rules).toEqual(['payer-new-device']);
      // Idempotent by the merchant order number: again (a new key, even the next code) is the first payment.
      const nextCode = codeOf(issued, clock.now().toMillis() + 60_000); // the next step's, within the window
      const again = await redeem(nextCode, { amount: '80.00', orderNo, payerPassword: PAYER_PASSWORD });
      expect(again.statusCode).toBe(201);
      expect(again.json().payment.paymentId).toBe(payment.paymentId);
      const balance = (await get(`/v1/accounts/${accountId}?minPosition=${position}`)).json();
      expect(balance.balance).toBe('420.00');
      const history = (await get(`/v1/users/${userId}/payment-code-redemptions`)).json().items;
      expect(history).toHaveLength(1);
      // The daily limit (120.00) holds even with the password.
      const daily = await redeem(nextCode, { amount: '40.01', payerPassword: PAYER_PASSWORD });
      expect(daily.json().code).toBe('payment_code_daily_limit');
    });

    it('a step-up rule (code-burst: a 21st code in 10 minutes) asks for the password, which completes it', async () => {
      const { userId, accountId } = await payerWithPassword();
      const seeds = [];
      for (let i = 0; i < 21; i += 1) seeds.push(await issue(userId, accountId, `burst-phone-${i}`));
      for (const seed of seeds.slice(0, 20))
        expect((await redeem(codeOf(seed), { amount: '1.00' })).statusCode).toBe(201);
      const last = seeds[20]!;
      const orderNo = `POS-burst-${randomUUID()}`;
      const refused = await redeem(codeOf(last), { amount: '1.00', orderNo });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'payment_code_confirmation_required' });
      const confirmed = await redeem(codeOf(last), { amount: '1.00', orderNo, payerPassword: PAYER_PASSWORD });
      expect(confirmed.statusCode, confirmed.body).toBe(201);
      expect(confirmed.json().redemption.risk).toMatchObject({
        verdict: 'step_up',
        confirmedBy: 'payment_password',
        rules: ['code-burst', 'payer-new-device'],
      });
    });

    it('a blocked redemption is refused risk_blocked, even with the password; the code stays usable', async () => {
      const { userId, accountId } = await payerWithPassword();
      const issued = await issue(userId, accountId, undefined, { perCodeLimit: '100.00', dailyLimit: '100000.00' });
      const code = codeOf(issued);
      // Above the default rules' block (payer-txn-block: 50,000.00 CNY in one payment).
      const blocked = await redeem(code, { amount: '50000.01', payerPassword: PAYER_PASSWORD });
      expect(blocked.statusCode).toBe(422);
      expect(blocked.json()).toMatchObject({ code: 'risk_blocked' });
      const paid = await redeem(code, { amount: '20.00' });
      expect(paid.statusCode, paid.body).toBe(201);
    });
  });

  it('refuses codes of revoked seeds: by the operator, by a new login, by another user on the device', async () => {
    const revokedByRisk = await issue();
    const revoked = await post(`/v1/users/${payer}/payment-code-seeds/${revokedByRisk.seedId}/revoke`, {
      reason: 'risk',
      note: 'rooted',
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ status: 'revoked', revocation: { reason: 'risk', note: 'rooted' } });
    const afterRisk = await redeem(codeOf(revokedByRisk));
    expect(afterRisk.json()).toMatchObject({ code: 'payment_code_revoked', details: { reason: 'risk' } });

    const first = await issue(payer, wallet, 'shared-tablet');
    const second = await issue(payer, wallet, 'shared-tablet');
    expect((await redeem(codeOf(first))).json()).toMatchObject({
      code: 'payment_code_revoked',
      details: { reason: 'new_login' },
    });
    const other = await newPayer();
    await issue(other.userId, other.accountId, 'shared-tablet');
    expect((await redeem(codeOf(second))).json()).toMatchObject({
      code: 'payment_code_revoked',
      details: { reason: 'device_taken' },
    });
    const seeds = (await get(`/v1/users/${payer}/payment-code-seeds`)).json().items;
    expect(seeds.find((s: { seedId: string }) => s.seedId === second.seedId).revocation.reason).toBe('device_taken');
  });

  it('a seed revoked by another instance is refused here, though this instance holds its key and old state', async () => {
    const issued = await issue();
    // This instance checked and paid a code of the seed: its slot, seed state and key are all held.
    expect((await redeem(codeOf(issued))).statusCode).toBe(201);
    // Another instance over the same store and vault (its own handlers and caches) revokes the seed.
    const { service } = ledger;
    const scheme = { algorithm: 'SHA1' as const, stepSeconds: 60, prefix: 10, newSeed: () => Buffer.alloc(20) };
    const other = new PaymentCodeSeeds(
      service.eventStore,
      service.vault,
      scheme,
      new OpenedSeeds(OPENED_SEED_LIMITS, Date.now),
    );
    await other.revoke(payer, issued.seedId, { reason: 'risk', note: 'rooted, reported elsewhere' }, context());
    const refused = await redeem(codeOf(issued, clock.now().toMillis() + 60_000)); // the next step's code
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'payment_code_revoked' });
  });

  it('a wallet that cannot pay is refused insufficient_funds', async () => {
    const { userId, accountId } = await newPayer('5.00');
    const issued = await issue(userId, accountId);
    const refused = await redeem(codeOf(issued), { amount: '6.00' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('insufficient_funds');
  });

  it('a payer barred from paying is refused payer_may_not_pay', async () => {
    const { userId, accountId } = await newPayer('50.00');
    const issued = await issue(userId, accountId);
    expect((await post(`/v1/entities/${userId}/payment-settings`, { mayPay: false })).statusCode).toBe(200);
    const refused = await redeem(codeOf(issued));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('payer_may_not_pay');
  });

  it('refuses codes of an expired seed', async () => {
    const issued = await issue(payer, wallet, undefined, { ttlSeconds: 60 });
    clock.advance(61);
    const expired = await redeem(codeOf(issued));
    expect(expired.statusCode).toBe(422);
    expect(expired.json().code).toBe('payment_code_expired');
  });

  it('a retried issuance is refused: the seed is answered once', async () => {
    const headers = { 'idempotency-key': randomUUID() };
    const body = { deviceId: 'retry-phone', accountId: wallet, perCodeLimit: '1.00', dailyLimit: '1.00' };
    const url = `/v1/users/${payer}/payment-code-seeds`;
    expect((await ledger.inject({ method: 'POST', url, payload: body, headers })).statusCode).toBe(201);
    const again = await ledger.inject({ method: 'POST', url, payload: body, headers });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('payment_code_seed_answered');
  });

  it('rate-limits wrong codes per terminal and per slot', async () => {
    const issued = await issue();
    const bogus = (i: number) => `11${String(i).padStart(16, '0')}`; // prefix 11 has no key: always wrong
    for (let i = 0; i < PAYMENT_CODE_TERMINAL_GUARD.maxFailures; i += 1)
      expect((await redeem(bogus(i), { terminalId: 'till-guess' })).json().code).toBe('payment_code_wrong');
    const locked = await redeem(codeOf(issued), { terminalId: 'till-guess' });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('payment_code_rate_limited');
    // Wrong one-time values for the seed's slot, from many terminals, lock the slot itself.
    const code = codeOf(issued);
    const codes = new PaymentCodes({
      algorithm: 'SHA1',
      stepSeconds: 60,
      keys: new Map([[10, Buffer.from(issued.permutationKey, 'hex')]]),
    });
    for (let i = 0; i < PAYMENT_CODE_SLOT_GUARD.maxFailures; i += 1) {
      const wrongValue = codes.generate({
        seed: Buffer.alloc(20, i + 1),
        slot: issued.slot,
        prefix: 10,
        atMs: clock.now().toMillis(),
      });
      expect((await redeem(wrongValue, { terminalId: `till-slot-${i}` })).json().code).toBe('payment_code_wrong');
    }
    const slotLocked = await redeem(code, { terminalId: 'till-fresh' });
    expect(slotLocked.json().code).toBe('payment_code_rate_limited');
  });
});

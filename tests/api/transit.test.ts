import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCaller,
  openWallet,
  recharge,
  startTestLedger,
  type Credentials,
  type TestLedger,
} from '../support/test-ledger.js';
import {
  issueTestCredential,
  openSettlementAccount,
  requestCredential,
  tap,
  testContext,
  type TestDevice,
} from '../support/transit-fixtures.js';

interface BatchAnswer {
  batchId: string;
  accepted: number;
  refused: number;
  position?: string;
  results: Array<{ index: number; scanId: string | null; status: string; code: string | null }>;
}

/**
 * Transit with both sides offline, through the API: credentials, batches of scans (duplicates, replays,
 * late and forged scans), fares booked at once and charged when the wallet can pay, the debt blocking
 * new credentials until a top-up pays it, once.
 */
describe('transit', () => {
  let ledger: TestLedger;
  let busCo: Credentials;
  let busAccount: string;

  const upload = (payload: object, as: Credentials = busCo) =>
    ledger.inject({ method: 'POST', url: '/v1/transit/scan-batches', payload }, as);
  const batchOf = (scans: object[]) => ({ batchId: randomUUID(), operatorAccountId: busAccount, scans });
  const balanceOf = async (accountId: string, minPosition = '0') =>
    (await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountId}?minPosition=${minPosition}` })).json<{
      balance: string;
    }>().balance;
  const debtOf = async (userId: string) =>
    (await ledger.inject({ method: 'GET', url: `/v1/transit/users/${userId}/debt` })).json<{
      outstanding: string;
      issuanceBlocked: boolean;
      unpaid: Array<{ scanId: string; status: string }>;
    }>();
  const payer = async (topUp?: string) => {
    const wallet = await openWallet(ledger.app);
    if (topUp) expect((await recharge(ledger.app, wallet.accountId, topUp)).statusCode).toBe(201);
    return wallet;
  };

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, { TRANSIT_DEBT_SWEEP_INTERVAL_MS: '0' });
    busCo = await createCaller(ledger.service, 'merchant', 'City Bus Co');
    busAccount = await openSettlementAccount(ledger, busCo);
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('issues a credential a terminal can check, and lists it', async () => {
    const wallet = await payer();
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
    const listed = await ledger.inject({ method: 'GET', url: `/v1/transit/users/${wallet.ownerId}/credentials` });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items).toEqual([
      expect.objectContaining({
        credentialId: device.credentialId,
        walletAccountId: wallet.accountId,
        fareCap: '5.00',
        debtLimit: '10.00',
        status: 'live',
        payload: device.credential,
      }),
    ]);
    const keys = (await ledger.inject({ method: 'GET', url: '/v1/transit/keys' })).json();
    expect(keys.keys).toEqual([{ keyId: 1, publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) }]);
  });

  it("refuses another owner's wallet and a malformed device key", async () => {
    const wallet = await payer();
    const other = await payer();
    const issue = (userId: string, walletAccountId: string, devicePublicKey: string) =>
      requestCredential(ledger, { userId, walletAccountId, devicePublicKey });
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
    expect((await issue(wallet.ownerId, other.accountId, device.publicKey)).json().code).toBe('account_not_found');
    expect((await issue(wallet.ownerId, wallet.accountId, 'A'.repeat(42))).statusCode).toBe(400);
    const asMerchant = await requestCredential(
      ledger,
      { userId: wallet.ownerId, walletAccountId: wallet.accountId, devicePublicKey: device.publicKey },
      busCo,
    );
    expect(asMerchant.statusCode).toBe(403);
  });

  it('charges a payer who can pay at once, and books the fare for the operator', async () => {
    const wallet = await payer('10.00');
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
    const before = await balanceOf(busAccount);
    // The second tap a second later: the history is newest first.
    const later = new Date(Date.now() + 1000);
    const response = await upload(batchOf([tap(device), tap(device, { fare: '3.50', scannedAt: later })]));
    expect(response.statusCode).toBe(200);
    const answer = response.json<BatchAnswer>();
    expect(answer.results.map((r) => r.status)).toEqual(['charged', 'charged']);
    expect(await balanceOf(wallet.accountId, answer.position)).toBe('4.50');
    expect(Number(await balanceOf(busAccount, answer.position)) - Number(before)).toBeCloseTo(5.5);
    expect((await debtOf(wallet.ownerId)).outstanding).toBe('0');
    const history = await ledger.inject({
      method: 'GET',
      url: `/v1/transit/users/${wallet.ownerId}/scans?minPosition=${answer.position}`,
    });
    expect(history.json().items.map((s: { status: string; fare: string }) => [s.status, s.fare])).toEqual([
      ['charged', '3.50'],
      ['charged', '2.00'],
    ]);
    const statement = await ledger.inject({
      method: 'GET',
      url: `/v1/accounts/${wallet.accountId}/statement?minPosition=${answer.position}`,
    });
    const charges = statement
      .json()
      .lines.filter((l: { operationKind: string }) => l.operationKind === 'transit_charge');
    expect(charges.map((l: { direction: string; amount: string }) => [l.direction, l.amount])).toEqual([
      ['debit', '2.00'],
      ['debit', '3.50'],
    ]);
  });

  it('finds duplicates within a batch and across batches, and answers a replayed batch the same', async () => {
    const wallet = await payer('20.00');
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
    const once = tap(device);
    const first = batchOf([once, once, tap(device)]);
    const answer = (await upload(first)).json<BatchAnswer>();
    expect(answer.results.map((r) => [r.status, r.code])).toEqual([
      ['charged', null],
      ['refused', 'transit_scan_duplicate'],
      ['charged', null],
    ]);
    // The same batch again, under another Idempotency-Key: the same answer, nothing moves twice.
    const replay = await upload(first);
    expect(replay.statusCode).toBe(200);
    expect(replay.json<BatchAnswer>().results).toEqual(answer.results);
    expect(await balanceOf(wallet.accountId, replay.json<BatchAnswer>().position)).toBe('16.00');
    // The same scan in another batch is a replay of it: refused.
    const again = (await upload(batchOf([once]))).json<BatchAnswer>();
    expect(again.results).toEqual([
      { index: 0, scanId: answer.results[0]!.scanId, status: 'refused', code: 'transit_scan_duplicate' },
    ]);
    // The same batch id with other scans is refused as a whole.
    const conflicting = await upload({ ...first, scans: [tap(device)] });
    expect(conflicting.statusCode).toBe(409);
    expect(conflicting.json().code).toBe('transit_batch_conflict');
    expect(await balanceOf(wallet.accountId)).toBe('16.00');
  });

  it('refuses a late upload, a forged device signature, a fare above the cap, and another merchant’s account', async () => {
    const wallet = await payer('20.00');
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
    const thief: TestDevice = { ...device, ...(await import('../../src/client/transit.js')).generateDeviceKeyPair() };
    const late = tap(device, { scannedAt: new Date(Date.now() - 4 * 86_400_000) });
    const answer = (
      await upload(batchOf([late, tap(thief), tap(device, { fare: '5.01' }), tap(device)]))
    ).json<BatchAnswer>();
    expect(answer.results.map((r) => [r.status, r.code])).toEqual([
      ['refused', 'credential_not_yet_valid'],
      ['refused', 'scan_signature_invalid'],
      ['refused', 'fare_above_cap'],
      ['charged', null],
    ]);
    const rival = await createCaller(ledger.service, 'merchant', 'Rival');
    const stolen = await upload(batchOf([tap(device)]), rival);
    expect(stolen.statusCode).toBe(404);
    expect(stolen.json().code).toBe('account_not_found');
  });

  it('refuses a scan older than TRANSIT_MAX_SCAN_AGE_SECONDS at upload, judged by the upload time', async () => {
    let offsetSeconds = 0;
    const clock = { now: () => DateTime.utc().plus({ seconds: offsetSeconds }) };
    // Request signatures stay within the (widened) skew window while the service's clock moves on.
    const aged = await startTestLedger(
      undefined,
      { TRANSIT_MAX_SCAN_AGE_SECONDS: '600', AUTH_MAX_CLOCK_SKEW_MS: '3600000', TRANSIT_DEBT_SWEEP_INTERVAL_MS: '0' },
      { clock },
    );
    try {
      const merchant = await createCaller(aged.service, 'merchant', 'Night Bus');
      const account = await openSettlementAccount(aged, merchant);
      const wallet = await openWallet(aged.app);
      const device = await issueTestCredential(aged, wallet.ownerId, wallet.accountId);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const early = tap(device);
      offsetSeconds = 300;
      const recent = tap(device, { scannedAt: new Date(Date.now() + 290_000) });
      offsetSeconds = 660;
      const answer = (
        await aged.inject(
          {
            method: 'POST',
            url: '/v1/transit/scan-batches',
            payload: { batchId: randomUUID(), operatorAccountId: account, scans: [early, recent] },
          },
          merchant,
        )
      ).json<BatchAnswer>();
      expect(answer.results.map((r) => [r.status, r.code])).toEqual([
        ['refused', 'transit_scan_too_old'],
        ['debt', null],
      ]);
    } finally {
      await aged.close();
    }
  });

  it('keeps the debt of a payer with no money, blocks new credentials, and charges it once when money arrives', async () => {
    const wallet = await payer();
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId, { debtLimit: '4.00' });
    const before = await balanceOf(busAccount);
    const answer = (await upload(batchOf([tap(device), tap(device), tap(device)]))).json<BatchAnswer>();
    expect(answer.results.map((r) => [r.status, r.code])).toEqual([
      ['debt', null],
      ['debt', null],
      ['refused', 'transit_debt_limit'],
    ]);
    // The operator is paid at once: the platform guaranteed the fares within the credential's limits.
    expect(Number(await balanceOf(busAccount, answer.position)) - Number(before)).toBeCloseTo(4);
    const debt = await debtOf(wallet.ownerId);
    expect(debt).toMatchObject({ outstanding: '4.00', issuanceBlocked: true });
    expect(debt.unpaid.map((s) => s.status)).toEqual(['booked', 'booked']);
    const blocked = await requestCredential(ledger, {
      userId: wallet.ownerId,
      walletAccountId: wallet.accountId,
      devicePublicKey: device.publicKey,
    });
    expect(blocked.statusCode).toBe(422);
    expect(blocked.json().code).toBe('transit_debt_outstanding');
    // The receivable holds the debt in the books, and every day's trial balance is zero.
    const receivable = await ledger.inject({
      method: 'GET',
      url: `/v1/books/accounts/1123/balances?currency=CNY&minPosition=${answer.position}`,
    });
    expect(receivable.json().subLedgers).toContainEqual(
      expect.objectContaining({ type: 'operation', id: debt.unpaid[0]!.scanId, balance: '2.00' }),
    );

    // Money arrives: the sweep charges both fares, once, however often it runs.
    const topUp = await recharge(ledger.app, wallet.accountId, '3.00');
    expect(topUp.statusCode).toBe(201);
    await balanceOf(wallet.accountId, topUp.json().position);
    expect(await ledger.service.transitDebtSweep.sweep(new Date().toISOString())).toBeGreaterThanOrEqual(1);
    expect((await debtOf(wallet.ownerId)).outstanding).toBe('2.00');
    const more = await recharge(ledger.app, wallet.accountId, '5.00');
    await balanceOf(wallet.accountId, more.json().position);
    await ledger.service.transitDebtSweep.sweep(new Date().toISOString());
    await ledger.service.transitDebtSweep.sweep(new Date().toISOString());
    expect(await ledger.service.transit.chargeDebt(wallet.ownerId, testContext())).toBe(0);
    expect((await debtOf(wallet.ownerId)).outstanding).toBe('0');
    const head = (await ledger.inject({ method: 'GET', url: '/v1/log/head' })).json().position;
    expect(await balanceOf(wallet.accountId, head)).toBe('4.00');
    const settled = await ledger.inject({
      method: 'GET',
      url: `/v1/books/accounts/1123/balances?currency=CNY&minPosition=${head}`,
    });
    expect(settled.json().totals).toEqual([expect.objectContaining({ balance: '0.00' })]);
    // Paid: a new credential may be issued again.
    await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
  });

  it('refuses scans made after a revocation, and takes those made before it', async () => {
    const wallet = await payer('20.00');
    const device = await issueTestCredential(ledger, wallet.ownerId, wallet.accountId);
    const before = tap(device);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const revoked = await ledger.inject({
      method: 'POST',
      url: `/v1/transit/users/${wallet.ownerId}/credentials/${device.credentialId}/revoke`,
      payload: { by: 'user', reason: 'phone lost' },
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ status: 'revoked', revoked: { by: 'user', reason: 'phone lost' } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = tap(device);
    const answer = (await upload(batchOf([before, after]))).json<BatchAnswer>();
    expect(answer.results.map((r) => [r.status, r.code])).toEqual([
      ['charged', null],
      ['refused', 'transit_credential_revoked'],
    ]);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCaller,
  openWallet,
  recharge,
  startTestLedger,
  type Credentials,
  type TestLedger,
} from '../support/test-ledger.js';
import { movableClock } from '../support/movable-clock.js';

describe('deadlines are judged by the command time, not by the sweep', () => {
  const clock = movableClock();
  let ledger: TestLedger;
  let shop: Credentials;
  let wallet: string;
  let shopAccount: string;

  beforeAll(async () => {
    // No expiry sweep runs: only the command's own time can stop a late capture.
    ledger = await startTestLedger(
      mkdtempSync(join(tmpdir(), 'ledger-time-')),
      { PREAUTH_EXPIRY_SWEEP_INTERVAL_MS: '0' },
      { clock },
    );
    shop = await createCaller(ledger.service, 'merchant', 'Hotel');
    wallet = (await openWallet(ledger.app)).accountId;
    expect((await recharge(ledger.app, wallet, '500.00')).statusCode).toBe(201);
    shopAccount = (
      await ledger.inject({
        method: 'POST',
        url: '/v1/accounts',
        payload: { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
      })
    ).json().accountId;
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('a pre-authorisation past its expiry cannot be completed, swept or not; its hold stays until released', async () => {
    const held = await ledger.inject({
      method: 'POST',
      url: '/v1/preauths',
      payload: {
        payerAccountId: wallet,
        payeeAccountId: shopAccount,
        amount: '80.00',
        currency: 'CNY',
        merchantOrderNo: 'LATE-1',
        expiresInSeconds: 60,
      },
    });
    expect(held.statusCode, held.body).toBe(201);
    const { preauthId, expiresAt } = held.json();
    clock.advance(61);
    const late = await ledger.inject({
      method: 'POST',
      url: `/v1/preauths/${preauthId}/complete`,
      payload: { amount: '50.00', currency: 'CNY' },
    });
    expect(late.statusCode, late.body).toBe(422);
    expect(late.json()).toMatchObject({ code: 'preauth_expired', details: { preauthId, expiresAt } });
    const account = await ledger.service.commands.getAccountState(wallet);
    expect(account.exists && account.frozenMinor).toBe(8_000n);
    // The merchant may still let it go (the sweep would).
    const cancelled = await ledger.inject({ method: 'POST', url: `/v1/preauths/${preauthId}/cancel` });
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
  });
});

describe('an expected outage answer is logged at warn, without a stack trace', () => {
  const lines: Array<Record<string, unknown>> = [];
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await startTestLedger(
      mkdtempSync(join(tmpdir(), 'ledger-log-')),
      { READ_YOUR_WRITES_TIMEOUT_MS: '100' },
      { http: { logger: { level: 'info', stream: { write: (line) => lines.push(JSON.parse(line)) } } } },
    );
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('read_model_behind', async () => {
    // The read models stop: the wallet opened next is never applied.
    await ledger.service.projections.stop();
    const wallet = await openWallet(ledger.app);
    const behind = await ledger.inject({
      method: 'GET',
      url: `/v1/accounts/${wallet.accountId}?minPosition=${wallet.position}`,
    });
    expect(behind.json().code).toBe('read_model_behind');
    const logged = lines.filter((line) => line['code'] === 'read_model_behind');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40 });
    expect(JSON.stringify(logged[0])).not.toMatch(/stack|at \w+ \(/);
    expect(lines.filter((line) => Number(line['level']) >= 50)).toEqual([]);
  });
});

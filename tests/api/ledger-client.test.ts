import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerApiError, LedgerClient } from '../../src/client/ledger-client.js';
import { createCaller, freshKey, startTestLedger, type TestLedger } from '../support/test-ledger.js';

/** The fetch-based client against a listening server: real HTTP, real body bytes, every call signed. */
describe('LedgerClient over HTTP', () => {
  let ledger: TestLedger;
  let baseUrl: string;
  beforeAll(async () => {
    ledger = await startTestLedger();
    baseUrl = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('opens, recharges and reads an account as an operator', async () => {
    const client = new LedgerClient({
      baseUrl,
      keyId: ledger.operator.keyId,
      privateKeyPem: ledger.operator.privateKeyPem,
    });
    const opened = await client.openAccount(
      { ownerId: 'u-client', type: 'wallet', currency: 'CNY', displayName: 'Zhāng Wěi 张伟' },
      { idempotencyKey: freshKey() },
    );
    const accountId = String(opened['accountId']);
    const charged = await client.recharge(
      { accountId, amount: '12.34', currency: 'CNY', channel: 'sim-bank' },
      { idempotencyKey: freshKey() },
    );
    const account = await client.getAccount(accountId, { minPosition: String(charged['position']) });
    expect(account).toMatchObject({ accountId, balance: '12.34', displayName: 'Zhāng Wěi 张伟' });
  });

  it('surfaces refusals as LedgerApiError with the problem', async () => {
    const merchant = await createCaller(ledger.service, 'merchant', 'Client merchant');
    const client = new LedgerClient({ baseUrl, keyId: merchant.keyId, privateKeyPem: merchant.privateKeyPem });
    await expect(
      client.openAccount({ ownerId: merchant.entityId, type: 'wallet', currency: 'CNY' }),
    ).rejects.toMatchObject({
      name: 'LedgerApiError',
      status: 403,
      problem: { code: 'forbidden' },
    });
    expect(await client.getEntity(merchant.entityId)).toMatchObject({ entityId: merchant.entityId, kind: 'merchant' });
    const impostor = new LedgerClient({
      baseUrl,
      keyId: `${merchant.entityId}/2`,
      privateKeyPem: merchant.privateKeyPem,
    });
    const error = await impostor.getEntity(merchant.entityId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LedgerApiError);
    expect((error as LedgerApiError).problem.code).toBe('key_unknown');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/client/signing.js';
import { createCaller, startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * Two service instances sharing one data directory (the embedded engines allow several processes):
 * a key revoked through one stops working there at once, and on the other within AUTH_ENTITY_REFRESH_MS;
 * a nonce accepted by one is refused by both.
 */
describe('authentication across instances', () => {
  const REFRESH_MS = 300;
  let first: TestLedger;
  let second: TestLedger;
  beforeAll(async () => {
    first = await startTestLedger(undefined, { AUTH_ENTITY_REFRESH_MS: String(REFRESH_MS) });
    second = await startTestLedger(first.dataDir, { AUTH_ENTITY_REFRESH_MS: String(REFRESH_MS) });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  it('refuses a revoked key on the revoking instance at once and on the other within the refresh bound', async () => {
    const merchant = await createCaller(first.service, 'merchant', 'Two instances');
    const readSelf = (ledger: TestLedger) =>
      ledger.inject({ method: 'GET', url: `/v1/entities/${merchant.entityId}` }, merchant);

    // The second instance learns the key (and caches the entity).
    expect((await readSelf(second)).statusCode).toBe(200);
    const revoked = await first.inject({
      method: 'POST',
      url: `/v1/entities/${merchant.entityId}/keys/1/revoke`,
      payload: { reason: 'leaked' },
    });
    expect(revoked.statusCode).toBe(200);
    const revokedAtMs = performance.now();
    expect((await readSelf(first)).json().code).toBe('key_revoked');

    let refusedAfterMs: number | undefined;
    while (refusedAfterMs === undefined && performance.now() - revokedAtMs < REFRESH_MS * 10) {
      if ((await readSelf(second)).statusCode === 401) refusedAfterMs = performance.now() - revokedAtMs;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refusedAfterMs).toBeDefined();
    // The bound, plus the time one poll takes.
    expect(refusedAfterMs!).toBeLessThan(REFRESH_MS + 200);
    expect((await readSelf(second)).json().code).toBe('key_revoked');
  });

  it('refuses on every instance a nonce accepted by one of them', async () => {
    const path = `/v1/entities/${first.operator.entityId}`;
    const headers = signRequest({
      method: 'GET',
      pathWithQuery: path,
      keyId: first.operator.keyId,
      privateKeyPem: first.operator.privateKey,
    });
    expect((await first.app.inject({ method: 'GET', url: path, headers })).statusCode).toBe(200);
    const replay = await second.app.inject({ method: 'GET', url: path, headers });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('nonce_reused');
  });
});

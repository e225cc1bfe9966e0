import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRANSIT_KEY_FILE } from '../../src/adapters/crypto/transit-keyring.js';
import { checkTransitKeyShared, ConfigError, loadConfig } from '../../src/config.js';
import { startTestLedger } from '../support/test-ledger.js';

/**
 * A transit credential lives for its TTL, across the service's restarts: the platform key the embedded
 * default signs with is generated once into DATA_DIR, not drawn afresh at each start (which refused
 * every credential issued before a restart: found by the crash soak).
 */
describe('transit: the platform key outlives a restart', () => {
  it('answers the same verification key after a restart on the same DATA_DIR, from a 0600 key file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-transit-key-'));
    const keysOf = async () => {
      const ledger = await startTestLedger(dataDir);
      try {
        const answer = await ledger.inject({ method: 'GET', url: '/v1/transit/keys' });
        expect(answer.statusCode).toBe(200);
        return answer.json<{ keys: Array<{ keyId: number; publicKey: string }> }>().keys;
      } finally {
        await ledger.close();
      }
    };
    const before = await keysOf();
    const after = await keysOf();
    expect(before).toHaveLength(1);
    expect(after).toEqual(before);
    expect(statSync(join(dataDir, TRANSIT_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('a configured key is used as it is, and is required when the stores are shared', async () => {
    const seed = Buffer.alloc(32, 7).toString('base64');
    const ledger = await startTestLedger(undefined, { TRANSIT_SIGNING_KEY: seed });
    try {
      const keys = (await ledger.inject({ method: 'GET', url: '/v1/transit/keys' })).json<{
        keys: Array<{ publicKey: string }>;
      }>().keys;
      const other = await startTestLedger(undefined, { TRANSIT_SIGNING_KEY: seed });
      const otherKeys = (await other.inject({ method: 'GET', url: '/v1/transit/keys' })).json<{
        keys: Array<{ publicKey: string }>;
      }>().keys;
      await other.close();
      expect(otherKeys).toEqual(keys);
    } finally {
      await ledger.close();
    }
    expect(() => checkTransitKeyShared(loadConfig({ EVENTSTORE_URL: 'esdb://db:2113' }))).toThrow(ConfigError);
    expect(() => checkTransitKeyShared(loadConfig({ MONGODB_URL: 'mongodb://db:27017/l' }))).toThrow(
      /TRANSIT_SIGNING_KEY: required/,
    );
    expect(() =>
      checkTransitKeyShared(loadConfig({ EVENTSTORE_URL: 'esdb://db:2113', TRANSIT_SIGNING_KEY: seed })),
    ).not.toThrow();
  });
});

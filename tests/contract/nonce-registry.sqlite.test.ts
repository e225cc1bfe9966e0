import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteNonceRegistry } from '../../src/adapters/sqlite/sqlite-nonce-registry.js';
import { nonceRegistryContract } from './nonce-registry.contract.js';

nonceRegistryContract(
  'sqlite (embedded)',
  async () => new SqliteNonceRegistry(join(mkdtempSync(join(tmpdir(), 'ledger-nonces-')), 'nonces.sqlite')),
);

describe('sqlite nonce registry', () => {
  it('purges in bounded steps, oldest expiry first', async () => {
    const registry = new SqliteNonceRegistry(join(mkdtempSync(join(tmpdir(), 'ledger-nonces-')), 'nonces.sqlite'));
    const now = new Date('2026-11-21T10:00:00.000Z');
    for (let i = 0; i < 3; i += 1)
      await registry.claim('m-x/1', `expired-nonce-00000${i}`, new Date(now.getTime() - 1_000 * (i + 1)));
    await registry.claim('m-x/1', 'live-nonce-000000001', new Date(now.getTime() + 1_000));
    expect(await registry.purgeExpired(now, 2)).toBe(2);
    expect(await registry.purgeExpired(now, 2)).toBe(1);
    expect(await registry.purgeExpired(now, 2)).toBe(0);
    expect(await registry.claim('m-x/1', 'live-nonce-000000001', now)).toBe(false);
    await registry.close();
  });

  it('refuses in one registry a nonce claimed through another, and remembers it after a reopen', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ledger-nonces-')), 'nonces.sqlite');
    const a = new SqliteNonceRegistry(file);
    const b = new SqliteNonceRegistry(file);
    const until = new Date(Date.now() + 60_000);
    expect(await a.claim('m-x/1', 'nonce-0000000000001', until)).toBe(true);
    expect(await b.claim('m-x/1', 'nonce-0000000000001', until)).toBe(false);
    await a.close();
    await b.close();
    const reopened = new SqliteNonceRegistry(file);
    expect(await reopened.claim('m-x/1', 'nonce-0000000000001', until)).toBe(false);
    await reopened.close();
  });
});

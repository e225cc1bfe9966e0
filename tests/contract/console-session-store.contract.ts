import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleSessionGrant, ConsoleSessionStore } from '../../src/ports/console-session-store.js';

/**
 * The console session store contract, for every adapter (SQLite always, MongoDB when MONGODB_URL is set).
 * Ids are unique per run so the suite can share a server; instants are relative to a fixed "now" far in
 * the future, so a TTL monitor never removes what a test still reads.
 */
export function consoleSessionStoreContract(adapterName: string, open: () => Promise<ConsoleSessionStore>): void {
  describe(`console session store contract: ${adapterName}`, () => {
    let store: ConsoleSessionStore;
    const NOW = Date.parse('2999-01-01T00:00:00.000Z');
    const grantOf = (overrides: Partial<ConsoleSessionGrant> = {}): ConsoleSessionGrant => ({
      sessionId: randomUUID(),
      linkHash: randomUUID(),
      entityId: 'op-contract',
      keyId: 'op-contract/1',
      role: 'operator',
      csrfToken: randomUUID(),
      createdAtMs: NOW,
      linkExpiresAtMs: NOW + 60_000,
      expiresAtMs: NOW + 3_600_000,
      ...overrides,
    });

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('opens a link once, and finds the session by its secret until it is revoked', async () => {
      const grant = grantOf({ role: 'auditor' });
      await store.grant(grant);
      const secret = randomUUID();
      const opened = await store.open(grant.linkHash, secret, NOW + 1);
      expect(opened).toMatchObject({ ...grant, openedAtMs: NOW + 1, revokedAtMs: null });
      expect(await store.open(grant.linkHash, randomUUID(), NOW + 2)).toBeNull();
      expect(await store.findBySecret(secret, NOW + 3)).toMatchObject({ sessionId: grant.sessionId, role: 'auditor' });
      expect(await store.revoke(grant.sessionId, NOW + 4)).toBe(true);
      expect(await store.revoke(grant.sessionId, NOW + 5)).toBe(false);
      expect(await store.findBySecret(secret, NOW + 6)).toBeNull();
    });

    it('lets exactly one of many concurrent openings of a link win', async () => {
      const grant = grantOf();
      await store.grant(grant);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.open(grant.linkHash, randomUUID(), NOW + 1)),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    it('refuses an expired link, a revoked link, and answers no expired session', async () => {
      const late = grantOf();
      await store.grant(late);
      expect(await store.open(late.linkHash, randomUUID(), late.linkExpiresAtMs)).toBeNull();
      const revoked = grantOf();
      await store.grant(revoked);
      expect(await store.revoke(revoked.sessionId, NOW + 1)).toBe(true);
      expect(await store.open(revoked.linkHash, randomUUID(), NOW + 2)).toBeNull();
      const short = grantOf({ expiresAtMs: NOW + 100_000 });
      await store.grant(short);
      const secret = randomUUID();
      expect(await store.open(short.linkHash, secret, NOW + 1)).not.toBeNull();
      expect(await store.findBySecret(secret, NOW + 99_999)).not.toBeNull();
      expect(await store.findBySecret(secret, NOW + 100_000)).toBeNull();
    });

    it('lists live sessions newest first, and purges expired ones in bounded steps', async () => {
      const base = NOW + 10_000_000;
      const older = grantOf({ createdAtMs: base, expiresAtMs: base + 1_000 });
      const newer = grantOf({ createdAtMs: base + 1, expiresAtMs: base + 1_000 });
      await store.grant(older);
      await store.grant(newer);
      const live = await store.listLive(base + 2, 200);
      const ids = live.map((s) => s.sessionId);
      expect(ids.indexOf(newer.sessionId)).toBeLessThan(ids.indexOf(older.sessionId));
      expect(ids.indexOf(older.sessionId)).toBeGreaterThanOrEqual(0);
      expect((await store.listLive(base + 1_000, 200)).map((s) => s.sessionId)).not.toContain(newer.sessionId);
      let purged = 0;
      for (let step = 0; step < 100; step += 1) {
        const removed = await store.purgeExpired(base + 1_000, 1);
        expect(removed).toBeLessThanOrEqual(1);
        if (removed === 0) break;
        purged += removed;
      }
      expect(purged).toBeGreaterThanOrEqual(2);
      expect(await store.revoke(older.sessionId, base)).toBe(false);
    });
  });
}

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NonceRegistry } from '../../src/ports/nonce-registry.js';

/**
 * The nonce registry contract: what every adapter must do. Run against the embedded SQLite adapter
 * always, and against MongoDB when MONGODB_URL is set. Key ids are unique per run so the suite can share
 * a server with other data; expiry instants are far in the past or future so another run's purge and
 * MongoDB's TTL monitor cannot disturb this one.
 */
export function nonceRegistryContract(adapterName: string, open: () => Promise<NonceRegistry>): void {
  describe(`nonce registry contract: ${adapterName}`, () => {
    let registry: NonceRegistry;
    const run = randomUUID();
    const keyId = (name: string) => `m-${run}/${name}`;
    const nonce = () => randomUUID().replaceAll('-', '');
    const FUTURE = new Date('2999-01-01T00:00:00.000Z');

    beforeAll(async () => {
      registry = await open();
    });
    afterAll(async () => {
      await registry.close();
    });

    it('accepts a nonce once per key', async () => {
      const n = nonce();
      expect(await registry.claim(keyId('1'), n, FUTURE)).toBe(true);
      expect(await registry.claim(keyId('1'), n, FUTURE)).toBe(false);
    });

    it('keeps the nonces of different keys apart', async () => {
      const n = nonce();
      expect(await registry.claim(keyId('1'), n, FUTURE)).toBe(true);
      expect(await registry.claim(keyId('2'), n, FUTURE)).toBe(true);
    });

    it('lets exactly one of many concurrent claims of a nonce win', async () => {
      const n = nonce();
      const results = await Promise.all(Array.from({ length: 20 }, () => registry.claim(keyId('race'), n, FUTURE)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('purges only expired nonces, at most the number asked, and a purged nonce may be claimed again', async () => {
      const key = keyId('purge');
      // Expired a second before `now` (MongoDB's TTL monitor may remove them first: the outcome is the same).
      const now = new Date();
      const expired = [nonce(), nonce(), nonce()];
      for (const n of expired) expect(await registry.claim(key, n, new Date(now.getTime() - 1_000))).toBe(true);
      const live = nonce();
      expect(await registry.claim(key, live, FUTURE)).toBe(true);

      expect(await registry.purgeExpired(now, 1)).toBeLessThanOrEqual(1);
      // Other runs' expired rows (a shared server) may be purged too; loop until nothing expired is left.
      let rounds = 0;
      while ((await registry.purgeExpired(now, 1_000)) > 0 && rounds < 1_000) rounds += 1;
      for (const n of expired) expect(await registry.claim(key, n, FUTURE)).toBe(true);
      expect(await registry.claim(key, live, FUTURE)).toBe(false);
    });

    it('refuses a purge limit that is not a positive integer', async () => {
      await expect(registry.purgeExpired(new Date(), 0)).rejects.toThrow(RangeError);
    });
  });
}

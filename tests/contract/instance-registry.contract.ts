import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INSTANCES_LISTED, type InstanceRegistry } from '../../src/ports/instance-registry.js';

/**
 * The instance registry contract: what every adapter must do. Run against the embedded SQLite adapter
 * always, and against MongoDB when MONGODB_URL is set. Instance ids are unique per run so the suite can
 * share a server with other data; its instants are in year 2999 (far after anything another run purges).
 */
export function instanceRegistryContract(adapterName: string, open: () => Promise<InstanceRegistry>): void {
  describe(`instance registry contract: ${adapterName}`, () => {
    let registry: InstanceRegistry;
    const run = randomUUID().slice(0, 8);
    const id = (name: string) => `test-${run}-${name}`;
    const at = (seconds: number) => new Date(Date.UTC(2999, 0, 1, 0, 0, seconds));

    beforeAll(async () => {
      registry = await open();
    });
    afterAll(async () => {
      await registry.close();
    });

    it('records an instance alive as of its start, and knows no other', async () => {
      await registry.register(id('a'), at(0));
      expect(await registry.instance(id('a'))).toEqual({
        instanceId: id('a'),
        startedAt: at(0),
        lastBeatAt: at(0),
        endedAt: null,
        processGone: false,
      });
      expect(await registry.instance(id('never'))).toBeUndefined();
    });

    it('refuses to register an id twice, and ids that are not plain', async () => {
      await registry.register(id('twice'), at(0));
      await expect(registry.register(id('twice'), at(1))).rejects.toThrow();
      await expect(registry.register('../escape', at(0))).rejects.toThrow(RangeError);
      await expect(registry.register('x'.repeat(101), at(0))).rejects.toThrow(RangeError);
    });

    it('moves the heartbeat forward only, and beats no instance it does not know', async () => {
      await registry.register(id('beat'), at(0));
      expect(await registry.beat(id('beat'), at(5))).toBe(true);
      expect(await registry.beat(id('beat'), at(3))).toBe(true);
      expect((await registry.instance(id('beat')))?.lastBeatAt).toEqual(at(5));
      expect(await registry.beat(id('unknown'), at(5))).toBe(false);
    });

    it('marks an instance ended once, and beats it no more', async () => {
      await registry.register(id('end'), at(0));
      await registry.end(id('end'), at(7));
      await registry.end(id('end'), at(9));
      expect(await registry.beat(id('end'), at(10))).toBe(false);
      expect(await registry.instance(id('end'))).toMatchObject({
        endedAt: at(7),
        lastBeatAt: at(0),
        processGone: false,
      });
    });

    it('lists the latest heartbeat first, at most as many as asked', async () => {
      for (const [name, second] of [
        ['l1', 20],
        ['l2', 22],
        ['l3', 21],
      ] as const) {
        await registry.register(id(name), at(0));
        await registry.beat(id(name), at(second));
      }
      const listed = (await registry.list(3)).map((record) => record.instanceId);
      expect(listed).toEqual([id('l2'), id('l3'), id('l1')]);
      expect(await registry.list(1)).toHaveLength(1);
      await expect(registry.list(0)).rejects.toThrow(RangeError);
      await expect(registry.list(MAX_INSTANCES_LISTED + 1)).rejects.toThrow(RangeError);
    });

    it('purges only the records silent since before the instant, at most the number asked', async () => {
      await registry.register(id('old'), new Date('1999-01-01T00:00:00Z'));
      await registry.register(id('recent'), at(0));
      let removed = 0;
      for (let round = 0; round < 1_000; round += 1) {
        const step = await registry.purgeSilentSince(new Date('2000-01-01T00:00:00Z'), 1);
        expect(step).toBeLessThanOrEqual(1);
        if (step === 0) break;
        removed += step;
      }
      expect(removed).toBeGreaterThanOrEqual(1);
      expect(await registry.instance(id('old'))).toBeUndefined();
      expect(await registry.instance(id('recent'))).toBeDefined();
      await expect(registry.purgeSilentSince(new Date(), 0)).rejects.toThrow(RangeError);
    });
  });
}

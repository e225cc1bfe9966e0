import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStaging, stagingAreaFor, type BulkRebuildConfig } from '../../src/adapters/bulk-rebuild.js';
import { openReadModelStore } from '../../src/adapters/storage.js';
import type { CollectionSpec } from '../../src/ports/read-model-store.js';

/**
 * The rebuild's staging area, on every read-model engine: what a worker writes there (src/ports/
 * read-model-staging.ts) and how a completed area replaces the live read models of the projections it
 * rebuilt, leaving the others alone (src/adapters/bulk-rebuild.ts stagingAreaFor). Run against the
 * embedded SQLite files always, and against MongoDB when MONGODB_URL is set. Names are unique per run.
 */
export function readModelStagingContract(engine: string, configOf: () => BulkRebuildConfig): void {
  describe(`read-model staging contract: ${engine}`, () => {
    const run = randomUUID().replaceAll('-', '').slice(0, 12);
    const rebuilt = { name: `rebuilt-${run}`, collections: [`lines_${run}`, `heads_${run}`] };
    const kept = { name: `kept-${run}`, collections: [`kept_${run}`] };
    const specs: CollectionSpec[] = [
      { name: `lines_${run}`, indexes: ['account'], writeOnce: true },
      { name: `heads_${run}`, indexes: ['currency'] },
    ];
    const keptSpecs: CollectionSpec[] = [{ name: `kept_${run}`, indexes: ['n'] }];
    let config: BulkRebuildConfig;

    beforeAll(async () => {
      config = configOf();
      await stagingAreaFor(config).discard();
      // Closed before the swap, as `ledger rebuild` runs with no service holding the read models.
      const live = await openReadModelStore(config);
      await live.ensureCollections([...specs, ...keptSpecs]);
      // Read models already there: the rebuilt projection's (to be replaced whole) and another's.
      await live.applyBatch(
        rebuilt.name,
        [
          { collection: `heads_${run}`, id: 'stale', data: { currency: 'USD' }, position: 3n },
          { collection: `lines_${run}`, id: 'stale-line', data: { account: 'stale' }, position: 3n },
        ],
        3n,
      );
      await live.applyBatch(kept.name, [{ collection: `kept_${run}`, id: 'k', data: { n: 1 }, position: 2n }], 2n);
      await live.close();
    });
    afterAll(async () => {
      await stagingAreaFor(config).discard();
    });

    it('a write-once document written twice fails, by the time its projection completes', async () => {
      const area = stagingAreaFor(config);
      const staging = await openStaging(area.target(1));
      try {
        const once = `once_${run}`;
        await staging.ensureCollections([{ name: once, indexes: [], writeOnce: true }]);
        await expect(
          (async () => {
            await staging.writeDocuments([{ collection: once, id: 'x', data: { v: 1 }, position: 1n }]);
            await staging.writeDocuments([{ collection: once, id: 'x', data: { v: 2 }, position: 2n }]);
            await staging.completeProjection(`once-${run}`, [once], 2n);
          })(),
        ).rejects.toThrow();
      } finally {
        await staging.close();
        await area.discard();
      }
    });

    it('keeps what was staged, replaced by a higher position only, and swaps it in for the rebuilt projection alone', async () => {
      const area = stagingAreaFor(config);
      const staging = await openStaging(area.target(0));
      try {
        await staging.ensureCollections(specs);
        await staging.writeDocuments([
          { collection: `heads_${run}`, id: 'h1', data: { currency: 'CNY', v: 1 }, position: 10n },
          { collection: `heads_${run}`, id: 'h2', data: { currency: 'EUR' }, position: 11n },
          { collection: `heads_${run}`, id: 'gone', data: null, position: 12n },
          { collection: `lines_${run}`, id: 'l1', data: { account: 'h1' }, position: 10n },
        ]);
        await staging.writeDocuments([
          { collection: `heads_${run}`, id: 'h1', data: { currency: 'CNY', v: 2 }, position: 13n },
          { collection: `heads_${run}`, id: 'h2', data: { currency: 'EUR', older: true }, position: 11n },
          { collection: `lines_${run}`, id: 'l2', data: { account: 'h2' }, position: 11n },
        ]);
        const read = await staging.getMany(`heads_${run}`, ['h1', 'h2', 'gone', 'never']);
        expect([...read.keys()].sort()).toEqual(['h1', 'h2']);
        expect(read.get('h1')).toEqual({ id: 'h1', position: 13n, data: { currency: 'CNY', v: 2 } });
        expect(read.get('h2')!.data).toEqual({ currency: 'EUR' });
        await staging.completeProjection(rebuilt.name, rebuilt.collections, 13n);
      } finally {
        await staging.close();
      }
      await area.swapIn([rebuilt], 1);

      const after = await openReadModelStore(config);
      try {
        await after.ensureCollections([...specs, ...keptSpecs]);
        const heads = await after.find(`heads_${run}`, { limit: 10 });
        expect(heads.items.map((d) => [d.id, d.position, d.data])).toEqual([
          ['h1', 13n, { currency: 'CNY', v: 2 }],
          ['h2', 11n, { currency: 'EUR' }],
        ]);
        const byAccount = await after.find(`lines_${run}`, { where: { account: 'h2' }, limit: 10 });
        expect(byAccount.items.map((d) => d.id)).toEqual(['l2']);
        expect(await after.get(`lines_${run}`, 'stale-line')).toBeNull();
        expect(await after.getCheckpoint(rebuilt.name)).toBe(13n);
        // The projection not rebuilt is as it was.
        expect(await after.get(`kept_${run}`, 'k')).toEqual({ id: 'k', position: 2n, data: { n: 1 } });
        expect(await after.getCheckpoint(kept.name)).toBe(2n);
        // The swapped-in collections take live writes as before.
        await after.applyBatch(
          rebuilt.name,
          [{ collection: `heads_${run}`, id: 'h1', data: { currency: 'CNY', v: 3 }, position: 20n }],
          20n,
        );
        expect((await after.get(`heads_${run}`, 'h1'))!.data).toEqual({ currency: 'CNY', v: 3 });
      } finally {
        await after.close();
      }
    });
  });
}

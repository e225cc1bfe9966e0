import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlineRebuildAreaFor } from '../../src/adapters/online-rebuild-area.js';
import { openReadModelStore } from '../../src/adapters/storage.js';
import type { LedgerConfig } from '../../src/config.js';
import { LeaseLostError, type CollectionSpec, type ReadModelStore } from '../../src/ports/read-model-store.js';

/**
 * The online rebuild's area on every read-model engine (src/ports/read-model-staging.ts
 * OnlineRebuildArea): a build beside the live documents while another connection reads them, caught up
 * as a store, switched in at once (the reader sees the old model whole before, the new one after) with
 * its version, refused when fenced out or behind the live checkpoint, and dropped whole by discardAll (a
 * crash's leftovers). Run against SQLite always, MongoDB when MONGODB_URL is set. Names unique per run.
 */
export function onlineRebuildAreaContract(
  engine: string,
  configOf: () => Pick<LedgerConfig, 'dataDir' | 'mongoUrl'>,
): void {
  describe(`online rebuild area contract: ${engine}`, () => {
    const run = randomUUID().replaceAll('-', '').slice(0, 12);
    const projection = `online-${run}`;
    const heads = `oheads_${run}`;
    const lines = `olines_${run}`;
    const specs: CollectionSpec[] = [
      { name: heads, indexes: ['currency'] },
      { name: lines, indexes: ['account'], writeOnce: true },
    ];
    const lease = `online-lease-${run}`;
    let config: Pick<LedgerConfig, 'dataDir' | 'mongoUrl'>;
    let live: ReadModelStore;
    let reader: ReadModelStore;
    /** What the reader is served of the projection: its checkpoint and documents. */
    const served = async () => [
      await reader.getCheckpoint(projection),
      (await reader.find(heads, { limit: 100 })).items,
      (await reader.find(lines, { limit: 100 })).items,
    ];

    beforeAll(async () => {
      config = configOf();
      live = await openReadModelStore(config);
      reader = await openReadModelStore(config);
      for (const store of [live, reader]) await store.ensureCollections(specs);
      await live.applyBatch(
        projection,
        [
          { collection: heads, id: 'old', data: { currency: 'USD' }, position: 4n },
          { collection: lines, id: 'old-line', data: { account: 'old' }, position: 4n },
        ],
        5n,
      );
    });
    afterAll(async () => {
      await onlineRebuildAreaFor(config, live).discardAll();
      await reader.close();
      await live.close();
    });

    it('builds beside the live model, catches up, and switches it in at once with its version', async () => {
      const area = onlineRebuildAreaFor(config, live);
      await area.discardAll();
      const build = await area.openBuild(projection);
      try {
        await build.ensureCollections(specs);
        await build.writeDocuments([
          { collection: heads, id: 'h1', data: { currency: 'CNY' }, position: 2n },
          { collection: lines, id: 'l1', data: { account: 'h1' }, position: 2n },
        ]);
        await build.completeProjection(projection, [heads, lines], 6n);
      } finally {
        await build.close();
      }
      const catchUp = await area.openCatchUp(projection);
      try {
        await catchUp.ensureCollections(specs);
        expect(await catchUp.getCheckpoint(projection)).toBe(6n);
        await catchUp.applyBatch(
          projection,
          [{ collection: heads, id: 'h2', data: { currency: 'CNY' }, position: 8n }],
          8n,
        );
      } finally {
        await catchUp.close();
      }
      // Until the switch, the reader sees the live model, whole.
      expect((await reader.get(heads, 'old'))?.data).toEqual({ currency: 'USD' });
      expect(await reader.get(heads, 'h1')).toBeNull();

      const grant = await live.acquireLease(lease, 'rebuilder', 60_000);
      await area.switchIn(
        { name: projection, collections: [heads, lines], version: 3 },
        { lease, token: grant!.token },
      );

      const cny = await reader.find(heads, { where: { currency: 'CNY' }, limit: 10 });
      expect(cny.items.map((d) => [d.id, d.position])).toEqual([
        ['h1', 2n],
        ['h2', 8n],
      ]);
      expect(await reader.get(heads, 'old')).toBeNull();
      expect(await reader.get(lines, 'old-line')).toBeNull();
      expect((await reader.find(lines, { where: { account: 'h1' }, limit: 10 })).items.map((d) => d.id)).toEqual([
        'l1',
      ]);
      expect(await reader.getCheckpoint(projection)).toBe(8n);
      expect((await reader.getProjectionVersions()).get(projection)).toBe(3);
      // The switched-in collections take live writes as before.
      await live.applyBatch(projection, [{ collection: heads, id: 'h1', data: { currency: 'EUR' }, position: 9n }], 9n);
      expect((await reader.get(heads, 'h1'))?.data).toEqual({ currency: 'EUR' });
      await live.releaseLease(grant!);
    });

    it('refuses a build behind the live checkpoint, or one fenced out, changing nothing', async () => {
      const area = onlineRebuildAreaFor(config, live);
      const buildAt = async (checkpoint: bigint) => {
        const build = await area.openBuild(projection);
        try {
          await build.ensureCollections(specs);
          await build.writeDocuments([{ collection: heads, id: 'behind', data: { currency: 'JPY' }, position: 1n }]);
          await build.completeProjection(projection, [heads, lines], checkpoint);
        } finally {
          await build.close();
        }
      };
      const before = await served();
      await buildAt(3n);
      await expect(area.switchIn({ name: projection, collections: [heads, lines], version: 4 })).rejects.toThrow(
        /behind/,
      );
      await buildAt(100n);
      const grant = await live.acquireLease(lease, 'rebuilder', 60_000);
      await expect(
        area.switchIn(
          { name: projection, collections: [heads, lines], version: 4 },
          { lease, token: grant!.token - 1n },
        ),
      ).rejects.toBeInstanceOf(LeaseLostError);
      await live.releaseLease(grant!);
      expect(await served()).toEqual(before);
      expect((await reader.getProjectionVersions()).get(projection)).toBe(3);
    });

    it('discardAll drops what an interrupted build left, and the live model stays', async () => {
      const area = onlineRebuildAreaFor(config, live);
      const build = await area.openBuild(projection);
      await build.ensureCollections(specs);
      await build.writeDocuments([{ collection: heads, id: 'partial', data: { currency: 'GBP' }, position: 1n }]);
      await build.close();
      await area.discardAll();
      const left = await area.openCatchUp(projection);
      try {
        await left.ensureCollections(specs);
        expect(await left.get(heads, 'partial')).toBeNull();
        expect(await left.getCheckpoint(projection)).toBe('start');
      } finally {
        await left.close();
        await area.discard(projection);
      }
      expect((await reader.get(heads, 'h1'))?.data).toEqual({ currency: 'EUR' });
      expect(await reader.getCheckpoint(projection)).toBe(9n);
    });
  });
}

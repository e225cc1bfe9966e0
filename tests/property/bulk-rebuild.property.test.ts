import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rebuildReadModelsInBulk, shareOut } from '../../src/adapters/bulk-rebuild.js';
import { stagingFileFor, swapInStagingFiles } from '../../src/adapters/sqlite/bulk-swap.js';
import { SqliteReadModelStore, readModelTable } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { READ_MODELS_FILE } from '../../src/adapters/storage.js';
import { logPrefix } from '../../src/audit/log-prefix.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { projectionsFor } from '../../src/projections/all-projections.js';
import { rebuildProjectionsInBulk, type BulkRebuildLimits } from '../../src/projections/bulk-rebuild.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { commandFixture } from '../support/command-fixtures.js';
import { runScenario, scenarioStep } from '../support/ledger-scenarios.js';
import { canonicalDump } from '../support/read-model-documents.js';

/** Every read model, for the default accounting time zone (the one these runs configure). */
const PROJECTIONS = projectionsFor('Asia/Shanghai');

/**
 * The bulk rebuild (src/projections/bulk-rebuild.ts, bulk-builder.ts, the staging files and their
 * assembly) gives the live runner's read models byte for byte, over random operation histories run
 * through the command side: every document with its position and JSON text, and every checkpoint. The
 * limits are drawn small so the cache evicts, documents are written and read back, writes are split and
 * batches cut at every place; the projections are shared out among one to three staging files.
 */

const limits: fc.Arbitrary<BulkRebuildLimits> = fc.record({
  maxBatchEvents: fc.integer({ min: 1, max: 40 }),
  maxCachedDocuments: fc.integer({ min: 1, max: 25 }),
  maxPendingWrites: fc.integer({ min: 1, max: 12 }),
});

/** Every row of every projection table, tombstones included: id, position and the stored JSON text. */
function rawRows(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const lines: string[] = [];
    for (const spec of PROJECTIONS.flatMap((p) => p.collections)) {
      const rows = db.prepare(`SELECT id, position, doc FROM ${readModelTable(spec.name)} ORDER BY id`).all() as {
        id: string;
        position: number;
        doc: string | null;
      }[];
      for (const row of rows) lines.push(`${spec.name} ${row.id} ${row.position} ${row.doc}`);
    }
    const checkpoints = db.prepare(`SELECT projection, position FROM rm_checkpoints ORDER BY projection`).all();
    return `${lines.join('\n')}\n${JSON.stringify(checkpoints)}`;
  } finally {
    db.close();
  }
}

/** The live runner's read models of the whole log, in a file of their own. */
async function liveReadModels(eventStore: EventStore, file: string, maxBatchEvents: number): Promise<void> {
  const live = new SqliteReadModelStore(file);
  try {
    await new ProjectionRunner(eventStore, live, PROJECTIONS, { maxBatchEvents }).catchUp();
  } finally {
    await live.close();
  }
}

async function dumpOf(file: string): Promise<string> {
  const store = new SqliteReadModelStore(file);
  try {
    await store.ensureCollections(PROJECTIONS.flatMap((p) => p.collections));
    return await canonicalDump(store, PROJECTIONS);
  } finally {
    await store.close();
  }
}

describe('the bulk rebuild gives the live runner its read models byte for byte', () => {
  it('over random histories, limits and groupings of projections', async () => {
    let spilledRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(scenarioStep, { minLength: 5, maxLength: 30 }),
        fc.integer({ min: 1, max: 60 }),
        limits,
        fc.integer({ min: 1, max: 3 }),
        async (steps, liveBatchEvents, bulkLimits, workers) => {
          const fixture = commandFixture();
          try {
            await runScenario(fixture.commands, steps);
            const liveFile = join(fixture.dataDir, 'live.sqlite');
            await liveReadModels(fixture.eventStore, liveFile, liveBatchEvents);

            // The workers' part, in this thread: each group of projections into a staging file of its own.
            const head = await fixture.eventStore.headPosition();
            if (head === 'start') throw new Error('the history wrote nothing');
            const rebuiltFile = join(fixture.dataDir, READ_MODELS_FILE);
            const groups = shareOut(PROJECTIONS, workers);
            for (const [index, group] of groups.entries()) {
              const staging = new SqliteReadModelStore(stagingFileFor(rebuiltFile, index), { bulk: true });
              try {
                await rebuildProjectionsInBulk(fixture.eventStore, staging, group, {
                  through: head,
                  limits: bulkLimits,
                });
              } finally {
                await staging.close();
              }
            }
            swapInStagingFiles(
              rebuiltFile,
              groups.map((_, index) => stagingFileFor(rebuiltFile, index)),
              {
                projections: PROJECTIONS.map((p) => p.name),
                tables: PROJECTIONS.flatMap((p) => p.collections.map((c) => readModelTable(c.name))),
              },
            );
            expect(readdirSync(fixture.dataDir).filter((name) => name.includes('.rebuild-'))).toEqual([]);
            expect(rawRows(rebuiltFile)).toBe(rawRows(liveFile));
            expect(await dumpOf(rebuiltFile)).toBe(await dumpOf(liveFile));
            if (bulkLimits.maxCachedDocuments < 10) spilledRuns += 1;
          } finally {
            await fixture.close();
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(spilledRuns).toBeGreaterThan(3);
  }, 180_000);

  it('through the worker threads and the swap, replacing read models already there', async () => {
    const fixture = commandFixture();
    try {
      await runScenario(fixture.commands, fc.sample(scenarioStep, { numRuns: 40, seed: 9 }));
      const liveFile = join(fixture.dataDir, 'live.sqlite');
      await liveReadModels(fixture.eventStore, liveFile, 7);
      const head = await fixture.eventStore.headPosition();
      if (head === 'start') throw new Error('the history wrote nothing');
      // Read models already in place, half-way through the log: the rebuild replaces them whole.
      const rebuiltFile = join(fixture.dataDir, READ_MODELS_FILE);
      await liveReadModels(logPrefix(fixture.eventStore, head / 2n), rebuiltFile, 3);
      expect(rawRows(rebuiltFile)).not.toBe(rawRows(liveFile));
      const tally = await rebuildReadModelsInBulk({
        config: {
          dataDir: fixture.dataDir,
          eventStoreUrl: undefined,
          mongoUrl: undefined,
          accountingTimeZone: 'Asia/Shanghai',
        },
        projections: PROJECTIONS,
        through: head,
        workers: 2,
        limits: { maxBatchEvents: 9, maxCachedDocuments: 4, maxPendingWrites: 5 },
      });
      expect(tally.events).toBeGreaterThan(40);
      expect(tally.lastPosition).toBe(head);
      expect(existsSync(stagingFileFor(rebuiltFile, 0))).toBe(false);
      expect(rawRows(rebuiltFile)).toBe(rawRows(liveFile));
      expect(await dumpOf(rebuiltFile)).toBe(await dumpOf(liveFile));
    } finally {
      await fixture.close();
    }
  }, 60_000);
});

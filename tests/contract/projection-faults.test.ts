import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectionsFor } from '../../src/adapters/ledger-service.js';
import { MongoReadModelStore } from '../../src/adapters/mongo/mongo-read-model-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { ReadModelWriteUnknownError, type ReadModelStore } from '../../src/ports/read-model-store.js';
import { commandFixture, payRepeatedly } from '../support/command-fixtures.js';
import { readModelContents } from '../support/read-model-contents.js';
import { FaultyReadModelStore } from './faulty-read-model-store.js';

/**
 * Read models and checkpoints never diverge when a batch write fails half-way: the runner's retry leaves
 * exactly what a run without the fault leaves. On the embedded store always, and on MongoDB (a database of
 * its own per run) when MONGODB_URL is set.
 */
const projections = projectionsFor('Asia/Shanghai');
const mongoUrl = process.env['MONGODB_URL'];
const stores: Array<[string, () => Promise<ReadModelStore>]> = [
  [
    'sqlite (embedded)',
    async () => new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-rmf-')), 'rm.db')),
  ],
];
if (mongoUrl) {
  stores.push([
    'mongo (MONGODB_URL)',
    () => MongoReadModelStore.connect(mongoUrl, { databaseName: `ledger_faults_${randomUUID().slice(0, 8)}` }),
  ]);
}

function everything(store: ReadModelStore): ReturnType<typeof readModelContents> {
  return readModelContents(store, projections);
}

for (const [engine, open] of stores) {
  describe(`projections over a batch that failed half-way: ${engine}`, () => {
    const fixture = commandFixture();
    let clean: ReadModelStore;
    let faulty: FaultyReadModelStore;

    beforeAll(async () => {
      await payRepeatedly(fixture.commands, 'm-rmf', 4);
      clean = await open();
      faulty = new FaultyReadModelStore(await open());
    });
    afterAll(async () => {
      await Promise.all([clean.close(), faulty.close(), fixture.close()]);
    });

    it('retries to exactly what a run without the fault leaves', async () => {
      await new ProjectionRunner(fixture.eventStore, clean, projections, { maxBatchEvents: 3 }).catchUp();
      // Written after every page, so the log makes several batches per projection.
      const runner = new ProjectionRunner(fixture.eventStore, faulty, projections, {
        maxBatchEvents: 3,
        catchUpFlushEvents: 1,
      });
      // The first batch of every projection goes through; the balances' second is cut short.
      faulty.failNextBatches(...projections.map(() => 'none' as const), 'half-written');
      await expect(runner.catchUp()).rejects.toBeInstanceOf(ReadModelWriteUnknownError);
      const head = await fixture.eventStore.headPosition();
      expect(await faulty.getCheckpoint(projections[0]!.name)).not.toBe(head);
      await runner.catchUp();
      expect(await everything(faulty)).toEqual(await everything(clean));
      for (const projection of projections) {
        expect(await faulty.getCheckpoint(projection.name)).toBe(await clean.getCheckpoint(projection.name));
      }
    });
  });
}

import { join } from 'node:path';
import { projectionsFor } from '../../src/adapters/ledger-service.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { FaultyReadModelStore } from './faulty-read-model-store.js';

/**
 * Child process of coalesced-writes.test.ts: runs the projections live over DATA_DIR (argv[2]) with
 * coalesced writes, and dies (SIGKILL) in store batch number argv[3], after that batch's documents are
 * written and before its checkpoint is.
 */
const [dataDir, crashAtText] = process.argv.slice(2);
if (dataDir === undefined || crashAtText === undefined) throw new Error('usage: <dataDir> <crashAtBatch>');
const projections = projectionsFor('Asia/Shanghai');
const eventStore = new SqliteEventStore(join(dataDir, 'events.sqlite'));
const readModels = new FaultyReadModelStore(new SqliteReadModelStore(join(dataDir, 'read-models.sqlite')));
readModels.failNextBatches(
  ...Array.from({ length: Number(crashAtText) - 1 }, () => 'none' as const),
  'crash-after-documents',
);
const runner = new ProjectionRunner(eventStore, readModels, projections, {
  maxBatchEvents: 7,
  maxPendingEvents: 20,
  flushIntervalMs: 1,
  onError: (error) => {
    console.error(error);
    process.exit(1);
  },
});
await runner.start();
// A crash that never comes is a failure the parent sees (exit code 2), not a hang.
setTimeout(() => process.exit(2), 20_000);

import { join } from 'node:path';
import { rebuildReadModelsInBulk } from '../src/adapters/bulk-rebuild.js';
import { SqliteEventStore } from '../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../src/adapters/sqlite/sqlite-read-model-store.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../src/adapters/storage.js';
import { DEFAULT_ACCOUNTING_TIME_ZONE } from '../src/projections/accounting-zone.js';
import { projectionsFor } from '../src/projections/all-projections.js';
import { BALANCES_COLLECTION, type BalanceDocument } from '../src/projections/balances.js';
import { MAX_FIND_LIMIT } from '../src/ports/read-model-store.js';
import { nowMs } from './harness.js';
import { rawRead } from './projection-catchup.js';

/** Every read model, for the default accounting time zone (the one these runs configure). */
const PROJECTIONS = projectionsFor(DEFAULT_ACCOUNTING_TIME_ZONE);

/**
 * The measured half of the rebuild-1m benchmark, in a process of its own, so its peak RSS is the
 * measured work's alone (plus what Node and the modules take, as in `ledger rebuild`), not the log
 * generator's. Started by bench/rebuild-1m.ts with one job as JSON in argv[2], before the log is made:
 * it loads its code, says 'ready', waits for 'go' (so it runs the code the log was made with, even if
 * dist/ is rebuilt meanwhile; the rebuild's worker threads load theirs when they start), runs the job
 * and reports one message over IPC.
 *
 *   rebuild: every projection in PROJECTIONS (as they are at run time) rebuilt from event zero in bulk
 *            (rebuildReadModelsInBulk, the path `ledger rebuild` takes) into the DATA_DIR `dataDir`.
 *   raw:     the baseline, projection-catchup's raw better-sqlite3 read of every row with JSON.parse.
 */

export type RebuildChildJob =
  { readonly kind: 'rebuild'; readonly dataDir: string } | { readonly kind: 'raw'; readonly eventsFile: string };

export type RebuildChildReport =
  | {
      readonly ok: true;
      /** Events applied (rebuild) or rows read (raw). */
      readonly events: number;
      readonly seconds: number;
      /** The process's peak resident set size (getrusage ru_maxrss), bytes. */
      readonly peakRssBytes: number;
      /** rebuild only: the projections rebuilt, each with its checkpoint afterwards (decimal). */
      readonly checkpoints?: Record<string, string>;
      readonly head?: string;
      /** rebuild only: accounts in the balances read model and the sum of their balances (decimal, minor units). */
      readonly balances?: { readonly accounts: number; readonly totalMinor: string };
    }
  | { readonly ok: false; readonly error: string };

async function rebuild(job: Extract<RebuildChildJob, { kind: 'rebuild' }>): Promise<RebuildChildReport> {
  const eventStore = new SqliteEventStore(join(job.dataDir, EVENTS_FILE));
  const head = await eventStore.headPosition();
  await eventStore.close();
  if (head === 'start') throw new Error('the log is empty');
  const started = nowMs();
  const tally = await rebuildReadModelsInBulk({
    config: {
      dataDir: job.dataDir,
      eventStoreUrl: undefined,
      mongoUrl: undefined,
      accountingTimeZone: DEFAULT_ACCOUNTING_TIME_ZONE,
    },
    projections: PROJECTIONS,
    through: head,
  });
  const seconds = (nowMs() - started) / 1000;
  // The whole process's peak, its worker threads included (they are threads of this process).
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  // Checked after the peak is taken: the checks' own reads must not count.
  const readModels = new SqliteReadModelStore(join(job.dataDir, READ_MODELS_FILE));
  try {
    await readModels.ensureCollections(PROJECTIONS.flatMap((p) => p.collections));
    const checkpoints: Record<string, string> = {};
    for (const projection of PROJECTIONS)
      checkpoints[projection.name] = String(await readModels.getCheckpoint(projection.name));
    return {
      ok: true,
      events: tally.events,
      seconds,
      peakRssBytes,
      checkpoints,
      head: String(head),
      balances: await sumBalances(readModels),
    };
  } finally {
    await readModels.close();
  }
}

async function sumBalances(readModels: SqliteReadModelStore): Promise<{ accounts: number; totalMinor: string }> {
  let accounts = 0;
  let totalMinor = 0n;
  let after: string | undefined;
  do {
    const page = await readModels.find<BalanceDocument>(BALANCES_COLLECTION, {
      limit: MAX_FIND_LIMIT,
      ...(after ? { after } : {}),
    });
    for (const doc of page.items) {
      accounts += 1;
      totalMinor += BigInt(doc.data.balanceMinor);
    }
    after = page.nextCursor ?? undefined;
  } while (after);
  return { accounts, totalMinor: totalMinor.toString() };
}

async function main(job: RebuildChildJob): Promise<RebuildChildReport> {
  if (job.kind === 'rebuild') return rebuild(job);
  const { rows, seconds } = rawRead(job.eventsFile);
  return { ok: true, events: rows, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

function report(message: RebuildChildReport): void {
  // Disconnecting lets the process end: an open IPC channel would keep it alive.
  process.send!(message, undefined, undefined, () => process.disconnect());
}

process.once('message', (message: unknown) => {
  if (message !== 'go') return report({ ok: false, error: `expected 'go', got ${JSON.stringify(message)}` });
  main(JSON.parse(process.argv[2] ?? '{}') as RebuildChildJob).then(report, (error: unknown) =>
    report({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.send!('ready');

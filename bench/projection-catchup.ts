import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../src/adapters/sqlite/sqlite-read-model-store.js';
import { BALANCES_COLLECTION, balancesProjection, type BalanceDocument } from '../src/projections/balances.js';
import { ProjectionRunner } from '../src/projections/projection-runner.js';
import {
  RssSampler,
  extraFigure,
  log,
  nowMs,
  targetFigure,
  timed,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
} from './harness.js';
import { benchAmountMinor, openAccountEvent, rechargeEvent, type OpenedAccount } from './ledger-fixtures.js';

/**
 * Rebuilding a read model: `ProjectionRunner.catchUp()` of the balances projection over a log of
 * 2,000 opened wallets and their recharges, into a fresh SqliteReadModelStore.
 *
 * Baseline, same file, same run (measured before and after the catch-up): the least any catch-up must
 * do, a raw better-sqlite3 read of every row in position order with JSON.parse of data and metadata. The
 * target ratio (0.5) leaves the runner as much time again for decoding, projecting and writing documents.
 */
export const name = 'projection-catchup';

const ACCOUNTS = 2_000;
const TARGET_RATIO = 0.5;
const LOG_EVENTS = { full: 200_000, quick: 50_000 } as const;
/**
 * Appends in flight while the log is prepared. At most ACCOUNTS, so one round touches each stream once
 * (expected revisions stay exact); at most the store's 512 appends per commit, so a round is one commit.
 */
const PREPARE_APPENDS_IN_FLIGHT = 500;

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const logEvents = options.quick ? LOG_EVENTS.quick : LOG_EVENTS.full;
  return withTempDir(name, async (dir) => {
    const eventsFile = join(dir, 'events.sqlite');
    log(
      name,
      `preparing a log of ${logEvents.toLocaleString('en-US')} events (${ACCOUNTS} accounts, the rest recharges)`,
    );
    const { seconds: prepareSeconds, result: expectedTotalMinor } = await timed(() =>
      prepareLog(eventsFile, logEvents),
    );
    log(name, `prepared in ${prepareSeconds.toFixed(1)} s`);

    // An unmeasured pass warms the page cache and the JIT for both measurements.
    const warmup = rawRead(eventsFile);
    if (warmup.rows !== logEvents) throw new Error(`raw read found ${warmup.rows} rows, expected ${logEvents}`);
    const baselineBefore = rawRead(eventsFile);

    log(name, 'catching up the balances projection into a fresh read model');
    const eventStore = new SqliteEventStore(eventsFile);
    const readModels = new SqliteReadModelStore(join(dir, 'read-models.sqlite'));
    let applied: number;
    let seconds: number;
    let peakRssMiB: number;
    try {
      const runner = new ProjectionRunner(eventStore, readModels, [balancesProjection]);
      const rss = new RssSampler();
      ({ result: applied, seconds } = await timed(() => runner.catchUp()));
      peakRssMiB = rss.stop();
      if (applied !== logEvents) throw new Error(`catch-up applied ${applied} events, expected ${logEvents}`);
      await checkBalances(readModels, expectedTotalMinor);
    } finally {
      await eventStore.close();
      await readModels.close();
    }
    // The baseline is measured on both sides of the catch-up: other processes' load drifts.
    const baselineAfter = rawRead(eventsFile);
    const baselineRowsPerSecond =
      (baselineBefore.rows + baselineAfter.rows) / (baselineBefore.seconds + baselineAfter.seconds);

    const eventsPerSecond = applied / seconds;
    log(
      name,
      `caught up ${applied} events in ${seconds.toFixed(2)} s; baseline ${baselineRowsPerSecond.toFixed(0)} rows/s`,
    );
    return [
      targetFigure({
        name,
        value: eventsPerSecond,
        unit: 'events/s',
        baseline:
          'raw better-sqlite3 SELECT of the same rows ORDER BY position with JSON.parse of data and metadata (rows/s)',
        baselineValue: baselineRowsPerSecond,
        target: TARGET_RATIO,
      }),
      extraFigure({ name: `${name}-peak-rss`, value: peakRssMiB, unit: 'MiB' }),
    ];
  });
}

/**
 * Writes ACCOUNTS AccountOpened events, then FundsRecharged events round-robin over the accounts, through
 * SqliteEventStore as the command side would. Returns the total recharged, in minor units.
 */
async function prepareLog(eventsFile: string, logEvents: number): Promise<bigint> {
  const store = new SqliteEventStore(eventsFile);
  try {
    const accounts: OpenedAccount[] = Array.from({ length: ACCOUNTS }, (_, index) => openAccountEvent(index));
    const revisions: bigint[] = [];
    await inRounds(ACCOUNTS, async (index) => {
      const account = accounts[index]!;
      revisions[index] = (
        await store.appendToStream(account.streamId, [account.event], 'no_stream')
      ).nextExpectedRevision;
    });
    let totalMinor = 0n;
    await inRounds(logEvents - ACCOUNTS, async (sequence) => {
      const index = sequence % ACCOUNTS;
      const account = accounts[index]!;
      totalMinor += benchAmountMinor(sequence);
      const event = await rechargeEvent(account, sequence);
      revisions[index] = (
        await store.appendToStream(account.streamId, [event], revisions[index]!)
      ).nextExpectedRevision;
    });
    return totalMinor;
  } finally {
    await store.close();
  }
}

/** Runs `fn(0..count-1)`, PREPARE_APPENDS_IN_FLIGHT at a time, each round awaited before the next. */
async function inRounds(count: number, fn: (sequence: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += PREPARE_APPENDS_IN_FLIGHT) {
    const end = Math.min(count, start + PREPARE_APPENDS_IN_FLIGHT);
    await Promise.all(Array.from({ length: end - start }, (_, offset) => fn(start + offset)));
  }
}

/** The baseline: every row in position order, data and metadata parsed (rebuild-1m uses it too). */
export function rawRead(eventsFile: string): { rows: number; seconds: number } {
  const db = new Database(eventsFile, { readonly: true });
  try {
    const select = db.prepare(
      `SELECT position, stream_id, revision, event_id, type, data, metadata, prev_hash, hash FROM events ORDER BY position`,
    );
    const started = nowMs();
    let rows = 0;
    let fields = 0; // used below, so the parsing cannot be optimised away
    for (const row of select.iterate() as Iterable<{ data: string; metadata: string }>) {
      const data = JSON.parse(row.data) as object;
      const metadata = JSON.parse(row.metadata) as object;
      fields += Object.keys(data).length + Object.keys(metadata).length;
      rows += 1;
    }
    const seconds = (nowMs() - started) / 1000;
    if (fields === 0) throw new Error('the raw read parsed nothing');
    return { rows, seconds };
  } finally {
    db.close();
  }
}

/** Accounts in the balances read model and the sum of their balances (minor units). */
export async function sumBalances(readModels: SqliteReadModelStore): Promise<{ accounts: number; totalMinor: bigint }> {
  const FIND_PAGE_LIMIT = 1_000;
  let accounts = 0;
  let totalMinor = 0n;
  let after: string | undefined;
  do {
    const page = await readModels.find<BalanceDocument>(BALANCES_COLLECTION, {
      limit: FIND_PAGE_LIMIT,
      ...(after ? { after } : {}),
    });
    for (const doc of page.items) {
      accounts += 1;
      totalMinor += BigInt(doc.data.balanceMinor);
    }
    after = page.nextCursor ?? undefined;
  } while (after);
  return { accounts, totalMinor };
}

/** The rebuilt read model must be right, not just fast: every account, and every recharge counted once. */
async function checkBalances(readModels: SqliteReadModelStore, expectedTotalMinor: bigint): Promise<void> {
  const { accounts, totalMinor } = await sumBalances(readModels);
  if (accounts !== ACCOUNTS || totalMinor !== expectedTotalMinor) {
    throw new Error(
      `balances read model: ${accounts} accounts holding ${totalMinor}, expected ${ACCOUNTS} holding ${expectedTotalMinor}`,
    );
  }
}

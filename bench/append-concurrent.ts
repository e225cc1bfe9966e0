import { join } from 'node:path';
import { SqliteEventStore } from '../src/adapters/sqlite/sqlite-event-store.js';
import type { NewEvent } from '../src/ports/event-store.js';
import {
  RssSampler,
  alternateRounds,
  extraFigure,
  log,
  nowMs,
  percentile,
  targetFigure,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
} from './harness.js';
import { freshEvent, openAccountEvent, rechargeEvent } from './ledger-fixtures.js';
import { openRawAppender } from './raw-appends.js';

/**
 * Durable appends under concurrency: 64 callers, each appending one FundsRecharged event at a time to
 * its own account stream with the exact expected revision (what the command handler does), through
 * SqliteEventStore. Group commit should let one fsync carry many callers' appends.
 *
 * Baseline, same run, same disk: raw better-sqlite3, one row per transaction, WAL + synchronous=FULL,
 * into a table like the event store's: what a naive durable append costs (one fsync per event). The two
 * alternate in rounds.
 */
export const name = 'append-concurrent';

const CALLERS = 64;
const TARGET_RATIO = 5;
/**
 * Each side's measured time (durationSeconds) is split into alternating rounds: fsync latency on a shared
 * disk drifts by several times within a minute, and both sides must see the same drift.
 */
const SIZES = {
  full: { warmupSeconds: 1, durationSeconds: 10, rounds: 5 },
  quick: { warmupSeconds: 0.5, durationSeconds: 3, rounds: 3 },
} as const;

interface Caller {
  readonly streamId: string;
  readonly template: NewEvent;
  revision: bigint;
}

interface Measured {
  readonly count: number;
  readonly seconds: number;
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { warmupSeconds, durationSeconds, rounds } = options.quick ? SIZES.quick : SIZES.full;
  const roundSeconds = durationSeconds / rounds;
  return withTempDir(name, async (dir) => {
    const callers = await makeCallers();
    const raw = openRawAppender(join(dir, 'raw.sqlite'), callers, 1);
    const store = new SqliteEventStore(join(dir, 'events.sqlite'));
    let baseline: Measured;
    let measured: Measured & { latenciesMs: number[] };
    let peakRssMiB: number;
    try {
      await Promise.all(
        callers.map(async (caller, index) => {
          const result = await store.appendToStream(caller.streamId, [openAccountEvent(index).event], 'no_stream');
          caller.revision = result.nextExpectedRevision;
        }),
      );
      log(name, `warming up both, ${warmupSeconds} s each`);
      raw.insertFor(warmupSeconds);
      const warmup = await driveCallers(store, callers, warmupSeconds);

      log(
        name,
        `${rounds} rounds of ${roundSeconds} s each: raw one-row transactions, then SqliteEventStore with ${CALLERS} concurrent callers`,
      );
      const rss = new RssSampler();
      const results = await alternateRounds(
        rounds,
        async () => raw.insertFor(roundSeconds),
        () => driveCallers(store, callers, roundSeconds),
      );
      peakRssMiB = rss.stop();
      baseline = sumMeasured(results.a);
      measured = { ...sumMeasured(results.b), latenciesMs: results.b.flatMap((round) => round.latenciesMs) };

      // Every acknowledged append must be in the log: a benchmark of a store that loses events is void.
      const expectedHead = BigInt(CALLERS + warmup.count + measured.count);
      const head = await store.headPosition();
      if (head !== expectedHead)
        throw new Error(`log head is ${String(head)}, expected ${expectedHead} after the acknowledged appends`);
    } finally {
      raw.close();
      await store.close();
    }

    const eventsPerSecond = measured.count / measured.seconds;
    const rowsPerSecond = baseline.count / baseline.seconds;
    log(
      name,
      `${measured.count} appends in ${measured.seconds.toFixed(2)} s; baseline ${baseline.count} rows in ${baseline.seconds.toFixed(2)} s`,
    );
    return [
      targetFigure({
        name,
        value: eventsPerSecond,
        unit: 'events/s',
        baseline: 'raw better-sqlite3 INSERT, one row per transaction, journal_mode=WAL, synchronous=FULL (rows/s)',
        baselineValue: rowsPerSecond,
        target: TARGET_RATIO,
      }),
      extraFigure({ name: `${name}-p50-latency`, value: percentile(measured.latenciesMs, 50), unit: 'ms' }),
      extraFigure({ name: `${name}-p99-latency`, value: percentile(measured.latenciesMs, 99), unit: 'ms' }),
      extraFigure({ name: `${name}-peak-rss`, value: peakRssMiB, unit: 'MiB' }),
    ];
  });
}

function sumMeasured(rounds: readonly Measured[]): Measured {
  return { count: rounds.reduce((sum, r) => sum + r.count, 0), seconds: rounds.reduce((sum, r) => sum + r.seconds, 0) };
}

/** One caller per stream, each with a realistic FundsRecharged to copy (fresh ids per append). */
async function makeCallers(): Promise<Caller[]> {
  return Promise.all(
    Array.from({ length: CALLERS }, async (_, index) => {
      const account = openAccountEvent(index);
      return { streamId: account.streamId, template: await rechargeEvent(account, index), revision: -1n };
    }),
  );
}

/** Every caller appends one event at a time, awaiting each, until the time is up. */
async function driveCallers(
  store: SqliteEventStore,
  callers: readonly Caller[],
  seconds: number,
): Promise<Measured & { latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  const started = nowMs();
  const deadline = started + seconds * 1000;
  await Promise.all(
    callers.map(async (caller) => {
      while (nowMs() < deadline) {
        const event = freshEvent(caller.template);
        const sent = nowMs();
        const result = await store.appendToStream(caller.streamId, [event], caller.revision);
        latenciesMs.push(nowMs() - sent);
        caller.revision = result.nextExpectedRevision;
      }
    }),
  );
  // Elapsed until the last append was acknowledged, so appends in flight at the deadline count fairly.
  return { count: latenciesMs.length, seconds: (nowMs() - started) / 1000, latenciesMs };
}

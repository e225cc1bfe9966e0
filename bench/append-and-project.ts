import { join } from 'node:path';
import { SqliteEventStore } from '../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../src/adapters/sqlite/sqlite-read-model-store.js';
import { balancesProjection } from '../src/projections/balances.js';
import { ProjectionRunner } from '../src/projections/projection-runner.js';
import type { NewEvent } from '../src/ports/event-store.js';
import {
  extraFigure,
  log,
  nowMs,
  percentile,
  targetFigure,
  withTempDir,
  type BenchmarkOptions,
  type Figure,
} from './harness.js';
import {
  loadEmmettSqlite,
  type EmmettSqlite,
  type SQLiteConnection,
  type SQLiteEventStore,
  type SQLiteProjectionDefinition,
} from './emmett-peer.js';
import { benchAmountMinor, freshEvent, openAccountEvent, rechargeEvent } from './ledger-fixtures.js';
import { sumBalances } from './projection-catchup.js';

/**
 * The append-and-project workload, ours beside a peer's, in the same run on the same disk.
 *
 * Workload: ACCOUNTS wallets (opened first, not measured); CALLERS concurrent callers, each owning
 * ACCOUNTS / CALLERS of them in turn, append one money event (FundsRecharged, as the recharge command
 * records it, fresh ids per append) at a time to an account's stream with the exact expected revision,
 * awaiting each durable acknowledgement; a balances projection keeps every account's balance. A round
 * ends when the time is up, every append is acknowledged AND the balances have applied them all: its
 * rate is events over that whole time. Afterwards the balances must add up to what was appended.
 *
 *   ours: SqliteEventStore (group commit, WAL, synchronous=FULL) with the real balances projection run
 *     live by ProjectionRunner into a SqliteReadModelStore, as the service runs it.
 *   Emmett: `@event-driven-io/emmett-sqlite`'s getSQLiteEventStore (loaded from bench/peer, installed on
 *     first use: bench/emmett-peer.ts) with an inline projection keeping
 *     (account, currency, balance, version) rows, written in the append's own transaction (Emmett's
 *     SQLite projections; the balances are current when the append is acknowledged). Same durability:
 *     WAL and synchronous=FULL, set and checked on its connection before its first transaction.
 *     One shared connection, given through its `pool` option: its default pool opens a new connection
 *     per operation, and under 64 callers it acknowledged only 1-14 appends in 45 s (measured when this
 *     benchmark was planned, issue 9). And its appends on that connection are run one at a time: its
 *     transactions are counted per connection (a nesting counter), so overlapping appends would join
 *     one another's transaction, and an append would be acknowledged before the transaction holding it
 *     committed: not the same durability.
 *
 *   append-and-project (events/s). Baseline: Emmett's rate (events/s). Target: at least 10x.
 * The two alternate in rounds.
 */
export const name = 'append-and-project';

const ACCOUNTS = 1_024;
const CALLERS = 64;
const TARGET_RATIO = 10;
const SIZES = {
  full: { warmupSeconds: 1, durationSeconds: 10, rounds: 5 },
  quick: { warmupSeconds: 0.5, durationSeconds: 2, rounds: 2 },
} as const;
/** How long the live projection may take to apply a round's appends before the benchmark gives up. */
const CATCH_UP_TIMEOUT_MS = 120_000;
/** Opening appends in flight (setup): each account's stream is opened once. */
const OPEN_IN_FLIGHT = 256;

interface Account {
  readonly streamId: string;
  readonly openEvent: NewEvent;
  /** A FundsRecharged to copy; every copy moves the same amount. */
  readonly template: NewEvent;
  readonly amountMinor: bigint;
}

/** One store under the workload. */
interface Side {
  readonly label: string;
  open(account: number): Promise<void>;
  /** Appends `event` to the account's stream at its exact expected revision; resolves once durable. */
  append(account: number, event: NewEvent): Promise<void>;
  /** Resolves once the balances have applied every acknowledged append. */
  caughtUp(): Promise<void>;
  balances(): Promise<{ accounts: number; totalMinor: bigint }>;
  close(): Promise<void>;
}

interface Measured {
  readonly events: number;
  readonly seconds: number;
  readonly cpuMicros: number;
  readonly latenciesMs: number[];
}

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const { warmupSeconds, durationSeconds, rounds } = options.quick ? SIZES.quick : SIZES.full;
  const roundSeconds = durationSeconds / rounds;
  return withTempDir(name, async (dir) => {
    const accounts = await makeAccounts();
    const sides: Side[] = [];
    try {
      const emmettSqlite = await loadEmmettSqlite(name);
      sides.push(await openOurs(dir, accounts), await openEmmett(emmettSqlite, dir, accounts));
      const appendedMinor = new Map<Side, bigint>(sides.map((side) => [side, 0n]));
      const drive = async (side: Side, seconds: number) => {
        const result = await driveCallers(side, accounts, seconds);
        appendedMinor.set(side, appendedMinor.get(side)! + result.appendedMinor);
        return result;
      };
      for (const side of sides) {
        log(name, `${side.label}: opening ${ACCOUNTS} accounts`);
        for (let start = 0; start < ACCOUNTS; start += OPEN_IN_FLIGHT) {
          const batch = Array.from({ length: Math.min(OPEN_IN_FLIGHT, ACCOUNTS - start) }, (_, i) => start + i);
          await Promise.all(batch.map((account) => side.open(account)));
        }
        await side.caughtUp();
      }
      log(name, `warming up both, ${warmupSeconds} s each`);
      for (const side of sides) await drive(side, warmupSeconds);

      log(name, `${rounds} rounds of ${roundSeconds} s each: ours, then Emmett; ${CALLERS} callers`);
      const measured = new Map<Side, Measured[]>(sides.map((side) => [side, []]));
      for (let round = 0; round < rounds; round += 1) {
        for (const side of sides) measured.get(side)!.push(await drive(side, roundSeconds));
      }
      for (const side of sides) await checkBalances(side, appendedMinor.get(side)!);

      const [ours, emmett] = sides.map((side) => sumMeasured(measured.get(side)!)) as [Measured, Measured];
      for (const [side, result] of [
        [sides[0]!, ours],
        [sides[1]!, emmett],
      ] as const) {
        log(
          name,
          `${side.label}: ${result.events} events appended and projected in ${result.seconds.toFixed(2)} s, ` +
            `${(result.cpuMicros / result.events).toFixed(0)} us of CPU per event, append p50 ${percentile(result.latenciesMs, 50).toFixed(1)} ms`,
        );
      }
      const emmettNote = `Emmett SQLite (@event-driven-io/emmett-sqlite getSQLiteEventStore, inline balances projection, WAL + synchronous=FULL, one shared connection through its pool option, appends one at a time on it), the same workload in alternating rounds: ${ACCOUNTS} accounts, ${CALLERS} concurrent callers, one FundsRecharged per append, until appended and projected (events/s)`;
      return [
        targetFigure({
          name,
          value: ours.events / ours.seconds,
          unit: 'events/s',
          baseline: emmettNote,
          baselineValue: emmett.events / emmett.seconds,
          target: TARGET_RATIO,
        }),
        extraFigure({
          name: `${name}-cpu-per-event`,
          value: ours.cpuMicros / ours.events,
          unit: 'us',
          baseline: "Emmett's CPU per event (us, this process's user + system time, its driver's threads included)",
          baselineValue: emmett.cpuMicros / emmett.events,
        }),
        extraFigure({
          name: `${name}-append-p50-latency`,
          value: percentile(ours.latenciesMs, 50),
          unit: 'ms',
          baseline: "Emmett's append p50 (ms)",
          baselineValue: percentile(emmett.latenciesMs, 50),
        }),
        extraFigure({
          name: `${name}-append-p99-latency`,
          value: percentile(ours.latenciesMs, 99),
          unit: 'ms',
          baseline: "Emmett's append p99 (ms)",
          baselineValue: percentile(emmett.latenciesMs, 99),
        }),
      ];
    } finally {
      for (const side of sides) await side.close();
    }
  });
}

/** ACCOUNTS wallets, each with its AccountOpened and a FundsRecharged template. */
async function makeAccounts(): Promise<Account[]> {
  return Promise.all(
    Array.from({ length: ACCOUNTS }, async (_, index) => {
      const opened = openAccountEvent(index);
      const template = await rechargeEvent(opened, index);
      const amountMinor = benchAmountMinor(index);
      if (template.data['amountMinor'] !== String(amountMinor))
        throw new Error(`recharge template ${index} does not carry ${amountMinor} minor units`);
      return { streamId: opened.streamId, openEvent: opened.event, template, amountMinor };
    }),
  );
}

/**
 * Every caller appends to its own accounts in turn (so expected revisions are exact), one event at a
 * time, awaiting each, until the time is up; then the side's projection must catch up. Elapsed and CPU
 * run until it has.
 */
async function driveCallers(
  side: Side,
  accounts: readonly Account[],
  seconds: number,
): Promise<Measured & { appendedMinor: bigint }> {
  const latenciesMs: number[] = [];
  let appendedMinor = 0n;
  const cpuBefore = process.cpuUsage();
  const started = nowMs();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let turn = 0; nowMs() < deadline; turn += 1) {
        const account = caller + CALLERS * (turn % (ACCOUNTS / CALLERS));
        const sent = nowMs();
        await side.append(account, freshEvent(accounts[account]!.template));
        latenciesMs.push(nowMs() - sent);
        appendedMinor += accounts[account]!.amountMinor;
      }
    }),
  );
  await side.caughtUp();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    events: latenciesMs.length,
    seconds: (nowMs() - started) / 1000,
    cpuMicros: cpu.user + cpu.system,
    latenciesMs,
    appendedMinor,
  };
}

function sumMeasured(rounds: readonly Measured[]): Measured {
  return {
    events: rounds.reduce((sum, r) => sum + r.events, 0),
    seconds: rounds.reduce((sum, r) => sum + r.seconds, 0),
    cpuMicros: rounds.reduce((sum, r) => sum + r.cpuMicros, 0),
    latenciesMs: rounds.flatMap((r) => r.latenciesMs),
  };
}

/** A benchmark of a store whose projection loses or doubles money is void. */
async function checkBalances(side: Side, appendedMinor: bigint): Promise<void> {
  const { accounts, totalMinor } = await side.balances();
  if (accounts !== ACCOUNTS || totalMinor !== appendedMinor)
    throw new Error(
      `${side.label}: balances of ${accounts} accounts add up to ${totalMinor}, expected ${ACCOUNTS} adding up to ${appendedMinor}`,
    );
  log(name, `check: ${side.label}'s ${accounts} balances add up to the ${appendedMinor} minor units appended`);
}

// ---------------------------------------------------------------------------------------------------
// Ours
// ---------------------------------------------------------------------------------------------------

async function openOurs(dir: string, accounts: readonly Account[]): Promise<Side> {
  const store = new SqliteEventStore(join(dir, 'ours-events.sqlite'));
  const readModels = new SqliteReadModelStore(join(dir, 'ours-read-models.sqlite'));
  const runner = new ProjectionRunner(store, readModels, [balancesProjection]);
  const revisions: bigint[] = [];
  try {
    await runner.start();
  } catch (error) {
    await Promise.all([store.close(), readModels.close()]);
    throw error;
  }
  return {
    label: 'ours',
    async open(account) {
      const { streamId, openEvent } = accounts[account]!;
      revisions[account] = (await store.appendToStream(streamId, [openEvent], 'no_stream')).nextExpectedRevision;
    },
    async append(account, event) {
      const result = await store.appendToStream(accounts[account]!.streamId, [event], revisions[account]!);
      revisions[account] = result.nextExpectedRevision;
    },
    async caughtUp() {
      const head = await store.headPosition();
      if (head !== 'start') await runner.waitForPosition(balancesProjection.name, head, CATCH_UP_TIMEOUT_MS);
    },
    balances: () => sumBalances(readModels),
    async close() {
      await runner.stop();
      await store.close();
      await readModels.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Emmett
// ---------------------------------------------------------------------------------------------------

const EMMETT_BALANCES_TABLE = 'bench_balances';

/** Emmett's inline balances projection: one row per account, updated in the append's transaction. */
const emmettBalances: SQLiteProjectionDefinition = {
  name: EMMETT_BALANCES_TABLE,
  canHandle: ['AccountOpened', 'FundsRecharged'],
  init: async ({ context }) => {
    await context.connection.command(
      `CREATE TABLE IF NOT EXISTS ${EMMETT_BALANCES_TABLE} (
         account_id TEXT PRIMARY KEY, currency TEXT NOT NULL, balance_minor INTEGER NOT NULL, version INTEGER NOT NULL)`,
    );
  },
  handle: async (events, { connection }) => {
    for (const event of events) {
      const data = event.data as Record<string, string>;
      const version = String(event.metadata.streamPosition);
      if (event.type === 'AccountOpened') {
        await connection.command(
          `INSERT INTO ${EMMETT_BALANCES_TABLE} (account_id, currency, balance_minor, version) VALUES (?, ?, 0, ?)`,
          [data['accountId']!, data['currency']!, version],
        );
      } else {
        // Integer arithmetic in SQLite on the decimal string: money never passes through a JS number.
        const updated = await connection.command(
          `UPDATE ${EMMETT_BALANCES_TABLE} SET balance_minor = balance_minor + CAST(? AS INTEGER), version = ? WHERE account_id = ?`,
          [data['amountMinor']!, version, data['accountId']!],
        );
        if (updated.changes !== 1) throw new Error(`Emmett balances: no account ${data['accountId']}`);
      }
    }
  },
};

async function openEmmett(emmett: EmmettSqlite, dir: string, accounts: readonly Account[]): Promise<Side> {
  const { SQLiteConnectionPool, getSQLiteEventStore, sqliteConnection, sqliteProjection } = emmett;
  const fileName = join(dir, 'emmett.sqlite');
  const connection = sqliteConnection({ fileName });
  let store: SQLiteEventStore;
  try {
    await setDurability(connection);
    const pool = SQLiteConnectionPool({ fileName, connectionOptions: { singleton: true, connection } });
    store = getSQLiteEventStore({
      fileName,
      pool,
      projections: [{ type: 'inline', projection: sqliteProjection(emmettBalances) }],
    });
    await store.schema.migrate();
  } catch (error) {
    connection.close();
    throw error;
  }
  const versions: bigint[] = [];
  // One append at a time on the shared connection (see the module comment): each its own transaction.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };
  const appendAt = (account: number, event: NewEvent, expectedStreamVersion: bigint) =>
    oneAtATime(async () => {
      const result = await store.appendToStream(
        accounts[account]!.streamId,
        [{ type: event.type, data: event.data, metadata: event.metadata }],
        { expectedStreamVersion },
      );
      versions[account] = result.nextExpectedStreamVersion;
    });
  return {
    label: 'Emmett',
    open: (account) => appendAt(account, accounts[account]!.openEvent, 0n),
    append: (account, event) => appendAt(account, event, versions[account]!),
    // Inline: an acknowledged append's balance was written in its own transaction.
    caughtUp: () => queue.then(() => undefined),
    async balances() {
      const row = await connection.querySingle<{ accounts: number; total: string | null }>(
        `SELECT count(*) AS accounts, CAST(sum(balance_minor) AS TEXT) AS total FROM ${EMMETT_BALANCES_TABLE}`,
      );
      return { accounts: row?.accounts ?? 0, totalMinor: BigInt(row?.total ?? '0') };
    },
    async close() {
      await queue;
      connection.close();
    },
  };
}

/** WAL and synchronous=FULL on Emmett's connection, checked, before any transaction of its own. */
async function setDurability(connection: SQLiteConnection): Promise<void> {
  await connection.command('PRAGMA journal_mode = WAL');
  await connection.command('PRAGMA synchronous = FULL');
  const journal = await connection.querySingle<{ journal_mode: string }>('PRAGMA journal_mode');
  const synchronous = await connection.querySingle<{ synchronous: number }>('PRAGMA synchronous');
  // 2 is FULL.
  if (journal?.journal_mode !== 'wal' || synchronous?.synchronous !== 2)
    throw new Error(
      `Emmett's connection has journal_mode=${journal?.journal_mode}, synchronous=${synchronous?.synchronous}`,
    );
}

import { join } from 'node:path';
import { DateTime } from 'luxon';
import { parseCurrency } from '../../domain/money/money.js';
import { MATCH_CLASSES } from '../../domain/reconciliation/match-classes.js';
import type { ReconciliationRunEvent } from '../../domain/reconciliation/reconciliation-run-events.js';
import { reconciliationDue, type StatementDayState } from '../../domain/reconciliation/statement-day-decider.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import { StatementDayReplacedError, type StatementStore } from '../../ports/statement-store.js';
import { deriveId, type CommandContext } from '../command-context.js';
import { BREAKS_FILE, matchDay, type MatchDayResult } from './match-day.js';
import { readBreaksFile, recordRunBreaks, type RecordBreaksDeps } from './record-breaks.js';
import type { StatementImports } from './statement-imports.js';

/**
 * A reconciliation run of one channel's accounting day: matchDay over the stored statement, then its
 * totals recorded as ReconciliationRunCompleted on the day's stream, through the day's decider (which
 * refuses a run of a file replaced meanwhile).
 *
 * Days are run in order, because a day's run carries in the pending pool its previous day's run left.
 * Before a day, every earlier day (at most MAX_CATCH_UP_DAYS back) whose statement is stored and that is
 * due (never run, its file replaced, or its own previous day run after it: reconciliationDue) is run
 * first, oldest first. A previous day with no statement stored stops the walk: the day is run with an
 * empty pool and its run says so (`carriedFromRunId` null), and it becomes due again once that day is run.
 */
export const MAX_CATCH_UP_DAYS = 31;

export interface ReconcileDeps {
  readonly statements: StatementStore;
  readonly readModels: ReadModelStore;
  readonly imports: StatementImports;
  readonly resultsDir: string;
  readonly accountingTimeZone: string;
  readonly cutOffWindowMs: number;
  /**
   * Where the run's breaks are recorded, each on its stream (record-breaks.ts), after matchDay and before
   * the run's totals: a crash between the two leaves breaks recorded and the day still due, and running
   * it again records nothing new.
   */
  readonly breaks: RecordBreaksDeps;
}

export interface ReconcileDayRequest {
  readonly channel: string;
  readonly accountingDate: string;
  /** `sweep`, `cli:<os user>`, or an operator's entity id. */
  readonly ranBy: string;
  /** The day being run, the statement lines read of it so far and its line count. */
  readonly onProgress?: (accountingDate: string, linesRead: number, lineCount: number) => void;
}

export type ReconciliationRun = ReconciliationRunEvent['data'];

export interface ReconciledDay {
  readonly run: ReconciliationRun;
  readonly result: MatchDayResult;
}

export function previousDate(accountingDate: string): string {
  const day = DateTime.fromISO(accountingDate, { zone: 'utc' });
  if (!day.isValid) throw new RangeError(`not an accounting date: ${accountingDate}`);
  return day.minus({ days: 1 }).toISODate();
}

/** Runs the day, after the earlier days due before it: every run made, oldest first (the day's last). */
export async function reconcileDay(
  deps: ReconcileDeps,
  request: ReconcileDayRequest,
  context: CommandContext,
): Promise<ReconciledDay[]> {
  const { channel, accountingDate } = request;
  const earlier: string[] = [];
  let date = accountingDate;
  while (earlier.length < MAX_CATCH_UP_DAYS) {
    date = previousDate(date);
    const day = await deps.imports.load(channel, date);
    if (day.state.stored === null) break;
    if (day.state.lastRun !== null) {
      const before = await deps.imports.load(channel, previousDate(date));
      if (!reconciliationDue(day.state, before.state)) break;
    }
    earlier.unshift(date);
  }
  const runs: ReconciledDay[] = [];
  for (const day of [...earlier, accountingDate]) {
    const dayContext = { ...context, operationKey: deriveId(context.operationKey, `reconcile\u0000${day}`) };
    runs.push(await runOneDay(deps, { ...request, accountingDate: day }, dayContext));
  }
  return runs;
}

async function runOneDay(
  deps: ReconcileDeps,
  request: ReconcileDayRequest,
  context: CommandContext,
): Promise<ReconciledDay> {
  const { channel, accountingDate, onProgress } = request;
  const { state } = await deps.imports.load(channel, accountingDate);
  const stored = state.stored;
  if (stored === null)
    throw new DomainError('statement_not_stored', `no statement of ${channel} ${accountingDate} is stored`);
  const previous = await deps.imports.load(channel, previousDate(accountingDate));
  const result = await matchDay(deps, {
    channel,
    accountingDate,
    accountingTimeZone: deps.accountingTimeZone,
    cutOffWindowMs: deps.cutOffWindowMs,
    ...(onProgress ? { onProgress: (read: number) => onProgress(accountingDate, read, stored.lineCount) } : {}),
  }).catch((error: unknown) => {
    if (!(error instanceof StatementDayReplacedError)) throw error;
    throw new DomainError(
      'statement_replaced',
      `the statement of ${channel} ${accountingDate} was replaced while the run read it: run it again`,
    );
  });
  const runId = deriveId(context.operationKey, 'reconciliation-run');
  await recordRunBreaks(deps.breaks, {
    runId,
    channel,
    accountingDate,
    breaks: readBreaksFile(join(result.directory, BREAKS_FILE)),
    complete: result.breaksListed === result.breaks,
    ranBy: request.ranBy.slice(0, 64),
    at: context.occurredAt,
  });
  const run = runTotals(result, {
    runId,
    statementSha256: stored.fileSha256,
    carriedFromRunId: previous.state.lastRun?.runId ?? null,
    ranBy: request.ranBy.slice(0, 64),
  });
  const handled = await deps.imports.recordRun(
    { type: 'RecordReconciliationRun', channel, accountingDate, run, at: context.occurredAt },
    context,
  );
  const event = handled.events.find((e) => e.type === 'ReconciliationRunCompleted');
  if (!event) throw new Error(`the run of ${channel} ${accountingDate} recorded no event`);
  return { run: event.data, result };
}

function runTotals(
  result: MatchDayResult,
  ids: Pick<ReconciliationRun, 'runId' | 'statementSha256' | 'carriedFromRunId' | 'ranBy'>,
): Omit<ReconciliationRun, 'channel' | 'accountingDate' | 'at'> {
  const byCurrency = <T>(record: Record<string, T>) =>
    Object.keys(record)
      .sort()
      .map((currency) => ({ currency: parseCurrency(currency), value: record[currency]! }));
  return {
    ...ids,
    statementLines: result.statementLines,
    ourOrders: result.ourOrders,
    carriedIn: result.carriedIn,
    pending: result.pending,
    breaks: result.breaks,
    classes: MATCH_CLASSES.filter((matchClass) => result.classes[matchClass] !== undefined).map((matchClass) => {
      const total = result.classes[matchClass];
      return {
        matchClass,
        count: total.count,
        amounts: byCurrency(total.amountsMinor).map(({ currency, value }) => ({ currency, amountMinor: value })),
      };
    }),
    fees: byCurrency(result.fees).map(({ currency, value }) => ({
      currency,
      oursMinor: value.oursMinor,
      theirsMinor: value.theirsMinor,
    })),
  };
}

export interface ReconciliationSweepDeps extends ReconcileDeps {
  /** The channels that make statements. */
  readonly channels: () => readonly string[];
  /** How many past days a sweep looks at (the download sweep's RECON_DAYS_BACK). */
  readonly daysBack: number;
}

/**
 * The reconciliation sweep, after each download sweep: for every channel, each of the last `daysBack`
 * days that is due (reconciliationDue), oldest first, so a day stored, replaced, or whose previous day
 * was just run is run (again) in order. A run that lost a race with a new file (statement replaced) is
 * left for the next sweep, when the day is due again.
 */
export async function sweepReconciliations(deps: ReconciliationSweepDeps, nowIso: string): Promise<ReconciledDay[]> {
  const today = DateTime.fromISO(nowIso, { zone: deps.accountingTimeZone }).startOf('day');
  const runs: ReconciledDay[] = [];
  for (const channel of deps.channels()) {
    let previous: StatementDayState | null = (
      await deps.imports.load(channel, today.minus({ days: deps.daysBack + 1 }).toISODate()!)
    ).state;
    for (let back = deps.daysBack; back >= 1; back--) {
      const accountingDate = today.minus({ days: back }).toISODate()!;
      let { state } = await deps.imports.load(channel, accountingDate);
      if (reconciliationDue(state, previous)) {
        try {
          runs.push(
            ...(await reconcileDay(
              deps,
              { channel, accountingDate, ranBy: 'sweep' },
              sweepContext(channel, accountingDate, nowIso),
            )),
          );
        } catch (error) {
          if (!(error instanceof DomainError && error.code === 'statement_replaced')) throw error;
        }
        state = (await deps.imports.load(channel, accountingDate)).state;
      }
      previous = state;
    }
  }
  return runs;
}

function sweepContext(channel: string, accountingDate: string, nowIso: string): CommandContext {
  const day = `${channel}|${accountingDate}`;
  return {
    actor: 'reconciliation-sweep',
    correlationId: day,
    causationId: null,
    idempotencyKey: null,
    operationKey: deriveId(day, `reconciliation-sweep\u0000${nowIso}`),
    occurredAt: nowIso,
  };
}

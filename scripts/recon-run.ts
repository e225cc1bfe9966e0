import { userInfo } from 'node:os';
import { DateTime } from 'luxon';
import { loadConfig } from '../src/config.js';
import { openEventStore, openReadModelStore, openStatementStore } from '../src/adapters/storage.js';
import { deriveId } from '../src/commands/command-context.js';
import { reconcileDay, type ReconciledDay } from '../src/commands/reconciliation/reconcile-day.js';
import { StatementImports } from '../src/commands/reconciliation/statement-imports.js';
import type { CurrencyCode } from '../src/domain/money/currency.js';
import { formatAmount } from '../src/domain/money/money.js';
import { isBreak } from '../src/domain/reconciliation/match-classes.js';
import { localBreakRecording } from '../src/adapters/reconciliation/local-break-recording.js';
import { DomainError } from '../src/domain/shared/domain-error.js';
import { startProgress, type Progress } from './audit-progress.js';

/**
 * `ledger recon run --channel C --date D [--to D2]`: reconciles the days from D to D2 in order (each
 * carries in the pool its previous day's run left; earlier days that are due run first), with a progress
 * bar of the statement lines read on a terminal, and a summary table per day run. Exit 0 when every day
 * ran (breaks or not), 1 when a day could not (no statement stored, replaced during its run), 2 for bad
 * arguments.
 */
export interface RunOptions {
  channel: string;
  date: string;
  to?: string;
}

/** Most days one command runs: a year, each a full run. */
export const MAX_DAYS_PER_RUN = 366;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function daysOf(from: string, to: string): string[] | string {
  const first = DateTime.fromISO(from, { zone: 'utc' });
  const last = DateTime.fromISO(to, { zone: 'utc' });
  if (!DATE.test(from) || !first.isValid) return `--date ${from} is not a date YYYY-MM-DD`;
  if (!DATE.test(to) || !last.isValid) return `--to ${to} is not a date YYYY-MM-DD`;
  const count = Math.round(last.diff(first, 'days').days) + 1;
  if (count < 1) return '--to is before --date';
  if (count > MAX_DAYS_PER_RUN) return `at most ${MAX_DAYS_PER_RUN} days per run`;
  return Array.from({ length: count }, (_, i) => first.plus({ days: i }).toISODate());
}

export async function runReconciliation(options: RunOptions): Promise<number> {
  const days = daysOf(options.date, options.to ?? options.date);
  if (typeof days === 'string') {
    console.error(`error: ${days}`);
    return 2;
  }
  const config = loadConfig();
  const eventStore = await openEventStore(config);
  const statements = await openStatementStore(config);
  const readModels = await openReadModelStore(config);
  // Our side and the open breaks brought up to the log's head here: no service need run beside the tool
  // (and a DATA_DIR no service has run on gets its read models made, our side empty, not missing).
  const local = await localBreakRecording(eventStore, readModels, config.accountingTimeZone);
  // Drawn only when a person watches: piped output (a log, a test) carries the table alone.
  const progress: Progress | null = process.stdout.isTTY ? startProgress(process.stderr, 'reconciling', 'lines') : null;
  let exitCode = 0;
  try {
    const deps = {
      statements,
      readModels,
      imports: new StatementImports(statements, eventStore),
      resultsDir: config.reconciliation.resultsDir,
      accountingTimeZone: config.accountingTimeZone,
      cutOffWindowMs: config.reconciliation.cutOffWindowMs,
      breaks: local.deps,
    };
    await local.catchUp();
    const ranBy = `cli:${userInfo().username}`.slice(0, 64);
    const runs: ReconciledDay[] = [];
    const problems: string[] = [];
    let linesBefore = 0;
    for (const accountingDate of days) {
      const occurredAt = DateTime.utc().toISO();
      try {
        const made = await reconcileDay(
          deps,
          {
            channel: options.channel,
            accountingDate,
            ranBy,
            onProgress: (_day, read, lineCount) => progress?.update(linesBefore + read, linesBefore + lineCount),
          },
          {
            actor: ranBy,
            correlationId: deriveId(`${options.channel}:${accountingDate}`, occurredAt),
            causationId: null,
            idempotencyKey: null,
            operationKey: deriveId(`recon-run:${options.channel}:${accountingDate}`, occurredAt),
            occurredAt,
          },
        );
        runs.push(...made);
        for (const day of made) linesBefore += day.run.statementLines;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        problems.push(`${accountingDate}  not run: ${error.code}: ${error.message}`);
        exitCode = 1;
      }
    }
    progress?.stop();
    console.log(summaryTable(options.channel, runs));
    for (const problem of problems) console.error(problem);
    return exitCode;
  } finally {
    progress?.stop();
    await local.close();
    await readModels.close();
    await statements.close();
    await eventStore.close();
  }
}

type Row = readonly string[];

/** One line per day run, then one per break class under it; columns padded to their widest cell. */
export function summaryTable(channel: string, runs: readonly ReconciledDay[]): string {
  const money = (amounts: readonly { currency: CurrencyCode; amountMinor: bigint }[]) =>
    amounts.map((a) => `${a.currency} ${formatAmount(a.amountMinor, a.currency)}`).join('; ') || '-';
  const rows: Row[] = [
    ['date', 'status', 'lines', 'orders', 'matched', 'amount', 'breaks', 'pending', 'carried in', 'fees ours/theirs'],
  ];
  for (const { run } of runs) {
    const matched = run.classes.find((c) => c.matchClass === 'matched');
    rows.push([
      run.accountingDate,
      run.breaks === 0 ? 'reconciled' : 'reconciled_with_breaks',
      String(run.statementLines),
      String(run.ourOrders),
      String(matched?.count ?? 0),
      money(matched?.amounts ?? []),
      String(run.breaks),
      String(run.pending),
      run.carriedFromRunId === null ? `${run.carriedIn} (previous day not run)` : String(run.carriedIn),
      run.fees
        .map((f) => `${f.currency} ${formatAmount(f.oursMinor, f.currency)}/${formatAmount(f.theirsMinor, f.currency)}`)
        .join('; ') || '-',
    ]);
    for (const c of run.classes.filter((total) => isBreak(total.matchClass)))
      rows.push([`  ${c.matchClass}`, '', '', '', '', money(c.amounts), String(c.count), '', '', '']);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
  return [`${channel}: ${runs.length} day(s) run`, ...lines].join('\n');
}

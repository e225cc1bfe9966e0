import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { normalisedStatementParser } from '../src/adapters/reconciliation/statement-formats/normalised-statement.js';
import { SqliteReadModelStore } from '../src/adapters/sqlite/sqlite-read-model-store.js';
import { SqliteStatementStore } from '../src/adapters/sqlite/sqlite-statement-store.js';
import { matchDay } from '../src/commands/reconciliation/match-day.js';
import { channelOrdersProjection } from '../src/projections/channel-orders.js';
import { nowMs } from './harness.js';

/**
 * The measured halves of the reconciliation-match benchmark, each in a process of its own so its peak RSS
 * is its work's alone. One job as JSON in argv[2]; one report over IPC.
 *
 *   parse: the baseline: the day's file read by its parser (our normalised JSON Lines), every line
 *          decoded and validated, nothing stored.
 *   match: `matchDay` over the stored day and the channel_orders read model: both sides streamed in
 *          match order, merged, classified, the results files written.
 */
export type MatchChildJob =
  | { readonly kind: 'parse'; readonly file: string; readonly channel: string; readonly accountingDate: string }
  | {
      readonly kind: 'match';
      readonly dir: string;
      readonly channel: string;
      readonly accountingDate: string;
      readonly accountingTimeZone: string;
    };

export type MatchChildReport =
  | {
      readonly ok: true;
      readonly seconds: number;
      /** CPU time (user + system) of the measured part: on a shared machine, what a quiet run's time nears. */
      readonly cpuSeconds: number;
      readonly peakRssBytes: number;
      /** parse: lines read; match: statement lines + our orders merged. */
      readonly rows: number;
      readonly matched?: number;
      readonly breaks?: number;
    }
  | { readonly ok: false; readonly error: string };

async function parse(job: Extract<MatchChildJob, { kind: 'parse' }>): Promise<MatchChildReport> {
  const started = nowMs();
  const cpu = process.cpuUsage();
  let rows = 0;
  const context = { channel: job.channel, accountingDate: job.accountingDate, merchantIds: [], appIds: [] };
  for await (const item of normalisedStatementParser.parse(createReadStream(job.file), context)) {
    if (item.type !== 'record') throw new Error(`line ${item.sourceLine} set aside: ${item.detail}`);
    rows += 1;
  }
  return {
    ok: true,
    seconds: (nowMs() - started) / 1000,
    cpuSeconds: cpuSecondsSince(cpu),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    rows,
  };
}

async function match(job: Extract<MatchChildJob, { kind: 'match' }>): Promise<MatchChildReport> {
  const statements = new SqliteStatementStore(join(job.dir, 'recon.sqlite'));
  const readModels = new SqliteReadModelStore(join(job.dir, 'read-models.sqlite'));
  try {
    // As the service does on start: the store serves the collections it was told of.
    await readModels.ensureCollections(channelOrdersProjection(job.accountingTimeZone).collections);
    const started = nowMs();
    const cpu = process.cpuUsage();
    const result = await matchDay(
      { statements, readModels, resultsDir: join(job.dir, 'results') },
      {
        channel: job.channel,
        accountingDate: job.accountingDate,
        accountingTimeZone: job.accountingTimeZone,
        cutOffWindowMs: 5 * 60_000,
      },
    );
    return {
      ok: true,
      seconds: (nowMs() - started) / 1000,
      cpuSeconds: cpuSecondsSince(cpu),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      rows: result.statementLines + result.ourOrders,
      matched: result.classes.matched?.count ?? 0,
      breaks: result.breaks,
    };
  } finally {
    await statements.close();
    await readModels.close();
  }
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function report(message: MatchChildReport): void {
  // Disconnecting lets the process end: an open IPC channel would keep it alive.
  process.send!(message, undefined, undefined, () => process.disconnect());
}

const job = JSON.parse(process.argv[2] ?? '{}') as MatchChildJob;
(job.kind === 'parse' ? parse(job) : match(job)).then(report, (error: unknown) =>
  report({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);

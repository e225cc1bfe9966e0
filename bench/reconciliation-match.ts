import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  normalisedLine,
  normalisedStatementParser,
} from '../src/adapters/reconciliation/statement-formats/normalised-statement.js';
import { SqliteReadModelStore } from '../src/adapters/sqlite/sqlite-read-model-store.js';
import { SqliteStatementStore } from '../src/adapters/sqlite/sqlite-statement-store.js';
import { parseCurrency } from '../src/domain/money/money.js';
import type { StatementRecord } from '../src/domain/reconciliation/statement-record.js';
import type { DocumentWrite } from '../src/ports/read-model-store.js';
import { DEFAULT_ACCOUNTING_TIME_ZONE } from '../src/projections/accounting-zone.js';
import {
  CHANNEL_ORDERS_COLLECTION,
  channelOrdersProjection,
  matchIndexKey,
  type ChannelOrderDocument,
} from '../src/projections/channel-orders.js';
import { extraFigure, limitFigure, log, timed, withTempDir, type BenchmarkOptions, type Figure } from './harness.js';
import type { MatchChildJob, MatchChildReport } from './reconciliation-match-child.js';

/**
 * Reconciling one channel's day of 1,000,000 statement lines against 1,000,000 of our orders (quick:
 * 50,000): `matchDay` (src/commands/reconciliation/match-day.ts) over the day stored in the SQLite
 * StatementStore and the channel_orders documents in the SQLite read-model store, both streamed in match
 * order and merged in one pass, results written to files; in a child process of its own
 * (bench/reconciliation-match-child.ts), whose peak RSS is the run's alone.
 *
 * Made first, not measured: the orders (channel payments, succeeded, amounts spread, the fee their
 * schedule gives, one in 1,000 with another amount on the statement: a break each), written as
 * channel_orders documents; the same orders written as the channel's statement file in our normalised
 * JSON Lines, and that file parsed into the StatementStore.
 *
 *   reconciliation-match-seconds (s): the run. Target: at most 20 s for 1,000,000 lines a side (quick:
 *     scaled, 1 s). Baseline, same file, same run, in a child too: parsing the statement file alone.
 *   reconciliation-match-peak-rss (MB): the run's process's peak RSS. Target: at most 500 MB. The
 *     parsing child's peak beside it.
 *   reconciliation-match-cpu-seconds, reconciliation-parse-cpu-seconds (s): each child's CPU time (user +
 *     system) over its measured part: on a shared machine the wall time includes waiting for a core.
 */
export const name = 'reconciliation-match';

const SIZES = { full: 1_000_000, quick: 50_000 } as const;
const MAX_SECONDS_PER_MILLION = 20;
const PEAK_RSS_MAX_MB = 500;
const BREAK_EVERY = 1_000;
const CHANNEL = 'sim-wallet';
const DAY = '2026-12-01';
const WRITE_BATCH = 10_000;
const MB = 1e6;
const CNY = parseCurrency('CNY');

export async function run(options: BenchmarkOptions): Promise<Figure[]> {
  const orders = options.quick ? SIZES.quick : SIZES.full;
  return withTempDir(name, async (dir) => {
    log(name, `generating ${orders.toLocaleString('en-US')} orders, their documents and the statement file`);
    const { result: planted, seconds: generateSeconds } = await timed(() => generate(dir, orders));
    log(name, `generated in ${generateSeconds.toFixed(1)} s (${planted} breaks planted)`);

    const parse = await runChild({
      kind: 'parse',
      file: join(dir, 'statement.jsonl'),
      channel: CHANNEL,
      accountingDate: DAY,
    });
    log(
      name,
      `parse alone: ${parse.rows} lines in ${parse.seconds.toFixed(2)} s (${parse.cpuSeconds.toFixed(2)} s of CPU)`,
    );
    const match = await runChild({
      kind: 'match',
      dir,
      channel: CHANNEL,
      accountingDate: DAY,
      accountingTimeZone: DEFAULT_ACCOUNTING_TIME_ZONE,
    });
    log(
      name,
      `match: ${match.rows} rows in ${match.seconds.toFixed(2)} s (${match.cpuSeconds.toFixed(2)} s of CPU), ${match.matched} matched, ${match.breaks} breaks`,
    );
    // Fast is worth nothing unless right.
    if (parse.rows !== orders) throw new Error(`parsed ${parse.rows} lines of ${orders}`);
    if (match.rows !== 2 * orders || match.breaks !== planted || match.matched !== orders - planted)
      throw new Error(
        `match found ${match.matched} matched and ${match.breaks} breaks of ${orders} (${planted} planted)`,
      );

    return [
      limitFigure({
        name: 'reconciliation-match-seconds',
        value: match.seconds,
        unit: 's',
        maximum: (MAX_SECONDS_PER_MILLION * orders) / 1_000_000,
        baseline: 'parsing the statement file alone (s)',
        baselineValue: parse.seconds,
      }),
      limitFigure({
        name: 'reconciliation-match-peak-rss',
        value: match.peakRssBytes / MB,
        unit: 'MB',
        maximum: PEAK_RSS_MAX_MB,
        baseline: 'parsing process peak RSS (MB)',
        baselineValue: parse.peakRssBytes / MB,
      }),
      extraFigure({ name: 'reconciliation-match-rows-per-second', value: match.rows / match.seconds, unit: 'rows/s' }),
      // CPU time beside wall time: on a shared machine the wall time waits for the CPU, the CPU time less so.
      extraFigure({ name: 'reconciliation-match-cpu-seconds', value: match.cpuSeconds, unit: 's' }),
      extraFigure({ name: 'reconciliation-parse-cpu-seconds', value: parse.cpuSeconds, unit: 's' }),
    ];
  });
}

/** Writes the orders' documents and the statement file, stores the file's day; returns the breaks planted. */
export async function generate(dir: string, orders: number): Promise<number> {
  const readModels = new SqliteReadModelStore(join(dir, 'read-models.sqlite'));
  const projection = channelOrdersProjection(DEFAULT_ACCOUNTING_TIME_ZONE);
  await readModels.ensureCollections(projection.collections);
  const file = join(dir, 'statement.jsonl');
  const out = createWriteStream(file, { encoding: 'utf8' });
  const dayStartMs = Date.parse('2026-11-30T16:00:00.000Z');
  let planted = 0;
  let writes: DocumentWrite[] = [];
  let position = 0n;
  try {
    for (let i = 0; i < orders; i++) {
      const paymentId = randomUUID();
      const amountMinor = 100n + BigInt((i * 7_919) % 1_000_000);
      const feeMinor = (amountMinor * 6_000n + 500_000n) / 1_000_000n || 1n;
      // Before 23:55 local: nothing falls in the cut-off window.
      const at = new Date(dayStartMs + Math.floor((i / orders) * 86_000_000)).toISOString();
      const doc: ChannelOrderDocument = {
        operation: 'channel_payment',
        kind: 'pay',
        channel: CHANNEL,
        merchantOrderNo: paymentId,
        refundNo: null,
        amountMinor: amountMinor.toString(),
        currency: 'CNY',
        status: 'succeeded',
        channelOrderNo: `W${i}`,
        feeMinor: feeMinor.toString(),
        scheduledFeeMinor: feeMinor.toString(),
        ourTime: at,
        channelTime: at,
        accountingDate: DAY,
        dayMatchKey: matchIndexKey(CHANNEL, DAY, paymentId, null),
        updatedAt: at,
      };
      position += 1n;
      writes.push({ collection: CHANNEL_ORDERS_COLLECTION, id: paymentId, data: doc, position });
      if (writes.length === WRITE_BATCH) {
        await readModels.applyBatch(projection.name, writes, position);
        writes = [];
      }
      const differs = i % BREAK_EVERY === BREAK_EVERY - 1;
      if (differs) planted += 1;
      const line: StatementRecord = {
        channel: CHANNEL,
        accountingDate: DAY,
        kind: 'pay',
        status: 'settled',
        channelOrderNo: `W${i}`,
        merchantOrderNo: paymentId,
        refundNo: null,
        channelRefundNo: null,
        amountMinor: differs ? amountMinor + 1n : amountMinor,
        feeMinor,
        currency: CNY,
        channelTime: at,
        sourceLine: i + 1,
      };
      if (!out.write(normalisedLine(line))) await once(out, 'drain');
    }
    if (writes.length > 0) await readModels.applyBatch(projection.name, writes, position);
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
    await readModels.close();
  }
  const statements = new SqliteStatementStore(join(dir, 'recon.sqlite'));
  try {
    const context = { channel: CHANNEL, accountingDate: DAY, merchantIds: [], appIds: [] };
    async function* records(): AsyncIterable<StatementRecord> {
      for await (const item of normalisedStatementParser.parse(createReadStream(file), context))
        if (item.type === 'record') yield item.record;
    }
    await statements.replaceDay(
      { channel: CHANNEL, accountingDate: DAY, format: normalisedStatementParser.format },
      records(),
    );
  } finally {
    await statements.close();
  }
  return planted;
}

async function runChild(job: MatchChildJob): Promise<Extract<MatchChildReport, { ok: true }>> {
  const child = fork(
    fileURLToPath(new URL('./reconciliation-match-child.js', import.meta.url)),
    [JSON.stringify(job)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  let report: MatchChildReport | undefined;
  child.on('message', (message: MatchChildReport) => {
    report = message;
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  if (report === undefined)
    throw new Error(`the ${job.kind} child exited (code ${code}, signal ${signal}) without reporting`);
  if (!report.ok) throw new Error(`the ${job.kind} child failed: ${report.error}`);
  return report;
}

import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DateTime } from 'luxon';
import {
  runMatch,
  type MatchBreak,
  type MatchSummary,
  type PendingItem,
} from '../../domain/reconciliation/match-run.js';
import { parseCurrency } from '../../domain/money/money.js';
import { compareCodePoints } from '../../domain/reconciliation/match-order.js';
import { decodeOurOrder, ourOrderJson, type OurOrder } from '../../domain/reconciliation/our-order.js';
import { decodeStatementRecord, statementRecord } from '../../domain/reconciliation/statement-record.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import type { StatementStore } from '../../ports/statement-store.js';
import {
  CHANNEL_ORDERS_COLLECTION,
  dayMatchRange,
  type ChannelOrderDocument,
} from '../../projections/channel-orders.js';

/**
 * A reconciliation run for one channel and accounting day: the day's statement lines from the
 * StatementStore and our orders from the `channel-orders` read model, both streamed in match order, and
 * the pending pool the previous day's run left, merged in one pass (match-run.ts). What it finds is
 * written under `<resultsDir>/<channel>/<date>/`: `breaks.jsonl` (the first `maxBreaksListed` breaks; the
 * counts are always whole), `pending.jsonl` (the pool the next day's run reads) and `summary.json`.
 * Each file is written beside its final name and renamed into place, so a crash mid-run leaves the last
 * complete run's results, and running a day again replaces them.
 */

/** Orders read from the read model per page. */
export const OUR_ORDERS_PAGE = 1_000;
/** Breaks listed per run by default: an operator works a list, not a million lines. */
export const DEFAULT_MAX_BREAKS_LISTED = 100_000;

export interface MatchDayRequest {
  readonly channel: string;
  readonly accountingDate: string;
  readonly accountingTimeZone: string;
  readonly cutOffWindowMs: number;
  readonly maxBreaksListed?: number;
  /** Told the statement lines read so far, every PROGRESS_EVERY_LINES lines and at the end. */
  readonly onProgress?: (statementLinesRead: number) => void;
}

export const PROGRESS_EVERY_LINES = 1_000;

export interface MatchDayResult extends MatchSummary {
  readonly breaksListed: number;
  readonly directory: string;
}

export const BREAKS_FILE = 'breaks.jsonl';
export const PENDING_FILE = 'pending.jsonl';
export const SUMMARY_FILE = 'summary.json';

export function matchResultsDirectory(resultsDir: string, channel: string, accountingDate: string): string {
  return join(resultsDir, channel, accountingDate);
}

export async function matchDay(
  deps: { readonly statements: StatementStore; readonly readModels: ReadModelStore; readonly resultsDir: string },
  request: MatchDayRequest,
): Promise<MatchDayResult> {
  const maxBreaksListed = request.maxBreaksListed ?? DEFAULT_MAX_BREAKS_LISTED;
  if (!Number.isInteger(maxBreaksListed) || maxBreaksListed < 0) throw new RangeError('maxBreaksListed is >= 0');
  const { channel, accountingDate } = request;
  const directory = matchResultsDirectory(deps.resultsDir, channel, accountingDate);
  const previousDate = DateTime.fromISO(accountingDate, { zone: 'utc' }).minus({ days: 1 }).toISODate();
  if (previousDate === null) throw new RangeError(`not an accounting date: ${accountingDate}`);
  await mkdir(directory, { recursive: true });
  const breaks = new JsonLinesFile(join(directory, BREAKS_FILE));
  const pending = new JsonLinesFile(join(directory, PENDING_FILE));
  let breaksListed = 0;
  try {
    const summary = await runMatch(
      {
        channel,
        accountingDate,
        accountingTimeZone: request.accountingTimeZone,
        cutOffWindowMs: request.cutOffWindowMs,
        statement: counted(deps.statements.readDay({ channel, accountingDate }), request.onProgress),
        ours: readOurDay(deps.readModels, channel, accountingDate),
        carried: readPendingPool(join(matchResultsDirectory(deps.resultsDir, channel, previousDate), PENDING_FILE)),
      },
      {
        onBreak: async (item) => {
          if (breaksListed >= maxBreaksListed) return;
          breaksListed += 1;
          await breaks.write(encodeBreak(item));
        },
        onPending: (item) => pending.write(encodePending(item)),
      },
    );
    await breaks.commit();
    await pending.commit();
    const result: MatchDayResult = { ...summary, breaksListed, directory };
    const summaryPath = join(directory, SUMMARY_FILE);
    await writeFile(`${summaryPath}.partial`, `${JSON.stringify(encodeSummary(result), null, 2)}\n`);
    await rename(`${summaryPath}.partial`, summaryPath);
    return result;
  } finally {
    await breaks.abandon();
    await pending.abandon();
  }
}

/**
 * Our orders of the channel's day in match order, a page at a time. Each page is a range read from just
 * above the last key (the key + U+0000, the next string up), not a cursor: the SQLite store's cursor on a
 * ranged field scans the range from its start for every page (measured: 50 pages of 1,000 took 2.6 s, and
 * each page longer than the one before), a range read seeks. Keys are unique (each holds its operation id),
 * so nothing is skipped; a repeated key would be, and stops the read.
 */
export async function* readOurDay(readModels: ReadModelStore, channel: string, date: string): AsyncIterable<OurOrder> {
  const range = dayMatchRange(channel, date);
  let gte = range.gte;
  for (;;) {
    const page = await readModels.find<ChannelOrderDocument>(CHANNEL_ORDERS_COLLECTION, {
      range: { field: 'dayMatchKey', gte, lt: range.lt },
      orderBy: 'dayMatchKey',
      limit: OUR_ORDERS_PAGE,
    });
    let previous: string | null = null;
    for (const item of page.items) {
      const key = item.data.dayMatchKey;
      if (key === null || (previous !== null && compareCodePoints(key, previous) <= 0))
        throw new Error(`channel-orders: key ${key} out of order or repeated after ${previous}`);
      previous = key;
      yield ourOrderOf(item.data);
    }
    if (page.nextCursor === null || previous === null) return;
    gte = `${previous}\u0000`;
  }
}

export function ourOrderOf(doc: ChannelOrderDocument): OurOrder {
  if (doc.channel === null) throw new Error(`channel-orders: order ${doc.merchantOrderNo} in a day without a channel`);
  return decodeOurOrder({
    channel: doc.channel,
    kind: doc.kind,
    merchantOrderNo: doc.merchantOrderNo,
    refundNo: doc.refundNo,
    amountMinor: doc.amountMinor,
    currency: parseCurrency(doc.currency),
    status: doc.status,
    feeMinor: doc.feeMinor,
    scheduledFeeMinor: doc.scheduledFeeMinor,
    ourTime: doc.ourTime,
    channelTime: doc.channelTime,
    accountingDate: doc.accountingDate,
  });
}

async function* counted<T>(items: AsyncIterable<T>, onProgress?: (read: number) => void): AsyncIterable<T> {
  let read = 0;
  for await (const item of items) {
    read += 1;
    if (onProgress && read % PROGRESS_EVERY_LINES === 0) onProgress(read);
    yield item;
  }
  onProgress?.(read);
}

/** A previous run's pending pool, streaming; none when that day was not run. */
export function readPendingPool(path: string): AsyncIterable<PendingItem> {
  return readJsonLines(path, 'none when missing', (json) => decodePending(json as PendingJson));
}

/** A run's breaks.jsonl, streaming: the breaks it listed, in the order it found them. */
export function readBreaksFile(path: string): AsyncIterable<MatchBreak> {
  return readJsonLines(path, 'required', (json) => decodeBreak(json as MatchBreakJson));
}

/** One of the run's JSON Lines files, a line at a time; a missing file is empty or an error, as asked. */
async function* readJsonLines<T>(
  path: string,
  missing: 'none when missing' | 'required',
  decode: (json: unknown) => T,
): AsyncIterable<T> {
  const input = createReadStream(path, { encoding: 'utf8' });
  try {
    await once(input, 'open');
  } catch (error) {
    if (missing === 'none when missing' && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.length > 0) yield decode(JSON.parse(line));
  }
}

type PendingJson = { side: 'statement' | 'ours'; originDate: string; record: unknown };

export function encodePending(item: PendingItem): PendingJson {
  return item.side === 'statement'
    ? { side: item.side, originDate: item.originDate, record: statementRecord.encode(item.record) }
    : { side: item.side, originDate: item.originDate, record: ourOrderJson.encode(item.record) };
}

export function decodePending(json: PendingJson): PendingItem {
  return json.side === 'statement'
    ? { side: 'statement', originDate: json.originDate, record: decodeStatementRecord(json.record as never) }
    : { side: 'ours', originDate: json.originDate, record: decodeOurOrder(json.record as never) };
}

type MatchBreakJson = Omit<MatchBreak, 'statement' | 'ours'> & { statement: unknown; ours: unknown };

function decodeBreak(json: MatchBreakJson): MatchBreak {
  return {
    ...json,
    statement: json.statement === null ? null : decodeStatementRecord(json.statement as never),
    ours: json.ours === null ? null : decodeOurOrder(json.ours as never),
  };
}

function encodeBreak(item: MatchBreak): unknown {
  return {
    ...item,
    statement: item.statement ? statementRecord.encode(item.statement) : null,
    ours: item.ours ? ourOrderJson.encode(item.ours) : null,
  };
}

function encodeSummary(result: MatchDayResult): unknown {
  return JSON.parse(
    JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
  );
}

/** A JSON Lines file written beside its name, renamed into place by `commit`, removed by `abandon` if not. */
class JsonLinesFile {
  private readonly partial: string;
  private readonly stream: WriteStream;
  private committed = false;
  /** A write that failed (disk full...): kept, so the run fails at its next write instead of the process. */
  private failure: Error | null = null;

  constructor(private readonly path: string) {
    this.partial = `${path}.partial`;
    this.stream = createWriteStream(this.partial, { encoding: 'utf8' });
    this.stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  async write(value: unknown): Promise<void> {
    if (this.failure) throw this.failure;
    // Waits for the stream to drain when its buffer is full, so a million lines never pile up in memory.
    if (!this.stream.write(`${JSON.stringify(value)}\n`)) await once(this.stream, 'drain');
  }

  async commit(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    await rename(this.partial, this.path);
    this.committed = true;
  }

  async abandon(): Promise<void> {
    if (this.committed) return;
    this.stream.destroy();
    await rm(this.partial, { force: true });
  }
}

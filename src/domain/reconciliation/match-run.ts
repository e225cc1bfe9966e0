import { DateTime } from 'luxon';
import { classifyKey, isBreak, ONE_SIDED_CLASSES, type BreakClass, type MatchClass } from './match-classes.js';
import { compareMatchKeys, type MatchKeyed } from './match-order.js';
import type { OurOrder } from './our-order.js';
import type { StatementRecord } from './statement-record.js';

/**
 * One reconciliation run for a channel and accounting day: a single merge join of the statement's lines
 * and our orders, both sorted by (order number, refund number) as match-order.ts compares them, plus the
 * pending pool the previous day's run left (sorted the same way: it was written in this order). Memory
 * holds one key's lines at a time, whatever the day's size.
 *
 * The cut-off window: an item of the day found on one side only, whose time (ours: when we recorded it;
 * the statement's: the channel's time) lies within `cutOffWindowMs` before the day's cut-off (midnight in
 * the accounting time zone), is not a break yet but goes to the pending pool: the other side most likely
 * dated it the next day (an order at 23:59:58 the channel completed at 00:00:03). The next day's run
 * matches it again; what it still cannot match is a break then, aged from its own day (T+1).
 */

/** More lines than this under one key is no statement's: the run stops rather than hold them. */
export const MAX_LINES_PER_KEY = 1_000;

export type MatchSide = 'statement' | 'ours';

/** An item waiting for the next day's run: the line or order found on one side only near the cut-off. */
export type PendingItem =
  | { readonly side: 'statement'; readonly originDate: string; readonly record: StatementRecord }
  | { readonly side: 'ours'; readonly originDate: string; readonly record: OurOrder };

export interface MatchBreak {
  readonly matchClass: BreakClass;
  readonly merchantOrderNo: string;
  readonly refundNo: string | null;
  /** The accounting day the item belongs to (a carried item's: the day before). */
  readonly originDate: string;
  /** Days from originDate to the run's day: 0 on its own day's run, 1 (T+1) when carried over. */
  readonly ageDays: number;
  readonly statement: StatementRecord | null;
  readonly ours: OurOrder | null;
}

export interface MatchSink {
  onBreak(item: MatchBreak): Promise<void>;
  onPending(item: PendingItem): Promise<void>;
}

export interface MatchRunInput {
  readonly channel: string;
  readonly accountingDate: string;
  readonly accountingTimeZone: string;
  readonly cutOffWindowMs: number;
  readonly statement: AsyncIterable<StatementRecord>;
  readonly ours: AsyncIterable<OurOrder>;
  /** The previous day's pending pool, in match order; empty on a first run. */
  readonly carried: AsyncIterable<PendingItem>;
}

export interface ClassTotal {
  count: number;
  /** Per currency: the statement's amount where it has the line, else ours. */
  amountsMinor: Record<string, bigint>;
}

export interface MatchSummary {
  readonly channel: string;
  readonly accountingDate: string;
  statementLines: number;
  ourOrders: number;
  carriedIn: number;
  pending: number;
  breaks: number;
  readonly classes: Record<MatchClass, ClassTotal>;
  /** Per currency, over the pairs both sides settled: the fees we booked and the statement's, net of refunds. */
  readonly fees: Record<string, FeeTotal>;
}

export interface FeeTotal {
  oursMinor: bigint;
  theirsMinor: bigint;
}

/** Largest cut-off window: more than a few hours is not a clock difference but a different day. */
export const MAX_CUT_OFF_WINDOW_MS = 6 * 3_600_000;

export async function runMatch(input: MatchRunInput, sink: MatchSink): Promise<MatchSummary> {
  if (
    !Number.isInteger(input.cutOffWindowMs) ||
    input.cutOffWindowMs < 0 ||
    input.cutOffWindowMs > MAX_CUT_OFF_WINDOW_MS
  )
    throw new RangeError(`a cut-off window is 0..${MAX_CUT_OFF_WINDOW_MS} ms`);
  const day = DateTime.fromISO(input.accountingDate, { zone: input.accountingTimeZone });
  if (!day.isValid) throw new RangeError(`not an accounting date: ${input.accountingDate}`);
  const cutOffMs = day.plus({ days: 1 }).startOf('day').toMillis();
  const windowStartMs = cutOffMs - input.cutOffWindowMs;
  const summary: MatchSummary = {
    channel: input.channel,
    accountingDate: input.accountingDate,
    statementLines: 0,
    ourOrders: 0,
    carriedIn: 0,
    pending: 0,
    breaks: 0,
    classes: {} as Record<MatchClass, ClassTotal>,
    fees: {},
  };
  const statement = new SortedCursor(input.statement, 'statement lines');
  const ours = new SortedCursor(input.ours, 'our orders');
  const carried = new SortedCursor(mapKeys(input.carried), 'the pending pool');
  await Promise.all([statement.start(), ours.start(), carried.start()]);

  for (;;) {
    const key = smallest([statement.head, ours.head, carried.head?.key ?? null]);
    if (key === null) break;
    const lines = await statement.takeKey(key);
    const orders = await ours.takeKey(key);
    summary.statementLines += lines.length;
    summary.ourOrders += orders.length;
    const carriedItems = await carried.takeKey(key);
    summary.carriedIn += carriedItems.length;
    // Most keys carry nothing over: no map for them (a million keys a day).
    let carriedOrigin: ReadonlyMap<object, string> = NOTHING_CARRIED;
    if (carriedItems.length > 0)
      carriedOrigin = new Map(carriedItems.map(({ item }) => [item.record, item.originDate]));
    for (const { item } of carriedItems) {
      if (item.side === 'statement') lines.push(item.record);
      else orders.push(item.record);
    }
    if (lines.length + orders.length > MAX_LINES_PER_KEY)
      throw new Error(`more than ${MAX_LINES_PER_KEY} lines for order ${key.merchantOrderNo}: not a statement`);

    for (const judged of classifyKey(lines, orders)) {
      const record = judged.statement ?? judged.ours!;
      const originDate = carriedOrigin.get(record) ?? input.accountingDate;
      if (ONE_SIDED_CLASSES.has(judged.matchClass) && originDate === input.accountingDate) {
        const atMs = Date.parse(judged.statement ? judged.statement.channelTime : judged.ours!.ourTime);
        if (atMs >= windowStartMs) {
          summary.pending += 1;
          await sink.onPending(
            judged.statement
              ? { side: 'statement', originDate, record: judged.statement }
              : { side: 'ours', originDate, record: judged.ours! },
          );
          continue;
        }
      }
      count(summary, judged.matchClass, judged.statement ?? judged.ours!);
      addFees(summary.fees, judged.statement, judged.ours);
      if (!isBreak(judged.matchClass)) continue;
      summary.breaks += 1;
      await sink.onBreak({
        matchClass: judged.matchClass,
        merchantOrderNo: key.merchantOrderNo,
        refundNo: key.refundNo,
        originDate,
        ageDays: Math.round(day.diff(DateTime.fromISO(originDate, { zone: input.accountingTimeZone }), 'days').days),
        statement: judged.statement,
        ours: judged.ours,
      });
    }
  }
  return summary;
}

const NOTHING_CARRIED: ReadonlyMap<object, string> = new Map();

function count(summary: MatchSummary, matchClass: MatchClass, money: { amountMinor: bigint; currency: string }): void {
  const total = (summary.classes[matchClass] ??= { count: 0, amountsMinor: {} });
  total.count += 1;
  total.amountsMinor[money.currency] = (total.amountsMinor[money.currency] ?? 0n) + money.amountMinor;
}

/**
 * The fees of a pair both sides settled, in the statement's currency: a refund's fee (given back) counts
 * against its pay's, so a day's totals are what the channel kept. Ours is the fee booked, 0 when none was.
 */
function addFees(fees: Record<string, FeeTotal>, line: StatementRecord | null, order: OurOrder | null): void {
  if (line === null || order === null || line.status !== 'settled' || order.status !== 'succeeded') return;
  const sign = line.kind === 'refund' ? -1n : 1n;
  const total = (fees[line.currency] ??= { oursMinor: 0n, theirsMinor: 0n });
  total.oursMinor += sign * (order.feeMinor ?? 0n);
  total.theirsMinor += sign * line.feeMinor;
}

function smallest(keys: readonly (MatchKeyed | null)[]): MatchKeyed | null {
  let best: MatchKeyed | null = null;
  for (const key of keys) if (key !== null && (best === null || compareMatchKeys(key, best) < 0)) best = key;
  return best === null ? null : { merchantOrderNo: best.merchantOrderNo, refundNo: best.refundNo };
}

interface KeyedPending extends MatchKeyed {
  readonly key: MatchKeyed;
  readonly item: PendingItem;
}

async function* mapKeys(items: AsyncIterable<PendingItem>): AsyncIterable<KeyedPending> {
  for await (const item of items) {
    const key = { merchantOrderNo: item.record.merchantOrderNo, refundNo: item.record.refundNo };
    yield { ...key, key, item };
  }
}

/**
 * One sorted input, read one key at a time. Its order is checked as it is read: a merge join over an
 * input out of order would report matches as breaks without a word, so an out-of-order item stops the run.
 */
class SortedCursor<T extends MatchKeyed> {
  private readonly iterator: AsyncIterator<T>;
  head: T | null = null;

  constructor(
    source: AsyncIterable<T>,
    private readonly name: string,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  async start(): Promise<void> {
    await this.advance();
  }

  private async advance(): Promise<void> {
    const previous = this.head;
    const next = await this.iterator.next();
    this.head = next.done ? null : next.value;
    if (previous && this.head && compareMatchKeys(previous, this.head) > 0)
      throw new Error(
        `${this.name} out of match order: ${this.head.merchantOrderNo}/${this.head.refundNo ?? ''} after ${previous.merchantOrderNo}/${previous.refundNo ?? ''}`,
      );
  }

  /** Every item under `key` (the head's key or one above it), in order. */
  async takeKey(key: MatchKeyed): Promise<T[]> {
    // Not this input's key (or the input is done): nothing to wait for.
    if (this.head === null || compareMatchKeys(this.head, key) !== 0) return [];
    const taken: T[] = [];
    while (this.head !== null && compareMatchKeys(this.head, key) === 0) {
      if (taken.length >= MAX_LINES_PER_KEY)
        throw new Error(`more than ${MAX_LINES_PER_KEY} ${this.name} for order ${key.merchantOrderNo}`);
      taken.push(this.head);
      await this.advance();
    }
    return taken;
  }
}

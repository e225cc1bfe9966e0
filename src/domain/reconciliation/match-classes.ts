import type { OurOrder } from './our-order.js';
import type { StatementRecord } from './statement-record.js';

/**
 * What matching finds for one key (order number, refund number): the channel's statement line(s) and our
 * order(s) for it, judged together. `matched` and `unsettled` (nothing moved on either side: an order
 * that failed, expired or is still open with us and is not on the statement, or a line the channel
 * revoked that we never paid) are not breaks; every other class is one.
 */
export const BREAK_CLASSES = [
  /** A pay or payout the channel settled that we hold as not succeeded (failed, pending, unknown...). */
  'we_not_paid_channel_paid',
  /** Both settled, different amounts (or currencies). */
  'amount_differs',
  /** We hold it succeeded; the channel's statement has no line for it. */
  'we_paid_channel_missing',
  /** The channel settled it; we have no such order. */
  'we_missing_channel_paid',
  /** A refund the channel settled that we hold as not succeeded. */
  'we_not_refunded_channel_refunded',
  /** Both refunded, different amounts (or currencies). */
  'refund_amount_differs',
  /** We hold the refund succeeded; the statement has no line for it. */
  'refund_missing_on_channel',
  /** The statement has a refund line we have no refund for. */
  'refund_missing_with_us',
  /** The channel's fee is not the one its fee schedule gives for the amount. */
  'fee_differs_from_schedule',
  /** The channel's fee on the statement is not the one it reported and we booked. */
  'fee_differs_from_recorded',
  /** A second (third...) line for the same key, on either side. */
  'duplicate_rows',
  /** The channel revoked the pay (nothing settled) while we hold it succeeded. */
  'revoked_but_paid',
] as const;
export type BreakClass = (typeof BREAK_CLASSES)[number];
export const MATCH_CLASSES = ['matched', 'unsettled', ...BREAK_CLASSES] as const;
export type MatchClass = (typeof MATCH_CLASSES)[number];

/** Classes of an item found on one side only: within the cut-off window they wait for the next day's run. */
export const ONE_SIDED_CLASSES: ReadonlySet<MatchClass> = new Set<MatchClass>([
  'we_paid_channel_missing',
  'we_missing_channel_paid',
  'refund_missing_on_channel',
  'refund_missing_with_us',
]);

export function isBreak(matchClass: MatchClass): matchClass is BreakClass {
  return matchClass !== 'matched' && matchClass !== 'unsettled';
}

/** One judgement: the class and the line and order it was made on (either may be absent). */
export interface Classified {
  readonly matchClass: MatchClass;
  readonly statement: StatementRecord | null;
  readonly ours: OurOrder | null;
}

/**
 * Judges one key's lines and orders (all with the same order and refund number). The first line and the
 * first order are judged as a pair; every further one on either side is a `duplicate_rows` break of its own.
 */
export function classifyKey(statement: readonly StatementRecord[], ours: readonly OurOrder[]): Classified[] {
  if (statement.length === 0 && ours.length === 0) throw new Error('classifyKey: a key with nothing on either side');
  const line = statement[0] ?? null;
  const order = ours[0] ?? null;
  const results: Classified[] = [{ matchClass: classifyPair(line, order), statement: line, ours: order }];
  for (let i = 1; i < statement.length; i++)
    results.push({ matchClass: 'duplicate_rows', statement: statement[i]!, ours: null });
  for (let i = 1; i < ours.length; i++) results.push({ matchClass: 'duplicate_rows', statement: null, ours: ours[i]! });
  return results;
}

/** A statement line and our order for the same key (one of them may be missing). */
export function classifyPair(line: StatementRecord | null, order: OurOrder | null): MatchClass {
  const refund = (line?.kind ?? order?.kind) === 'refund';
  const weMoved = order?.status === 'succeeded';
  if (line === null) {
    if (!weMoved) return 'unsettled';
    return refund ? 'refund_missing_on_channel' : 'we_paid_channel_missing';
  }
  const channelMoved = line.status === 'settled';
  if (order === null) {
    if (!channelMoved) return 'unsettled';
    return refund ? 'refund_missing_with_us' : 'we_missing_channel_paid';
  }
  if (!channelMoved) return weMoved ? 'revoked_but_paid' : 'matched';
  if (!weMoved) return refund ? 'we_not_refunded_channel_refunded' : 'we_not_paid_channel_paid';
  if (line.amountMinor !== order.amountMinor || line.currency !== order.currency)
    return refund ? 'refund_amount_differs' : 'amount_differs';
  if (order.feeMinor !== null && line.feeMinor !== order.feeMinor) return 'fee_differs_from_recorded';
  if (!refund && order.scheduledFeeMinor !== null && line.feeMinor !== order.scheduledFeeMinor)
    return 'fee_differs_from_schedule';
  return 'matched';
}

import type { CurrencyCode } from '../money/currency.js';
import type { BreakClass } from './match-classes.js';
import type { OurOrder } from './our-order.js';
import type { StatementRecord } from './statement-record.js';

/**
 * What an operator's resolution books, so the books end up saying what the channel holds for us.
 *
 * Every channel order moves what the channel holds for us (book account 1122, the channel's sub-ledger):
 * a pay adds its amount less the fee the channel kept, a payout takes its amount and the fee away, a
 * refund takes its amount away and adds any fee the channel gave back; a revoked line moves nothing, and
 * our order moves 1122 only once it succeeded (the posting rules book it then). A break's difference is
 * what the statement's line moved minus what our order moved; accepting the channel's word books that
 * difference between 1122 and the account it belongs to: a fee difference to fee variance (6604), any
 * other to suspense (2241, money whose owner is not known yet, until someone finds out). Positive: the
 * channel holds more than we booked (Dr 1122, Cr the account); negative: less (Dr the account, Cr 1122).
 */
export const SUSPENSE_BOOK_ACCOUNT = '2241';
export const FEE_VARIANCE_BOOK_ACCOUNT = '6604';

/** The classes whose difference is the channel's fee alone (the amounts agree). */
export const FEE_CLASSES: ReadonlySet<BreakClass> = new Set<BreakClass>([
  'fee_differs_from_recorded',
  'fee_differs_from_schedule',
]);

/** Classes where "take the channel's amount" makes sense: both sides have the order, settled, and differ. */
export const ACCEPTABLE_CLASSES: ReadonlySet<BreakClass> = new Set<BreakClass>([
  'amount_differs',
  'refund_amount_differs',
  'fee_differs_from_recorded',
  'fee_differs_from_schedule',
]);

export interface BreakSides {
  readonly statement: StatementRecord | null;
  readonly ours: OurOrder | null;
}

/** What a statement line moved on 1122 (signed, minor units). */
export function statementClearingEffect(line: StatementRecord): bigint {
  if (line.status !== 'settled') return 0n;
  switch (line.kind) {
    case 'pay':
      return line.amountMinor - line.feeMinor;
    case 'payout':
      return -(line.amountMinor + line.feeMinor);
    case 'refund':
      return -line.amountMinor + line.feeMinor;
  }
}

/** What our order moved on 1122 (signed, minor units): nothing until it succeeded. */
export function ourClearingEffect(order: OurOrder): bigint {
  if (order.status !== 'succeeded') return 0n;
  const fee = order.feeMinor ?? 0n;
  switch (order.kind) {
    case 'pay':
      return order.amountMinor - fee;
    case 'payout':
      return -(order.amountMinor + fee);
    case 'refund':
      return -order.amountMinor + fee;
  }
}

/** The one currency of a break's sides; null when they are in two (no single difference can be booked). */
export function currencyOfSides(sides: BreakSides): CurrencyCode | null {
  const { statement, ours } = sides;
  if (statement && ours && statement.currency !== ours.currency) return null;
  const currency = statement?.currency ?? ours?.currency;
  if (currency === undefined) throw new Error('a break has a statement line or an order');
  return currency;
}

/** The channel holds this much more (negative: less) than we booked for the break's order. */
export function clearingDifferenceMinor(sides: BreakSides): bigint {
  return (
    (sides.statement ? statementClearingEffect(sides.statement) : 0n) -
    (sides.ours ? ourClearingEffect(sides.ours) : 0n)
  );
}

/** The account an operator's resolution of this class books its difference to. */
export function differenceAccountOf(matchClass: BreakClass, resolution: 'accepted_channel_amount' | 'written_off') {
  return resolution === 'accepted_channel_amount' && FEE_CLASSES.has(matchClass)
    ? FEE_VARIANCE_BOOK_ACCOUNT
    : SUSPENSE_BOOK_ACCOUNT;
}

import { z } from 'zod';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';

/**
 * One line of a channel's statement in the one shape reconciliation matches, whatever the channel wrote:
 * the WeChat Pay bill, the Alipay trade detail and the simulator's CSV all normalise to it. Amounts are
 * integer minor units, never floats; the channel's time is UTC.
 *
 * - `pay`: the channel took the payer's money for our order (`merchantOrderNo`: our payment id, the
 *   order number we sent); `payout`: it paid out for our order (a withdrawal); `refund`: it gave money back
 *   for a pay (`refundNo`: our refund id as sent; `channelRefundNo`: the channel's).
 * - `status`: `settled` for what moved money; `revoked` for a pay voided the same day (nothing settled).
 * - `feeMinor`: what the channel charged us for the line (a pay's fee), or gave back (a refund's returned
 *   fee), always >= 0: the kind says which way it went.
 * - `sourceLine`: the line of the file it came from (1-based), so an operator can find it.
 */
export const STATEMENT_KINDS = ['pay', 'payout', 'refund'] as const;
export const STATEMENT_STATUSES = ['settled', 'revoked'] as const;
/** Order, refund and channel numbers longer than this are not any channel's we know: the line is refused. */
export const MAX_STATEMENT_REFERENCE_LENGTH = 64;

const reference = z.string().min(1).max(MAX_STATEMENT_REFERENCE_LENGTH);

export const statementRecord = z.strictObject({
  channel: z.string().min(1).max(64),
  accountingDate: z.iso.date(),
  kind: z.enum(STATEMENT_KINDS),
  status: z.enum(STATEMENT_STATUSES),
  channelOrderNo: reference,
  merchantOrderNo: reference,
  refundNo: reference.nullable(),
  channelRefundNo: reference.nullable(),
  amountMinor: minorUnits.refine((value) => value > 0n, 'an amount is above zero'),
  feeMinor: minorUnits.refine((value) => value >= 0n, 'a fee is never negative'),
  currency: currencyCode,
  channelTime: utcInstant,
  sourceLine: z.int().min(1),
});

export type StatementRecord = z.output<typeof statementRecord>;
export type StatementRecordJson = z.input<typeof statementRecord>;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

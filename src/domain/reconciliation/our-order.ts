import { z } from 'zod';
import type { CurrencyCode } from '../money/currency.js';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';
import { STATEMENT_KINDS, type StatementKind } from './statement-record.js';

/**
 * One order we sent a channel, as reconciliation matches it against the channel's statement: a channel
 * payment (`pay`), a recharge (`pay`: the channel charged a card for us), a withdrawal (`payout`) or a
 * refund of a channel payment (`refund`). `merchantOrderNo` is the order number we sent, our operation id;
 * `refundNo` our refund id as sent. Read from the `channel-orders` read model, never the write path.
 *
 * - `status`: `succeeded` once the channel said it moved the money; `open` before it was sent, `submitted`
 *   while its answer is awaited, `pending` and `unknown` while the channel's word is outstanding, `failed`,
 *   `expired` (closed unpaid) and `cancelled` (a payment voided the same day) when nothing moved.
 * - `feeMinor`: the fee the channel reported and we booked (a refund's: the fee it gave back); null until
 *   succeeded. `scheduledFeeMinor`: the fee the channel's fee schedule gives for the amount, as the
 *   routing decision computed it (null when the order was not routed by a decision that priced it).
 * - `ourTime`: when we recorded the order; `channelTime`: the channel's time of the money movement when it
 *   told us one. `accountingDate`: the day of `ourTime` in the accounting time zone.
 */
export const OUR_ORDER_STATUSES = [
  'open',
  'submitted',
  'pending',
  'unknown',
  'succeeded',
  'failed',
  'expired',
  'cancelled',
] as const;
export type OurOrderStatus = (typeof OUR_ORDER_STATUSES)[number];

export interface OurOrder {
  readonly channel: string;
  readonly kind: StatementKind;
  readonly merchantOrderNo: string;
  readonly refundNo: string | null;
  readonly amountMinor: bigint;
  readonly currency: CurrencyCode;
  readonly status: OurOrderStatus;
  readonly feeMinor: bigint | null;
  readonly scheduledFeeMinor: bigint | null;
  readonly ourTime: string;
  readonly channelTime: string | null;
  readonly accountingDate: string;
}

/** Its JSON form: the `channel_orders` document's fields of the same names, and a pending pool's lines. */
export const ourOrderJson = z.object({
  channel: z.string().min(1),
  kind: z.enum(STATEMENT_KINDS),
  merchantOrderNo: z.string().min(1),
  refundNo: z.string().min(1).nullable(),
  amountMinor: minorUnits,
  currency: currencyCode,
  status: z.enum(OUR_ORDER_STATUSES),
  feeMinor: minorUnits.nullable(),
  scheduledFeeMinor: minorUnits.nullable(),
  ourTime: utcInstant,
  channelTime: utcInstant.nullable(),
  accountingDate: z.iso.date(),
});

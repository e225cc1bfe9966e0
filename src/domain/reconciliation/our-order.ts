import { z } from 'zod';
import { isCurrencyCode, type CurrencyCode } from '../money/currency.js';
import {
  currencyCode,
  fastMinorUnits,
  isFastIsoDate,
  isFastUtcInstant,
  minorUnits,
  utcInstant,
} from '../shared/codecs.js';
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

/**
 * An order's JSON form (a `channel_orders` document's fields) to the order, as `ourOrderJson.decode` gives
 * it, without zod when every field is of a form the schema accepts (a million orders a day are read back
 * for matching, each written by our own projection), with zod for anything else, which refuses it.
 */
export function decodeOurOrder(json: z.input<typeof ourOrderJson>): OurOrder {
  return fastOurOrder(json) ?? ourOrderJson.decode(json);
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length >= 1;

function fastOurOrder(json: unknown): OurOrder | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { channel, kind, merchantOrderNo, refundNo, currency, status, ourTime, channelTime, accountingDate } =
    json as Record<string, unknown>;
  const fields = json as Record<string, unknown>;
  const amountMinor = fastMinorUnits(fields.amountMinor);
  const feeMinor = fields.feeMinor === null ? null : fastMinorUnits(fields.feeMinor);
  const scheduledFeeMinor = fields.scheduledFeeMinor === null ? null : fastMinorUnits(fields.scheduledFeeMinor);
  if (
    !isText(channel) ||
    !(STATEMENT_KINDS as readonly unknown[]).includes(kind) ||
    !isText(merchantOrderNo) ||
    !(refundNo === null || isText(refundNo)) ||
    amountMinor === undefined ||
    typeof currency !== 'string' ||
    !isCurrencyCode(currency) ||
    !(OUR_ORDER_STATUSES as readonly unknown[]).includes(status) ||
    feeMinor === undefined ||
    scheduledFeeMinor === undefined ||
    !isFastUtcInstant(ourTime) ||
    !(channelTime === null || isFastUtcInstant(channelTime)) ||
    !isFastIsoDate(accountingDate)
  )
    return undefined;
  return {
    channel,
    kind: kind as StatementKind,
    merchantOrderNo,
    refundNo,
    amountMinor,
    currency,
    status: status as OurOrderStatus,
    feeMinor,
    scheduledFeeMinor,
    ourTime,
    channelTime,
    accountingDate,
  };
}

import { z } from 'zod';
import { isCurrencyCode } from '../money/currency.js';
import {
  currencyCode,
  fastMinorUnits,
  isFastIsoDate,
  isFastUtcInstant,
  minorUnits,
  utcInstant,
} from '../shared/codecs.js';

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

/** A channel's name (its profile's id). */
export const MAX_STATEMENT_CHANNEL_LENGTH = 64;

const reference = z.string().min(1).max(MAX_STATEMENT_REFERENCE_LENGTH);

export const statementRecord = z.strictObject({
  channel: z.string().min(1).max(MAX_STATEMENT_CHANNEL_LENGTH),
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

const RECORD_FIELDS = Object.keys(statementRecord.shape).length;

/**
 * A stored line back to its record, as `statementRecord.decode` gives it, without zod for a well-formed
 * line (the read path of a day: a million lines, each validated when it was stored), with zod for anything
 * else, which refuses a corrupted line with its reason.
 */
export function decodeStatementRecord(json: StatementRecordJson): StatementRecord {
  return fastStatementRecord(json) ?? statementRecord.decode(json);
}

const isReference = (value: unknown): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= MAX_STATEMENT_REFERENCE_LENGTH;

/** The record when every field is of a form the schema accepts (a subset of it), else undefined. */
function fastStatementRecord(json: unknown): StatementRecord | undefined {
  if (typeof json !== 'object' || json === null || Object.keys(json).length !== RECORD_FIELDS) return undefined;
  const { channel, accountingDate, kind, status, channelOrderNo, merchantOrderNo, refundNo, channelRefundNo } =
    json as Record<string, unknown>;
  const { currency, channelTime, sourceLine } = json as Record<string, unknown>;
  const amountMinor = fastMinorUnits((json as Record<string, unknown>).amountMinor);
  const feeMinor = fastMinorUnits((json as Record<string, unknown>).feeMinor);
  if (
    typeof channel !== 'string' ||
    channel.length < 1 ||
    channel.length > MAX_STATEMENT_CHANNEL_LENGTH ||
    !isFastIsoDate(accountingDate) ||
    !(STATEMENT_KINDS as readonly unknown[]).includes(kind) ||
    !(STATEMENT_STATUSES as readonly unknown[]).includes(status) ||
    !isReference(channelOrderNo) ||
    !isReference(merchantOrderNo) ||
    !(refundNo === null || isReference(refundNo)) ||
    !(channelRefundNo === null || isReference(channelRefundNo)) ||
    amountMinor === undefined ||
    amountMinor <= 0n ||
    feeMinor === undefined ||
    feeMinor < 0n ||
    typeof currency !== 'string' ||
    !isCurrencyCode(currency) ||
    !isFastUtcInstant(channelTime) ||
    !Number.isSafeInteger(sourceLine) ||
    (sourceLine as number) < 1
  )
    return undefined;
  return {
    channel,
    accountingDate,
    kind: kind as StatementKind,
    status: status as (typeof STATEMENT_STATUSES)[number],
    channelOrderNo,
    merchantOrderNo,
    refundNo,
    channelRefundNo,
    amountMinor,
    feeMinor,
    currency,
    channelTime,
    sourceLine: sourceLine as number,
  };
}

import { z } from 'zod';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';
import { LEARNT_BY } from './channel-payment-events.js';

/**
 * Refunds of a channel payment, on the payment's own stream (`chanpay-<paymentId>`), as the balance
 * payments' refunds are on theirs. One stream is one consistency boundary: two refunds racing are
 * decided one after the other on the payment's state (the expected revision), so their total can never
 * pass what was paid, and a refund number is the payment's to keep unique. A stream per refund would need
 * a reservation protocol across streams for the same guarantee.
 *
 * A refund is requested (reserved against the refundable amount), the merchant's account is debited
 * (the money held: `ChannelRefundSubmitted` is recorded only after the debit, just before the channel is
 * called under our refund id), and the channel's word is recorded as it is learnt: succeeded, pending,
 * unknown, declined (failed, the held money then released back to the merchant). A refund refused before
 * the channel was called (the merchant's balance too low) is failed with nothing held.
 */
const paymentId = z.uuid();
const refundId = z.uuid();
const reason = z.string().max(300);

export const channelRefundRequested = z.strictObject({
  type: z.literal('ChannelRefundRequested'),
  data: z.strictObject({
    paymentId,
    refundId,
    /** A refund (part or all, any day) or a cancellation (a same-day void of the whole, fee included). */
    kind: z.enum(['refund', 'cancellation']),
    /** The merchant's refund number: unique per payment, its idempotency key. */
    refundNo: z.string().min(1).max(64),
    amountMinor: minorUnits,
    currency: currencyCode,
    reason: z.string().max(200),
    at: utcInstant,
  }),
});

/** The merchant's account was debited (the money held); the channel is called next, under `refundId`. */
export const channelRefundSubmitted = z.strictObject({
  type: z.literal('ChannelRefundSubmitted'),
  data: z.strictObject({ paymentId, refundId, channel: z.string(), at: utcInstant }),
});

export const channelRefundPending = z.strictObject({
  type: z.literal('ChannelRefundPending'),
  data: z.strictObject({ paymentId, refundId, channelRefundNo: z.string().max(64).nullable(), at: utcInstant }),
});

/** The call's outcome cannot be known: only a refund query resolves it (never a second refund). */
export const channelRefundUnknown = z.strictObject({
  type: z.literal('ChannelRefundUnknown'),
  data: z.strictObject({
    paymentId,
    refundId,
    reason: z.enum(['timeout', 'system_error', 'bad_answer']),
    detail: reason,
    at: utcInstant,
  }),
});

export const channelRefundSucceeded = z.strictObject({
  type: z.literal('ChannelRefundSucceeded'),
  data: z.strictObject({
    paymentId,
    refundId,
    /** A succeeded cancellation cancels the payment. */
    kind: z.enum(['refund', 'cancellation']),
    channel: z.string(),
    currency: currencyCode,
    /**
     * The channel's fee it gives back: a void undoes the charge whole, fee included (posting row
     * `channel-cancellation-fee`); a refund gives none back (the simulated channels charge no refund fee
     * and keep the original one: it stays the platform's expense).
     */
    feeReturnedMinor: minorUnits,
    channelRefundNo: z.string().min(1).max(64),
    channelTime: utcInstant,
    learntBy: z.enum(LEARNT_BY),
    at: utcInstant,
  }),
});

export const channelRefundFailed = z.strictObject({
  type: z.literal('ChannelRefundFailed'),
  data: z.strictObject({
    paymentId,
    refundId,
    /** Ours: channel_declined, insufficient_funds (the merchant's balance), account_not_active... */
    reasonCode: z.string().min(1).max(64),
    reason,
    declineCode: z.string().max(64).nullable(),
    channelCode: z.string().max(64).nullable(),
    learntBy: z.enum(LEARNT_BY).nullable(),
    /** The merchant's money was held (debited) for it: it is released next. */
    held: z.boolean(),
    at: utcInstant,
  }),
});

/** The held money of a failed refund is back on the merchant's account. */
export const channelRefundReleased = z.strictObject({
  type: z.literal('ChannelRefundReleased'),
  data: z.strictObject({ paymentId, refundId, at: utcInstant }),
});

/** A succeeded cancellation (beside its `ChannelRefundSucceeded`): the payment is void, nothing is owed. */
export const channelPaymentCancelled = z.strictObject({
  type: z.literal('ChannelPaymentCancelled'),
  data: z.strictObject({ paymentId, refundId, at: utcInstant }),
});

export const channelRefundEventSchemas = [
  channelRefundRequested,
  channelRefundSubmitted,
  channelRefundPending,
  channelRefundUnknown,
  channelRefundSucceeded,
  channelRefundFailed,
  channelRefundReleased,
  channelPaymentCancelled,
] as const;

export type ChannelRefundEvent = z.output<(typeof channelRefundEventSchemas)[number]>;

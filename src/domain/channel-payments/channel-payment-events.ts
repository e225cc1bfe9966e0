import { z } from 'zod';
import { payerInstrumentJson } from '../channels/payer-instrument.js';
import { routingDecisionJson } from '../channels/routing-record.js';
import { riskAssessmentJson } from '../risk/risk-record.js';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';

/**
 * Facts of a channel payment's process stream (`chanpay-<paymentId>`): a payer pays a merchant through a
 * payment channel (a bound card, online banking, a wallet platform). The order is recorded, with the
 * routing decision that chose its channel, before risk is assessed or any channel is asked; the step-up
 * challenge's events (step-up-events.ts) are on this stream too, so the payment and its challenge are one
 * consistency boundary. The channel's outcome is recorded as it is learnt: from the call's answer, a
 * signed callback, or an order query.
 *
 * No card number, ID number, phone or code is here: the instrument holds the channels' contract numbers,
 * the payer snapshot a masked phone.
 */
const paymentId = z.uuid();
const channelOrderNo = z.string().min(1).max(64);
const reason = z.string().max(300);

export const channelPaymentOrder = z.strictObject({
  paymentId,
  merchantId: z.string().min(1).max(64),
  payeeAccountId: z.string(),
  /** The payee account's chart-of-accounts code at creation. */
  payeeSubjectCode: z.string(),
  merchantOrderNo: z.string().min(1).max(64),
  amountMinor: minorUnits,
  currency: currencyCode,
  description: z.string().max(200),
  instrument: payerInstrumentJson,
  payer: z.strictObject({
    ip: z.string().min(1).max(64).nullable(),
    deviceId: z.string().min(1).max(128).nullable(),
    /** The merchant's id of its customer (risk's per-payer limits); the device id when none is given. */
    payerId: z.string().min(1).max(64),
    maskedPhone: z.string().max(20).nullable(),
  }),
  /** The routing decision with its inputs: `route(decoded.inputs)` replays it. */
  routing: routingDecisionJson,
  createdAt: utcInstant,
  accountingDate: z.iso.date(),
});

export const channelPaymentCreated = z.strictObject({
  type: z.literal('ChannelPaymentCreated'),
  data: channelPaymentOrder,
});

export const channelPaymentRiskAssessed = z.strictObject({
  type: z.literal('ChannelPaymentRiskAssessed'),
  data: z.strictObject({ paymentId, assessment: riskAssessmentJson }),
});

/** The channel was unavailable (nothing sent): another channel was chosen. */
export const channelPaymentRerouted = z.strictObject({
  type: z.literal('ChannelPaymentRerouted'),
  data: z.strictObject({ paymentId, fromChannel: z.string(), routing: routingDecisionJson, at: utcInstant }),
});

/** Recorded just before the channel is called: a crash after it is resumed by asking the channel first. */
export const channelPaymentSubmitted = z.strictObject({
  type: z.literal('ChannelPaymentSubmitted'),
  data: z.strictObject({ paymentId, channel: z.string(), attempt: z.int().min(1).max(16), at: utcInstant }),
});

export const channelPaymentPending = z.strictObject({
  type: z.literal('ChannelPaymentPending'),
  data: z.strictObject({
    paymentId,
    channelOrderNo,
    /** Where the payer goes to act (a bank page, a pay page or QR content); null when nothing is asked of them. */
    payerActionUrl: z.string().max(2_000).nullable(),
    sequence: z.int().nonnegative().nullable(),
    at: utcInstant,
  }),
});

/** `statement`: the channel's statement of the day settled it (reconciliation's automatic resolution). */
export const LEARNT_BY = ['answer', 'notification', 'query', 'statement'] as const;

export const channelPaymentSucceeded = z.strictObject({
  type: z.literal('ChannelPaymentSucceeded'),
  data: z.strictObject({
    paymentId,
    channel: z.string(),
    channelOrderNo,
    feeMinor: minorUnits,
    channelTime: utcInstant,
    learntBy: z.enum(LEARNT_BY),
    sequence: z.int().nonnegative().nullable(),
    at: utcInstant,
  }),
});

export const channelPaymentFailed = z.strictObject({
  type: z.literal('ChannelPaymentFailed'),
  data: z.strictObject({
    paymentId,
    /** Ours: risk_blocked, verification_failed, channel_declined, channel_unavailable, no_channel_available... */
    reasonCode: z.string().min(1).max(64),
    reason,
    /** Our code for what the channel refused (insufficient_funds, card_restricted...); null otherwise. */
    declineCode: z.string().max(64).nullable(),
    /** The channel's own code when the channel refused; null otherwise. */
    channelCode: z.string().max(64).nullable(),
    learntBy: z.enum(LEARNT_BY).nullable(),
    at: utcInstant,
  }),
});

/** The call's outcome cannot be known (timeout, system error): only the channel's word resolves it. */
export const channelPaymentUnknown = z.strictObject({
  type: z.literal('ChannelPaymentUnknown'),
  data: z.strictObject({
    paymentId,
    reason: z.enum(['timeout', 'system_error', 'bad_answer', 'connection_refused', 'outage']),
    detail: reason,
    at: utcInstant,
  }),
});

/**
 * The channel reported a fee above the amount (against its own schedule, which routing checked): the
 * payment still completes with the amount the channel really moved and the fee it says it kept (the
 * books show what happened; 1122 carries the difference until reconciliation settles it with the
 * channel), and this fact is what an operator reviews. Recorded beside `ChannelPaymentSucceeded`.
 */
export const channelPaymentFeeAnomalyRecorded = z.strictObject({
  type: z.literal('ChannelPaymentFeeAnomalyRecorded'),
  data: z.strictObject({
    paymentId,
    channel: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    reportedFeeMinor: minorUnits,
    /** The fee the routing decision computed from the channel's schedule; null when it is not in the decision. */
    scheduledFeeMinor: minorUnits.nullable(),
    at: utcInstant,
  }),
});

/** The channel closed the order without payment (the payer never paid): over, nothing moved. */
export const channelPaymentExpired = z.strictObject({
  type: z.literal('ChannelPaymentExpired'),
  data: z.strictObject({
    paymentId,
    channelState: z.enum(['closed', 'cancelled']),
    learntBy: z.enum(LEARNT_BY),
    at: utcInstant,
  }),
});

/** The payee was credited: posts the channel's fee (the gross is on the payee's FundsCredited). */
export const channelPaymentCompleted = z.strictObject({
  type: z.literal('ChannelPaymentCompleted'),
  data: z.strictObject({
    paymentId,
    channel: z.string(),
    channelOrderNo,
    amountMinor: minorUnits,
    channelFeeMinor: minorUnits,
    currency: currencyCode,
  }),
});

export const channelPaymentEventSchemas = [
  channelPaymentCreated,
  channelPaymentRiskAssessed,
  channelPaymentRerouted,
  channelPaymentSubmitted,
  channelPaymentPending,
  channelPaymentSucceeded,
  channelPaymentFeeAnomalyRecorded,
  channelPaymentFailed,
  channelPaymentUnknown,
  channelPaymentExpired,
  channelPaymentCompleted,
] as const;

export type ChannelPaymentOrder = z.output<typeof channelPaymentOrder>;
export type ChannelPaymentOwnEvent = z.output<(typeof channelPaymentEventSchemas)[number]>;
export type LearntBy = (typeof LEARNT_BY)[number];

import { z } from 'zod';
import { awaitingChannelFields } from '../channels/awaiting-channel.js';
import { payerInstrumentJson } from '../channels/payer-instrument.js';
import { routingDecisionJson } from '../channels/routing-record.js';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/**
 * A recharge's process stream (`recharge-<rechargeId>`): recorded before the channel is asked to charge
 * the payer's card, so a charge is never made without a trace, and a crash between the charge and the
 * credit is resumed (the channel answers a repeated order number as before).
 *
 * Version 2 of the request (issue 10) adds, as optional fields so recharges recorded before still decode
 * and replay: the payer's instrument and the routing decision (with its inputs) that chose `channel`.
 * A channel that accepted nothing (`unavailable`) is routed away from by `RechargeRouted` (a new decision,
 * recorded before the next channel is called); a channel whose answer is not final (`pending`, or
 * `unknown`: a timeout, an error after sending) is noted by `RechargeAwaitingChannel`, and the recharge is
 * resolved by asking the channel for the order (never by charging again).
 */
const rechargeId = z.uuid();

export const rechargeRequested = z.strictObject({
  type: z.literal('RechargeRequested'),
  data: z.strictObject({
    rechargeId,
    accountId: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    /** The channel chosen (by `routing`; recharges recorded before routing name it from the request). */
    channel: z.string(),
    instrument: payerInstrumentJson.optional(),
    routing: routingDecisionJson.optional(),
  }),
});
export const rechargeRouted = z.strictObject({
  type: z.literal('RechargeRouted'),
  data: z.strictObject({
    rechargeId,
    /** The channel that accepted nothing. */
    fromChannel: z.string(),
    channel: z.string(),
    routing: routingDecisionJson,
  }),
});
export const rechargeAwaitingChannel = z.strictObject({
  type: z.literal('RechargeAwaitingChannel'),
  data: z.strictObject({ rechargeId, ...awaitingChannelFields }),
});
export const rechargeCompleted = z.strictObject({
  type: z.literal('RechargeCompleted'),
  data: z.strictObject({ rechargeId, channelOrderNo: z.string(), channelFeeMinor: minorUnits }),
});
/** The channel reported a fee above the amount: the recharge completed all the same; an operator reviews this. */
export const rechargeFeeAnomalyRecorded = z.strictObject({
  type: z.literal('RechargeFeeAnomalyRecorded'),
  data: z.strictObject({
    rechargeId,
    channel: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    reportedFeeMinor: minorUnits,
  }),
});
export const rechargeFailed = z.strictObject({
  type: z.literal('RechargeFailed'),
  data: z.strictObject({
    rechargeId,
    reasonCode: z.string(),
    reason: z.string().max(300),
    /** True when the channel had charged the card and the account then refused the credit: the channel must refund it (reconciliation picks it up). */
    chargedAtChannel: z.boolean(),
  }),
});

export const rechargeEventSchemas = [
  rechargeRequested,
  rechargeRouted,
  rechargeAwaitingChannel,
  rechargeCompleted,
  rechargeFeeAnomalyRecorded,
  rechargeFailed,
] as const;
export type RechargeEvent = z.output<(typeof rechargeEventSchemas)[number]>;
export type RechargeRequested = z.output<typeof rechargeRequested>;
export type RechargeAwaiting = z.output<typeof rechargeAwaitingChannel>['data'];

import { z } from 'zod';
import { awaitingChannelFields } from '../channels/awaiting-channel.js';
import { recordedBoundCardJson } from '../channels/payer-instrument.js';
import { routingDecisionJson } from '../channels/routing-record.js';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/**
 * A withdrawal (payout) from a wallet to an external card through a channel (`withdrawal-<id>`).
 * The wallet is debited first; if the channel refuses the payout the debit is reversed by a credit.
 *
 * Version 2 of the request (issue 10) adds, as optional fields so withdrawals recorded before still
 * decode and replay: the payee's bound card and the routing decision (with its inputs) that chose
 * `channel`; `payeeReference` is then the card's contract number at that channel. A payout whose answer
 * is not final (`pending`, `unknown`) is noted by `WithdrawalAwaitingChannel` and resolved by an order
 * query, never by paying out again.
 */
const withdrawalId = z.uuid();

export const withdrawalRequested = z.strictObject({
  type: z.literal('WithdrawalRequested'),
  data: z.strictObject({
    withdrawalId,
    accountId: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    channel: z.string(),
    /** Token of the bound card at the channel; never a card number. */
    payeeReference: z.string().max(64),
    payee: recordedBoundCardJson.optional(),
    routing: routingDecisionJson.optional(),
  }),
});
export const withdrawalAwaitingChannel = z.strictObject({
  type: z.literal('WithdrawalAwaitingChannel'),
  data: z.strictObject({ withdrawalId, ...awaitingChannelFields }),
});
export const withdrawalCompleted = z.strictObject({
  type: z.literal('WithdrawalCompleted'),
  data: z.strictObject({
    withdrawalId,
    channel: z.string(),
    channelOrderNo: z.string(),
    channelFeeMinor: minorUnits,
    currency: currencyCode,
  }),
});
export const withdrawalFailed = z.strictObject({
  type: z.literal('WithdrawalFailed'),
  data: z.strictObject({ withdrawalId, reasonCode: z.string(), reason: z.string().max(300) }),
});

export const withdrawalEventSchemas = [
  withdrawalRequested,
  withdrawalAwaitingChannel,
  withdrawalCompleted,
  withdrawalFailed,
] as const;
export type WithdrawalEvent = z.output<(typeof withdrawalEventSchemas)[number]>;

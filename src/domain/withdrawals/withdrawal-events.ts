import { z } from 'zod';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/**
 * A withdrawal (payout) from a wallet to an external card through a channel (`withdrawal-<id>`).
 * The wallet is debited first; if the channel refuses the payout the debit is reversed by a credit.
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
  }),
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

export const withdrawalEventSchemas = [withdrawalRequested, withdrawalCompleted, withdrawalFailed] as const;
export type WithdrawalEvent = z.output<(typeof withdrawalEventSchemas)[number]>;

import { z } from 'zod';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/**
 * A recharge's process stream (`recharge-<rechargeId>`): recorded before the channel is asked to charge
 * the payer's card, so a charge is never made without a trace, and a crash between the charge and the
 * credit is resumed (the channel answers a repeated order number as before).
 */
const rechargeId = z.uuid();

export const rechargeRequested = z.strictObject({
  type: z.literal('RechargeRequested'),
  data: z.strictObject({
    rechargeId,
    accountId: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    channel: z.string(),
  }),
});
export const rechargeCompleted = z.strictObject({
  type: z.literal('RechargeCompleted'),
  data: z.strictObject({ rechargeId, channelOrderNo: z.string(), channelFeeMinor: minorUnits }),
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

export const rechargeEventSchemas = [rechargeRequested, rechargeCompleted, rechargeFailed] as const;
export type RechargeEvent = z.output<(typeof rechargeEventSchemas)[number]>;
export type RechargeRequested = z.output<typeof rechargeRequested>;

import { z } from 'zod';
import { currencyCode, minorUnits } from '../shared/codecs.js';
import { ACCOUNT_TYPE_NAMES } from './account-type.js';
import { accountFlagsSchema } from './account-flags.js';

/**
 * Facts recorded on an account's stream (`account-<number>`). The account stream is the consistency
 * boundary for its balance: every change of balance, available or frozen funds is one of these events.
 */
export const accountOpened = z.strictObject({
  type: z.literal('AccountOpened'),
  data: z.strictObject({
    accountId: z.string().regex(/^[0-9]{16}$/),
    accountType: z.enum(ACCOUNT_TYPE_NAMES),
    ownerId: z.string().min(1).max(64),
    currency: currencyCode,
    displayName: z.string().max(100),
    /** Chart-of-accounts code this account's balance rolls up to in the internal books. */
    subjectCode: z.string().regex(/^[0-9]{4}$/),
    flags: accountFlagsSchema,
  }),
});

export const fundsRecharged = z.strictObject({
  type: z.literal('FundsRecharged'),
  data: z.strictObject({
    rechargeId: z.uuid(),
    accountId: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    /** Payment channel the money came through ("sim-bank"). */
    channel: z.string().min(1).max(40),
    /** The channel's own reference for the charge, for reconciliation. */
    channelOrderNo: z.string().min(1).max(64),
    /** What the channel charged us for it; booked as channel fee expense. */
    channelFeeMinor: minorUnits,
  }),
});

export const accountEventSchemas = [accountOpened, fundsRecharged] as const;

export type AccountOpened = z.output<typeof accountOpened>;
export type FundsRecharged = z.output<typeof fundsRecharged>;
export type AccountEvent = AccountOpened | FundsRecharged;

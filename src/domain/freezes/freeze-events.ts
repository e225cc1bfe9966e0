import { z } from 'zod';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/**
 * A freeze on part of an account's funds (`freeze-<freezeId>`): "freeze first, deduct when the goods
 * ship". The freeze stream reserves amounts for releases and deductions before they touch the account,
 * so a release and a deduction can never take the same money.
 */
const freezeId = z.uuid();

export const freezeRequested = z.strictObject({
  type: z.literal('FreezeRequested'),
  data: z.strictObject({
    freezeId,
    accountId: z.string(),
    ownerId: z.string(),
    /** The entity (merchant or operator) that placed it: only it, or an operator, may release or deduct. */
    placedBy: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    reason: z.string().max(200),
  }),
});
export const freezePlaced = z.strictObject({ type: z.literal('FreezePlaced'), data: z.strictObject({ freezeId }) });
export const freezeRefused = z.strictObject({
  type: z.literal('FreezeRefused'),
  data: z.strictObject({ freezeId, reasonCode: z.string(), reason: z.string().max(300) }),
});
export const freezeReleased = z.strictObject({
  type: z.literal('FreezeReleased'),
  data: z.strictObject({ freezeId, releaseId: z.uuid(), amountMinor: minorUnits, reason: z.string().max(200) }),
});
/** The release's account step is done (the money is available again on the account). */
export const freezeReleaseApplied = z.strictObject({
  type: z.literal('FreezeReleaseApplied'),
  data: z.strictObject({ freezeId, releaseId: z.uuid() }),
});
export const freezeDeductionRequested = z.strictObject({
  type: z.literal('FreezeDeductionRequested'),
  data: z.strictObject({
    freezeId,
    deductionId: z.uuid(),
    amountMinor: minorUnits,
    payeeAccountId: z.string(),
    memo: z.string().max(200),
  }),
});
export const freezeDeductionCompleted = z.strictObject({
  type: z.literal('FreezeDeductionCompleted'),
  data: z.strictObject({ freezeId, deductionId: z.uuid() }),
});
export const freezeDeductionFailed = z.strictObject({
  type: z.literal('FreezeDeductionFailed'),
  data: z.strictObject({
    freezeId,
    deductionId: z.uuid(),
    reasonCode: z.string(),
    reason: z.string().max(300),
    /** True when the deducted money had already left the payer and was credited back to its available funds. */
    returnedToAvailable: z.boolean(),
  }),
});

export const freezeEventSchemas = [
  freezeRequested,
  freezePlaced,
  freezeRefused,
  freezeReleased,
  freezeReleaseApplied,
  freezeDeductionRequested,
  freezeDeductionCompleted,
  freezeDeductionFailed,
] as const;
export type FreezeEvent = z.output<(typeof freezeEventSchemas)[number]>;

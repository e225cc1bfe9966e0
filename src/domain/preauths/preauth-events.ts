import { z } from 'zod';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';

/**
 * A pre-authorisation (`preauth-<preauthId>`): hold an estimated amount on the payer, then cancel it
 * (always in full), complete it (capture at most the held amount, once; the rest is released), or
 * cancel the completion (always the full captured amount; the authorisation is valid again).
 */
const preauthId = z.uuid();

export const preauthRequested = z.strictObject({
  type: z.literal('PreauthRequested'),
  data: z.strictObject({
    preauthId,
    merchantId: z.string(),
    merchantOrderNo: z.string().min(1).max(64),
    payerAccountId: z.string(),
    payeeAccountId: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    expiresAt: utcInstant,
  }),
});
export const preauthAuthorised = z.strictObject({
  type: z.literal('PreauthAuthorised'),
  data: z.strictObject({ preauthId }),
});
export const preauthDeclined = z.strictObject({
  type: z.literal('PreauthDeclined'),
  data: z.strictObject({ preauthId, reasonCode: z.string(), reason: z.string().max(300) }),
});
export const preauthCancelled = z.strictObject({
  type: z.literal('PreauthCancelled'),
  data: z.strictObject({ preauthId, reason: z.enum(['merchant', 'expired']) }),
});
export const preauthCompletionRequested = z.strictObject({
  type: z.literal('PreauthCompletionRequested'),
  data: z.strictObject({ preauthId, completionId: z.uuid(), capturedMinor: minorUnits }),
});
export const preauthCompleted = z.strictObject({
  type: z.literal('PreauthCompleted'),
  data: z.strictObject({ preauthId, completionId: z.uuid() }),
});
export const preauthCompletionFailed = z.strictObject({
  type: z.literal('PreauthCompletionFailed'),
  data: z.strictObject({ preauthId, completionId: z.uuid(), reasonCode: z.string(), reason: z.string().max(300) }),
});
export const preauthCompletionCancellationRequested = z.strictObject({
  type: z.literal('PreauthCompletionCancellationRequested'),
  /** `cancellationId` names this attempt: a cancellation that failed may be asked for again. */
  data: z.strictObject({ preauthId, completionId: z.uuid(), cancellationId: z.uuid() }),
});
export const preauthCompletionCancelled = z.strictObject({
  type: z.literal('PreauthCompletionCancelled'),
  data: z.strictObject({ preauthId, completionId: z.uuid() }),
});
export const preauthCompletionCancellationFailed = z.strictObject({
  type: z.literal('PreauthCompletionCancellationFailed'),
  data: z.strictObject({ preauthId, completionId: z.uuid(), reasonCode: z.string(), reason: z.string().max(300) }),
});

export const preauthEventSchemas = [
  preauthRequested,
  preauthAuthorised,
  preauthDeclined,
  preauthCancelled,
  preauthCompletionRequested,
  preauthCompleted,
  preauthCompletionFailed,
  preauthCompletionCancellationRequested,
  preauthCompletionCancelled,
  preauthCompletionCancellationFailed,
] as const;
export type PreauthEvent = z.output<(typeof preauthEventSchemas)[number]>;
export type PreauthRequested = z.output<typeof preauthRequested>;

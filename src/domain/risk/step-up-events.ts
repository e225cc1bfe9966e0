import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';

/**
 * Facts of a step-up challenge, recorded on the stream of the payment it guards (a channel payment's
 * `chanpay-<paymentId>`, so the payment and its challenge are one consistency boundary): a one-time SMS code sent to the payer
 * before a payment flagged `step_up` may continue. The code itself is never here: only its keyed hash
 * (HMAC under a server key and the challenge id, so six digits cannot be brute-forced from the events),
 * and the phone only masked.
 */
const challengeId = z.uuid();
/** HMAC-SHA256, base64url: 43 characters. */
export const codeHmac = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

export const stepUpPolicy = z.strictObject({
  /** How long one code is good for. */
  codeTtlMs: z
    .int()
    .min(30_000)
    .max(30 * 60_000),
  /** How long the whole challenge may stay open, resends included. */
  challengeTtlMs: z
    .int()
    .min(30_000)
    .max(60 * 60_000),
  /** Wrong codes allowed over the whole challenge (a resend does not give more). */
  maxAttempts: z.int().min(1).max(10),
  /** Codes sent in all: the first and its resends. */
  maxSends: z.int().min(1).max(10),
  minResendIntervalMs: z
    .int()
    .min(0)
    .max(10 * 60_000),
});
export type StepUpPolicy = z.output<typeof stepUpPolicy>;

export const stepUpChallengeIssued = z.strictObject({
  type: z.literal('StepUpChallengeIssued'),
  data: z.strictObject({
    challengeId,
    paymentId: z.uuid(),
    maskedPhone: z.string().max(20),
    codeHmac,
    policy: stepUpPolicy,
    issuedAt: utcInstant,
    codeExpiresAt: utcInstant,
    challengeExpiresAt: utcInstant,
  }),
});

export const stepUpCodeResent = z.strictObject({
  type: z.literal('StepUpCodeResent'),
  data: z.strictObject({ challengeId, codeHmac, sentAt: utcInstant, codeExpiresAt: utcInstant, sendsUsed: z.int() }),
});

/** A code that did not verify: wrong (counts against the attempts) or expired (does not). */
export const stepUpCodeRejected = z.strictObject({
  type: z.literal('StepUpCodeRejected'),
  data: z.strictObject({
    challengeId,
    reason: z.enum(['code_wrong', 'code_expired']),
    attemptsUsed: z.int(),
    at: utcInstant,
  }),
});

export const stepUpVerified = z.strictObject({
  type: z.literal('StepUpVerified'),
  data: z.strictObject({ challengeId, paymentId: z.uuid(), verifiedAt: utcInstant }),
});

export const stepUpFailed = z.strictObject({
  type: z.literal('StepUpFailed'),
  data: z.strictObject({
    challengeId,
    paymentId: z.uuid(),
    reason: z.enum(['attempts_exhausted', 'expired']),
    failedAt: utcInstant,
  }),
});

export const stepUpEventSchemas = [
  stepUpChallengeIssued,
  stepUpCodeResent,
  stepUpCodeRejected,
  stepUpVerified,
  stepUpFailed,
] as const;

export type StepUpChallengeIssued = z.output<typeof stepUpChallengeIssued>;
export type StepUpEvent = z.output<(typeof stepUpEventSchemas)[number]>;

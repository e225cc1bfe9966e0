import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';

/**
 * Facts of a user's erasure (`erasure-<userId>`, crypto-shredding): an operator asked for it and why,
 * then, once every live contract of the user was unsigned at its channel and the user's payment-code
 * seeds revoked, the user's vault data key was destroyed. The events of the user stay (the hash chain
 * still verifies); they only ever held masked values, fingerprints and references, which now open to
 * nothing.
 */
const userId = z.string().min(1).max(64);

export const userErasureRequested = z.strictObject({
  type: z.literal('UserErasureRequested'),
  data: z.strictObject({
    userId,
    /** The operator who asked. */
    requestedBy: z.string().min(1).max(64),
    reason: z.string().min(1).max(500),
    requestedAt: utcInstant,
  }),
});

export const userErased = z.strictObject({
  type: z.literal('UserErased'),
  data: z.strictObject({
    userId,
    requestedBy: z.string().min(1).max(64),
    reason: z.string().min(1).max(500),
    /** What was destroyed or ended on the way. */
    forgotten: z.strictObject({
      /** Vault subjects whose data keys were destroyed (the user's, and each revoked seed's). */
      vaultSubjects: z.array(z.string().min(1).max(128)).min(1).max(1_000),
      /** Contracts unsigned at their channels (bound: terminated `erased`; in progress: failed, pre-bindings unsigned). */
      contracts: z.array(z.uuid()).max(1_000),
      paymentCodeSeeds: z.array(z.string().min(1).max(64)).max(1_000),
    }),
    erasedAt: utcInstant,
  }),
});

export const erasureEventSchemas = [userErasureRequested, userErased] as const;
export type UserErased = z.output<typeof userErased>;
export type ErasureEvent = z.output<(typeof erasureEventSchemas)[number]>;

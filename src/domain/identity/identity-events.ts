import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';
import { IDENTITY_ELEMENTS } from './identity-elements.js';

/**
 * Facts of a user's real-name verification (`identity-<userId>`): each verification asked of the identity
 * service and its verdict, and the verification a bound card gives as a by-product (the channel checked
 * the four elements). Never the name, ID number, phone or card in clear: their masked forms and vault
 * references (sealed under the user id, so erasing the user makes them unreadable) stand for them.
 */
const verificationId = z.uuid();
const vaultReference = z.string().regex(/^vref_[0-9a-f-]{36}$/);
export const identityElement = z.enum(IDENTITY_ELEMENTS);
const elements = z.array(identityElement).min(2).max(4);

export const identityVerificationRequested = z.strictObject({
  type: z.literal('IdentityVerificationRequested'),
  data: z.strictObject({
    verificationId,
    userId: z.string().min(1).max(64),
    /** The caller acting for the user (a merchant, or an operator): only it (or an operator) reads it. */
    requestedBy: z.string().min(1).max(64),
    elements,
    masked: z.strictObject({
      name: z.string().max(64),
      idNumber: z.string().max(32),
      phone: z.string().max(20).nullable(),
      cardNumber: z.string().max(32).nullable(),
    }),
    secrets: z.strictObject({
      name: vaultReference,
      idNumber: vaultReference,
      phone: vaultReference.nullable(),
      cardNumber: vaultReference.nullable(),
    }),
    requestedAt: utcInstant,
  }),
});

export const identityVerified = z.strictObject({
  type: z.literal('IdentityVerified'),
  data: z.strictObject({
    verificationId,
    userId: z.string().min(1).max(64),
    /** Asked of the identity service, or a card bound (the channel verified its four elements). */
    source: z.enum(['identity_service', 'card_binding']),
    /** The bound contract, for `card_binding`. */
    contractId: z.uuid().nullable(),
    elements,
    maskedName: z.string().max(64),
    maskedIdNumber: z.string().max(32),
    /** The verified name and ID number, sealed: a later binding uses them instead of asking again. */
    secrets: z.strictObject({ name: vaultReference, idNumber: vaultReference }),
    verifiedAt: utcInstant,
  }),
});

export const identityMismatched = z.strictObject({
  type: z.literal('IdentityMismatched'),
  data: z.strictObject({ verificationId, mismatched: z.array(identityElement).min(1).max(4), answeredAt: utcInstant }),
});

export const identityNoRecord = z.strictObject({
  type: z.literal('IdentityNoRecord'),
  data: z.strictObject({ verificationId, answeredAt: utcInstant }),
});

/** The service gave no verdict (after the adapter's bounded retries): asked again later, never taken as one. */
export const identityVerificationUnknown = z.strictObject({
  type: z.literal('IdentityVerificationUnknown'),
  data: z.strictObject({ verificationId, detail: z.string().max(200), at: utcInstant }),
});

export const identityEventSchemas = [
  identityVerificationRequested,
  identityVerified,
  identityMismatched,
  identityNoRecord,
  identityVerificationUnknown,
] as const;

export type IdentityVerificationRequested = z.output<typeof identityVerificationRequested>;
export type IdentityVerified = z.output<typeof identityVerified>;
export type IdentityEvent = z.output<(typeof identityEventSchemas)[number]>;

import { z } from 'zod';
import { ENTITY_ID_PATTERN, ENTITY_KINDS } from './entity-id.js';

/**
 * Facts recorded on an entity's stream (`entity-<entityId>`): who may act in the ledger, and how they
 * prove it. No secret is ever recorded: a payment password only as a slow salted hash, an API key only
 * as its public half.
 */
export const entityId = z.string().regex(ENTITY_ID_PATTERN);

/** How much proof a payment by this entity needs (the payment rules decide the thresholds). */
export const SECURITY_LEVELS = ['low', 'standard', 'high'] as const;
export type SecurityLevel = (typeof SECURITY_LEVELS)[number];

/** E.164: "+" then 7 to 15 digits. */
export const phoneNumber = z.string().regex(/^\+[1-9][0-9]{6,14}$/);
export const emailAddress = z.email().max(254);

/**
 * An encoded scrypt hash in PHC form: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>`.
 * The parameters travel with the hash, so the cost can rise later without breaking old hashes.
 */
export const passwordHash = z
  .string()
  .regex(/^\$scrypt\$ln=[0-9]{1,2},r=[0-9]{1,2},p=[0-9]{1,2}\$[A-Za-z0-9+/]{16,88}\$[A-Za-z0-9+/]{32,88}$/);

/** An Ed25519 public key as base64 of its DER SubjectPublicKeyInfo (44 bytes, so 60 characters). */
export const ed25519PublicKey = z.string().regex(/^[A-Za-z0-9+/]{59}=$/);

export const entityRegistered = z.strictObject({
  type: z.literal('EntityRegistered'),
  data: z.strictObject({
    entityId,
    kind: z.enum(ENTITY_KINDS),
    displayName: z.string().min(1).max(100),
    mayPay: z.boolean(),
    phone: phoneNumber.nullable(),
    email: emailAddress.nullable(),
    securityLevel: z.enum(SECURITY_LEVELS),
  }),
});

export const paymentPasswordSet = z.strictObject({
  type: z.literal('PaymentPasswordSet'),
  data: z.strictObject({
    entityId,
    passwordHash,
    /** initial: first password; change: the old one was verified; reset: identity verified out of band. */
    reason: z.enum(['initial', 'change', 'reset']),
    /** For a reset: the contact the operator verified the entity through. */
    verifiedVia: z.enum(['phone', 'email']).nullable(),
  }),
});

export const entityMayPayChanged = z.strictObject({
  type: z.literal('EntityMayPayChanged'),
  data: z.strictObject({ entityId, mayPay: z.boolean() }),
});

export const entitySecurityLevelChanged = z.strictObject({
  type: z.literal('EntitySecurityLevelChanged'),
  data: z.strictObject({ entityId, securityLevel: z.enum(SECURITY_LEVELS) }),
});

export const apiKeyRegistered = z.strictObject({
  type: z.literal('ApiKeyRegistered'),
  data: z.strictObject({
    entityId,
    /** 1, 2, 3... per entity, never reused: the key id is "<entityId>/<keyNo>". */
    keyNo: z.int().min(1).max(1_000),
    algorithm: z.literal('ed25519'),
    publicKey: ed25519PublicKey,
  }),
});

export const apiKeyRevoked = z.strictObject({
  type: z.literal('ApiKeyRevoked'),
  data: z.strictObject({ entityId, keyNo: z.int().min(1).max(1_000), reason: z.string().min(1).max(200) }),
});

export const entityEventSchemas = [
  entityRegistered,
  paymentPasswordSet,
  entityMayPayChanged,
  entitySecurityLevelChanged,
  apiKeyRegistered,
  apiKeyRevoked,
] as const;

export type EntityRegistered = z.output<typeof entityRegistered>;
export type PaymentPasswordSet = z.output<typeof paymentPasswordSet>;
export type EntityMayPayChanged = z.output<typeof entityMayPayChanged>;
export type EntitySecurityLevelChanged = z.output<typeof entitySecurityLevelChanged>;
export type ApiKeyRegistered = z.output<typeof apiKeyRegistered>;
export type ApiKeyRevoked = z.output<typeof apiKeyRevoked>;
export type EntityEvent =
  | EntityRegistered
  | PaymentPasswordSet
  | EntityMayPayChanged
  | EntitySecurityLevelChanged
  | ApiKeyRegistered
  | ApiKeyRevoked;

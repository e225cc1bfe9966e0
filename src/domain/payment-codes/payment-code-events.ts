import { z } from 'zod';
import { MAX_RULES, RISK_ACTIONS } from '../risk/risk-rules.js';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';

/**
 * Facts of offline payment codes (docs/payment-codes.md). Three stream categories:
 *
 * - `codeseed-<userId>`: a user's seeds (issued, revoked) and every code redeemed with them: one
 *   consistency boundary, so a code is used once per seed and step, and a seed's limits hold, whichever
 *   instance redeems;
 * - `codeslot-<slot>`: who holds a slot (claimed at the exact revision read, so two issuances never hold
 *   one slot while it is live);
 * - `codedevice-<deviceId>`: which user's seed a device holds (a login of another user revokes it).
 *
 * The seed itself is never recorded: only the vault's reference to its ciphertext (`seedReference`).
 */
export const PAYMENT_CODE_ENTITY_ID = z.string().min(1).max(100);
export const DEVICE_ID = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);
export const TERMINAL_ID = DEVICE_ID;
export const SEED_REVOCATION_REASONS = ['new_login', 'device_taken', 'user', 'operator', 'risk'] as const;
export type SeedRevocationReason = (typeof SEED_REVOCATION_REASONS)[number];

const slot = z.int().min(0).max(99_999_999);
const seedId = z.uuid();

export const paymentCodeSeedIssued = z.strictObject({
  type: z.literal('PaymentCodeSeedIssued'),
  data: z.strictObject({
    userId: PAYMENT_CODE_ENTITY_ID,
    seedId,
    deviceId: DEVICE_ID,
    slot,
    prefix: z.int().min(10).max(15),
    algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']),
    stepSeconds: z.int().min(15).max(300),
    /** The vault's reference to the sealed seed: no key material, no plaintext. */
    seedReference: z.string().min(1).max(200),
    /** The wallet redemptions pay from, and the limits' currency. */
    accountId: z.string().min(1).max(40),
    currency: currencyCode,
    /** Above this a code alone does not pay: the payer must confirm. */
    perCodeLimitMinor: minorUnits,
    /** Redeemed per accounting day, this code included, at most. */
    dailyLimitMinor: minorUnits,
    issuedAt: utcInstant,
    expiresAt: utcInstant,
  }),
});

export const paymentCodeSeedRevoked = z.strictObject({
  type: z.literal('PaymentCodeSeedRevoked'),
  data: z.strictObject({
    userId: PAYMENT_CODE_ENTITY_ID,
    seedId,
    reason: z.enum(SEED_REVOCATION_REASONS),
    note: z.string().max(200),
    at: utcInstant,
  }),
});

export const paymentCodeRedeemed = z.strictObject({
  type: z.literal('PaymentCodeRedeemed'),
  data: z.strictObject({
    userId: PAYMENT_CODE_ENTITY_ID,
    seedId,
    /** The TOTP step the code belonged to: used once per seed. */
    step: z.int().min(0),
    paymentId: z.uuid(),
    merchantId: PAYMENT_CODE_ENTITY_ID,
    merchantOrderNo: z.string().min(1).max(64),
    terminalId: TERMINAL_ID,
    amountMinor: minorUnits,
    currency: currencyCode,
    accountingDate: z.iso.date(),
    at: utcInstant,
    /**
     * The risk rules' verdict on this redemption (a block records nothing) and how the payer confirmed
     * when it had to: above the per-code limit or on a step-up, its payment password. Absent on
     * redemptions recorded before risk judged codes. The history the rules saw is this stream before the
     * event, so the verdict replays from the stream and the rules of `ruleVersion`.
     */
    risk: z
      .strictObject({
        ruleVersion: z.string().min(1).max(64),
        verdict: z.enum(['allow', 'review', 'step_up']),
        fired: z
          .array(z.strictObject({ ruleId: z.string().min(1).max(64), action: z.enum(RISK_ACTIONS) }))
          .max(MAX_RULES)
          .readonly(),
        confirmedBy: z.enum(['payment_password']).nullable(),
      })
      .optional(),
  }),
});

export const paymentCodeSlotClaimed = z.strictObject({
  type: z.literal('PaymentCodeSlotClaimed'),
  data: z.strictObject({ slot, seedId, userId: PAYMENT_CODE_ENTITY_ID, expiresAt: utcInstant, at: utcInstant }),
});

export const paymentCodeDeviceBound = z.strictObject({
  type: z.literal('PaymentCodeDeviceBound'),
  data: z.strictObject({
    deviceId: DEVICE_ID,
    userId: PAYMENT_CODE_ENTITY_ID,
    seedId,
    /** The seed the device held before: another user's is revoked (`device_taken`). */
    previous: z.strictObject({ userId: PAYMENT_CODE_ENTITY_ID, seedId }).nullable(),
    at: utcInstant,
  }),
});

export const paymentCodeEventSchemas = [
  paymentCodeSeedIssued,
  paymentCodeSeedRevoked,
  paymentCodeRedeemed,
  paymentCodeSlotClaimed,
  paymentCodeDeviceBound,
] as const;

export type PaymentCodeSeedEvent = z.output<
  typeof paymentCodeSeedIssued | typeof paymentCodeSeedRevoked | typeof paymentCodeRedeemed
>;
export type PaymentCodeSlotEvent = z.output<typeof paymentCodeSlotClaimed>;
export type PaymentCodeDeviceEvent = z.output<typeof paymentCodeDeviceBound>;
export type PaymentCodeEvent = z.output<(typeof paymentCodeEventSchemas)[number]>;

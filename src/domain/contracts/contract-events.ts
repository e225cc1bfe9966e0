import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';
import { stepUpPolicy } from '../risk/step-up-events.js';

/**
 * Facts of a bind-card contract's stream (`bindcard-<contractId>`): a user authorises the platform to
 * charge a card through one channel without typing it again. The card number, ID number, real name and
 * reserved phone are never here: the masked card, the card's keyed fingerprint and vault references
 * (`vref_...`, sealed under the user id, so erasing the user makes them unreadable) stand for them; CVN2
 * and SMS codes are nowhere (our own code only as its keyed hash, in the step-up events beside these).
 */
const contractId = z.uuid();
const contractNo = z.string().min(1).max(64);
const vaultReference = z.string().regex(/^vref_[0-9a-f-]{36}$/);

/** Why a binding did not become a contract: distinct, stable, one per thing the user can act on. */
export const bindingFailureReason = z.enum([
  /** The name, ID number or reserved phone does not match the bank's record of the card. */
  'elements_mismatch',
  /** No such card at the bank (or it is closed). */
  'card_invalid',
  /** The card's bank or kind cannot be signed at the channel. */
  'card_not_supported',
  /** The bank restricts the card (frozen, loss reported). */
  'card_restricted',
  /** A credit card's expiry or CVN2 missing or refused. */
  'card_details_invalid',
  /** Any other refusal of the channel (its code recorded beside). */
  'channel_declined',
  /** The channel took nothing (outage, connection refused): safe to start again. */
  'channel_unavailable',
  /** Wrong codes beyond the limit. */
  'attempts_exhausted',
  /** The binding's time (or the code's, with no resend left) is over. */
  'expired',
  'cancelled',
]);
export type BindingFailureReason = z.output<typeof bindingFailureReason>;

export const bindingPolicy = z.strictObject({
  /** How long a binding may stay unconfirmed (then it fails `expired`, a pre-binding is unsigned). */
  bindingTtlMs: z
    .int()
    .min(30_000)
    .max(60 * 60_000),
  /** Wrong bank codes allowed (our own code's limits are the step-up policy's). */
  maxBankCodeAttempts: z.int().min(1).max(10),
  /** Our own SMS code on the pre-bind path. */
  ownCode: stepUpPolicy,
});
export type BindingPolicy = z.output<typeof bindingPolicy>;

export const cardBindingStarted = z.strictObject({
  type: z.literal('CardBindingStarted'),
  data: z.strictObject({
    contractId,
    userId: z.string().min(1).max(64),
    /** The caller that started it for the user (a merchant, or an operator): only it (or an operator) acts on it. */
    requestedBy: z.string().min(1).max(64),
    channelId: z.string().min(1).max(64),
    signing: z.enum(['verify_then_sign', 'sign_at_verify']),
    /** Our request number at the channel: verify and sign are idempotent by it (an unknown outcome is asked again with it). */
    requestNo: z.string().min(1).max(64),
    maskedCard: z.string().max(32),
    cardFingerprint: z.string().regex(/^cfp1_[A-Za-z0-9_-]{43}$/),
    bankCode: z.string().max(16).nullable(),
    cardKind: z.enum(['debit', 'credit', 'prepaid']),
    secrets: z.strictObject({
      cardNumber: vaultReference,
      holderName: vaultReference,
      idNumber: vaultReference,
      phone: vaultReference,
    }),
    policy: bindingPolicy,
    startedAt: utcInstant,
    expiresAt: utcInstant,
  }),
});

/** Bank path: the channel verified the elements and texted its code to the reserved phone. */
export const cardBindingCodeSent = z.strictObject({
  type: z.literal('CardBindingCodeSent'),
  data: z.strictObject({
    contractId,
    verificationId: z.string().min(1).max(64),
    maskedPhone: z.string().max(20),
    sentAt: utcInstant,
  }),
});

/** Bank path: the channel refused the code the user typed. */
export const cardBindingCodeRejected = z.strictObject({
  type: z.literal('CardBindingCodeRejected'),
  data: z.strictObject({ contractId, attemptsUsed: z.int().min(1), at: utcInstant }),
});

/** Pre-bind path: signed at the verify step; not usable until our own code is confirmed. */
export const cardContractPreBound = z.strictObject({
  type: z.literal('CardContractPreBound'),
  data: z.strictObject({ contractId, contractNo, preBoundAt: utcInstant }),
});

export const cardContractBound = z.strictObject({
  type: z.literal('CardContractBound'),
  data: z.strictObject({ contractId, contractNo, boundAt: utcInstant }),
});

export const cardBindingFailed = z.strictObject({
  type: z.literal('CardBindingFailed'),
  data: z.strictObject({
    contractId,
    reason: bindingFailureReason,
    /** The channel's own code when the channel refused. */
    channelCode: z.string().max(64).nullable(),
    /** A pre-binding was signed at the channel: it must be unsigned there (CardContractUnsigned follows). */
    unsignRequired: z.boolean(),
    failedAt: utcInstant,
  }),
});

/** The channel confirmed a failed pre-binding is unsigned. */
export const cardContractUnsigned = z.strictObject({
  type: z.literal('CardContractUnsigned'),
  data: z.strictObject({ contractId, contractNo, unsignedAt: utcInstant }),
});

/** A bound contract ended: unsigned at the channel first (the user unbound it, or the user was erased). */
export const cardContractTerminated = z.strictObject({
  type: z.literal('CardContractTerminated'),
  data: z.strictObject({ contractId, contractNo, reason: z.enum(['unbound', 'erased']), terminatedAt: utcInstant }),
});

export const contractEventSchemas = [
  cardBindingStarted,
  cardBindingCodeSent,
  cardBindingCodeRejected,
  cardContractPreBound,
  cardContractBound,
  cardBindingFailed,
  cardContractUnsigned,
  cardContractTerminated,
] as const;

export type CardBindingStarted = z.output<typeof cardBindingStarted>;
export type ContractOwnEvent = z.output<(typeof contractEventSchemas)[number]>;

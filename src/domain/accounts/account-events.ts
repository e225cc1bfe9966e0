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
    /** Chart-of-accounts code of the account at the time: posting rules need nothing else. */
    subjectCode: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    /** Payment channel the money came through (e.g. "sim-citybank"), as routed. */
    channel: z.string().min(1).max(40),
    /** The channel's own reference for the charge, for reconciliation. */
    channelOrderNo: z.string().min(1).max(64),
    /** What the channel charged us for it; booked as channel fee expense. */
    channelFeeMinor: minorUnits,
  }),
});

/** Why money moved on an account: the operation kind a debit or credit belongs to. */
export const MOVEMENT_KINDS = [
  'payment',
  'payment_reversal',
  'payment_cancellation',
  'refund',
  'transfer',
  'transfer_reversal',
  'withdrawal',
  'withdrawal_reversal',
  'freeze_deduction',
  'freeze_deduction_reversal',
  'preauth_capture',
  'preauth_capture_reversal',
  'preauth_completion_cancellation',
  'channel_payment',
  // A transit operator's fare, credited when the scan is accepted (against the fares receivable)...
  'transit_fare',
  // ...and the payer's wallet charged for it, now or when money arrives (settling the receivable).
  'transit_charge',
] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

/** Who or what was on the other side of a movement, as it was at the time (entities change later). */
export const counterpartySnapshot = z.strictObject({
  accountId: z.string().nullable(),
  ownerId: z.string().nullable(),
  name: z.string().max(100).nullable(),
  /** Set when the other side is outside the ledger (a card through a channel). */
  channel: z.string().nullable(),
});
export type CounterpartySnapshot = z.output<typeof counterpartySnapshot>;

const movementFields = {
  accountId: z.string(),
  /** Chart-of-accounts code of this account at the time: posting rules need nothing else. */
  subjectCode: z.string(),
  amountMinor: minorUnits,
  currency: currencyCode,
  kind: z.enum(MOVEMENT_KINDS),
  /** The operation (payment, refund, transfer...) this movement is a step of. */
  operationId: z.uuid(),
  merchantOrderNo: z.string().nullable(),
  counterparty: counterpartySnapshot,
  memo: z.string().max(200),
};

/** Money leaves the account's available funds (balance and available go down). */
export const fundsDebited = z.strictObject({ type: z.literal('FundsDebited'), data: z.strictObject(movementFields) });
/** Money arrives (balance and available go up). */
export const fundsCredited = z.strictObject({ type: z.literal('FundsCredited'), data: z.strictObject(movementFields) });

const freezeFields = {
  accountId: z.string(),
  subjectCode: z.string(),
  freezeId: z.uuid(),
  amountMinor: minorUnits,
  currency: currencyCode,
};

export const FREEZE_PURPOSES = ['freeze', 'preauth_hold'] as const;
export type FreezePurpose = (typeof FREEZE_PURPOSES)[number];

/** Part of the available funds is set aside: available down, frozen up, balance unchanged. */
export const fundsFrozen = z.strictObject({
  type: z.literal('FundsFrozen'),
  data: z.strictObject({ ...freezeFields, purpose: z.enum(FREEZE_PURPOSES), reason: z.string().max(200) }),
});
/** Frozen funds return to available: balance unchanged. `purpose` is the freeze's, so the books know which hold ends. */
export const frozenFundsReleased = z.strictObject({
  type: z.literal('FrozenFundsReleased'),
  data: z.strictObject({ ...freezeFields, purpose: z.enum(FREEZE_PURPOSES), reason: z.string().max(200) }),
});
/** Frozen funds leave the account (to a payee): frozen and balance down, available unchanged. */
export const frozenFundsDeducted = z.strictObject({
  type: z.literal('FrozenFundsDeducted'),
  data: z.strictObject({
    ...freezeFields,
    kind: z.enum(['freeze_deduction', 'preauth_capture']),
    operationId: z.uuid(),
    counterparty: counterpartySnapshot,
  }),
});

export const accountFlagsChanged = z.strictObject({
  type: z.literal('AccountFlagsChanged'),
  data: z.strictObject({ accountId: z.string(), flags: accountFlagsSchema, reason: z.string().max(200) }),
});

export const accountStatusChanged = z.strictObject({
  type: z.literal('AccountStatusChanged'),
  data: z.strictObject({
    accountId: z.string(),
    status: z.enum(['active', 'frozen', 'closed']),
    reason: z.string().max(200),
  }),
});

export const accountEventSchemas = [
  accountOpened,
  fundsRecharged,
  fundsDebited,
  fundsCredited,
  fundsFrozen,
  frozenFundsReleased,
  frozenFundsDeducted,
  accountFlagsChanged,
  accountStatusChanged,
] as const;

/** The events that move an account's funds (balance or frozen), in the order the catalogue lists them. */
export const FUNDS_MOVEMENT_EVENT_TYPES = [
  'FundsRecharged',
  'FundsDebited',
  'FundsCredited',
  'FundsFrozen',
  'FrozenFundsReleased',
  'FrozenFundsDeducted',
] as const;

export type AccountOpened = z.output<typeof accountOpened>;
export type FundsRecharged = z.output<typeof fundsRecharged>;
export type FundsDebited = z.output<typeof fundsDebited>;
export type FundsCredited = z.output<typeof fundsCredited>;
export type FundsFrozen = z.output<typeof fundsFrozen>;
export type FrozenFundsReleased = z.output<typeof frozenFundsReleased>;
export type FrozenFundsDeducted = z.output<typeof frozenFundsDeducted>;
export type AccountFlagsChanged = z.output<typeof accountFlagsChanged>;
export type AccountStatusChanged = z.output<typeof accountStatusChanged>;
export type AccountEvent =
  | AccountOpened
  | FundsRecharged
  | FundsDebited
  | FundsCredited
  | FundsFrozen
  | FrozenFundsReleased
  | FrozenFundsDeducted
  | AccountFlagsChanged
  | AccountStatusChanged;

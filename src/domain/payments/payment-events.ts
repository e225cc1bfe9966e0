import { z } from 'zod';
import { counterpartySnapshot } from '../accounts/account-events.js';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';

/**
 * Facts of a balance payment's process stream (`payment-<paymentId>`): the order, then its outcome.
 * The money itself moves on the account streams (FundsDebited / FundsCredited with this payment id).
 * The payment id is derived from the merchant and its order number, so an order number can never pay
 * twice (the stream can be created once).
 */
const paymentId = z.uuid();

/** The transaction model of DESIGN 2.2: who paid whom, for what, as they were at the time. */
export const partySnapshot = counterpartySnapshot.extend({
  ip: z.string().max(64).nullable(),
  platform: z.string().max(40).nullable(),
});

export const paymentInitiated = z.strictObject({
  type: z.literal('PaymentInitiated'),
  data: z.strictObject({
    paymentId,
    merchantId: z.string(),
    merchantOrderNo: z.string().min(1).max(64),
    description: z.string().max(200),
    payerAccountId: z.string(),
    payeeAccountId: z.string(),
    amountMinor: minorUnits,
    currency: currencyCode,
    payer: partySnapshot,
    payee: partySnapshot,
    initiatedAt: utcInstant,
    accountingDate: z.iso.date(),
  }),
});

export const paymentCompleted = z.strictObject({
  type: z.literal('PaymentCompleted'),
  data: z.strictObject({ paymentId }),
});

export const paymentFailed = z.strictObject({
  type: z.literal('PaymentFailed'),
  data: z.strictObject({ paymentId, reasonCode: z.string(), reason: z.string().max(300) }),
});

/** `cancellationId` names this attempt: a cancellation that failed may be asked for again, as a new attempt. */
export const paymentCancellationRequested = z.strictObject({
  type: z.literal('PaymentCancellationRequested'),
  data: z.strictObject({ paymentId, cancellationId: z.uuid(), reason: z.string().max(200) }),
});
export const paymentCancelled = z.strictObject({
  type: z.literal('PaymentCancelled'),
  data: z.strictObject({ paymentId }),
});
export const paymentCancellationFailed = z.strictObject({
  type: z.literal('PaymentCancellationFailed'),
  data: z.strictObject({ paymentId, reasonCode: z.string(), reason: z.string().max(300) }),
});

export const refundRequested = z.strictObject({
  type: z.literal('RefundRequested'),
  data: z.strictObject({
    paymentId,
    refundId: z.uuid(),
    refundNo: z.string().min(1).max(64),
    amountMinor: minorUnits,
    currency: currencyCode,
    reason: z.string().max(200),
  }),
});
export const refundCompleted = z.strictObject({
  type: z.literal('RefundCompleted'),
  data: z.strictObject({ paymentId, refundId: z.uuid() }),
});
export const refundFailed = z.strictObject({
  type: z.literal('RefundFailed'),
  data: z.strictObject({ paymentId, refundId: z.uuid(), reasonCode: z.string(), reason: z.string().max(300) }),
});

export const paymentEventSchemas = [
  paymentInitiated,
  paymentCompleted,
  paymentFailed,
  paymentCancellationRequested,
  paymentCancelled,
  paymentCancellationFailed,
  refundRequested,
  refundCompleted,
  refundFailed,
] as const;

export type PartySnapshot = z.output<typeof partySnapshot>;
export type PaymentInitiated = z.output<typeof paymentInitiated>;
export type PaymentEvent = z.output<(typeof paymentEventSchemas)[number]>;

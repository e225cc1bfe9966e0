import { z } from 'zod';
import { currencyCode, minorUnits, minorUnitsTotal, utcInstant } from '../shared/codecs.js';

/**
 * What risk assessment reads: the payment attempt, and a bounded summary of the payer's and the merchant's
 * recent history, built by the caller from a read model. Every list has an explicit maximum, so an
 * assessment costs the same however long a payer has been paying, and a recorded verdict stays small.
 */

/** Instants of recent payments kept per party: enough for any velocity rule (MAX_VELOCITY_COUNT). */
export const MAX_RECENT_PAYMENTS = 1_000;
/** Accounting days of totals kept per party (today and a few before it, for a day boundary). */
export const MAX_DAY_TOTALS = 8;
/** Devices and IPs the payer is known to have paid from. */
export const MAX_KNOWN_DEVICES = 100;
export const MAX_KNOWN_IPS = 100;

export const paymentAttempt = z.strictObject({
  amountMinor: minorUnits,
  currency: currencyCode,
  payerId: z.string().min(1).max(64),
  merchantId: z.string().min(1).max(64),
  ip: z.string().min(1).max(64).nullable(),
  deviceId: z.string().min(1).max(128).nullable(),
  /** The command's time: limits per day and velocity windows are judged by it, never by the wall clock. */
  occurredAt: utcInstant,
});

const dayTotal = z.strictObject({
  accountingDate: z.iso.date(),
  currency: currencyCode,
  amountMinor: minorUnitsTotal,
});

const partyHistory = z.strictObject({
  dayTotals: z.array(dayTotal).max(MAX_DAY_TOTALS).readonly(),
  /** When the party's recent payments happened (any order). */
  recentPaymentsAt: z.array(utcInstant).max(MAX_RECENT_PAYMENTS).readonly(),
});

export const riskHistory = z.strictObject({
  payer: partyHistory.extend({
    knownDevices: z.array(z.string().min(1).max(128)).max(MAX_KNOWN_DEVICES).readonly(),
    knownIps: z.array(z.string().min(1).max(64)).max(MAX_KNOWN_IPS).readonly(),
  }),
  merchant: partyHistory,
});

export type PaymentAttempt = z.output<typeof paymentAttempt>;
export type RiskHistory = z.output<typeof riskHistory>;
export type PartyHistory = z.output<typeof partyHistory>;

/** A payer or merchant with no history yet. */
export const EMPTY_RISK_HISTORY: RiskHistory = {
  payer: { dayTotals: [], recentPaymentsAt: [], knownDevices: [], knownIps: [] },
  merchant: { dayTotals: [], recentPaymentsAt: [] },
};

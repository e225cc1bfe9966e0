import { z } from 'zod';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/**
 * Risk rules as data: a versioned list an operator edits, not code. Each rule names what it watches and
 * the action it asks for when it fires (`block`, `step_up` or `review`); the verdict is the most severe
 * action among the rules that fired (`allow` when none did). Amount limits are per currency, since a
 * limit in one currency says nothing about another.
 *
 * Zod is the single source of truth: the schema validates rules loaded from configuration, types them,
 * and encodes them (bigints as strings) into the recorded verdict so it can be replayed.
 */

/** Velocity rules count at most this many recent payments (the history keeps no more). */
export const MAX_VELOCITY_COUNT = 1_000;
/** Velocity windows reach back at most a day (the history keeps no older instants). */
export const MAX_VELOCITY_WINDOW_MINUTES = 24 * 60;
/** A block list holds at most this many entries; a longer one belongs in a store, not in the rules. */
export const MAX_BLOCK_LIST_ENTRIES = 10_000;
/** A rule set holds at most this many rules. */
export const MAX_RULES = 200;

export const RISK_ACTIONS = ['block', 'step_up', 'review'] as const;
export type RiskAction = (typeof RISK_ACTIONS)[number];

/** What a rule may judge: a channel payment (docs/channels.md) or a payment code's redemption (docs/payment-codes.md). */
export const RISK_SUBJECTS = ['channel_payment', 'payment_code'] as const;
export type RiskSubject = (typeof RISK_SUBJECTS)[number];

const party = z.enum(['payer', 'merchant']);
const ruleId = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/);
const action = z.enum(RISK_ACTIONS);
/** The subjects a rule judges; a rule without it judges every one. */
const appliesTo = z.array(z.enum(RISK_SUBJECTS)).min(1).max(RISK_SUBJECTS.length).readonly().optional();

const amountPerTransaction = z.strictObject({
  id: ruleId,
  kind: z.literal('amount_per_transaction'),
  party,
  currency: currencyCode,
  maxMinor: minorUnits,
  action,
  appliesTo,
});

/** The total of the party's payments on the attempt's accounting day, this one included. */
const amountPerDay = z.strictObject({
  id: ruleId,
  kind: z.literal('amount_per_day'),
  party,
  currency: currencyCode,
  maxMinor: minorUnits,
  action,
  appliesTo,
});

/** More than `maxCount` payments (this one included) within the last `windowMinutes`. */
const velocity = z.strictObject({
  id: ruleId,
  kind: z.literal('velocity'),
  party,
  maxCount: z.int().min(1).max(MAX_VELOCITY_COUNT),
  windowMinutes: z.int().min(1).max(MAX_VELOCITY_WINDOW_MINUTES),
  action,
  appliesTo,
});

/** A device or IP the payer has not paid from before (a missing one cannot be recognised: it counts as new). */
const newDevice = z.strictObject({ id: ruleId, kind: z.literal('new_device'), action, appliesTo });
const newIp = z.strictObject({ id: ruleId, kind: z.literal('new_ip'), action, appliesTo });

const blockList = z.strictObject({
  id: ruleId,
  kind: z.literal('block_list'),
  list: z.enum(['payer', 'merchant', 'ip', 'device']),
  entries: z.array(z.string().min(1).max(128)).max(MAX_BLOCK_LIST_ENTRIES).readonly(),
  action,
  appliesTo,
});

export const riskRule = z.discriminatedUnion('kind', [
  amountPerTransaction,
  amountPerDay,
  velocity,
  newDevice,
  newIp,
  blockList,
]);

export const riskRules = z
  .strictObject({
    ruleVersion: z.string().min(1).max(64),
    /** Per-day limits follow this zone's accounting days (the ledger's accounting zone). */
    timeZone: z.string().min(1),
    rules: z.array(riskRule).max(MAX_RULES).readonly(),
  })
  .refine((rules) => new Set(rules.rules.map((rule) => rule.id)).size === rules.rules.length, {
    message: 'rule ids must be unique',
  });

export type RiskRule = z.output<typeof riskRule>;
export type RiskRules = z.output<typeof riskRules>;
export type RiskRulesJson = z.input<typeof riskRules>;

/** Rules from configuration (JSON, bigints as strings), validated. */
export function parseRiskRules(json: unknown): RiskRules {
  return riskRules.decode(json as RiskRulesJson);
}

/**
 * The rules that judge `subject` (those without `appliesTo` judge all), as a rule set of its own: the
 * assessment records the rules it ran with, so a replay needs no filtering.
 */
export function rulesFor(rules: RiskRules, subject: RiskSubject): RiskRules {
  return { ...rules, rules: rules.rules.filter((rule) => rule.appliesTo?.includes(subject) ?? true) };
}

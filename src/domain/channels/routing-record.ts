import { z } from 'zod';
import { currencyCode, minorUnits } from '../shared/codecs.js';
import type { RoutingDecision } from './routing.js';

/**
 * The stored JSON form of a routing decision (bigints as decimal strings), for the order's events: decoding
 * it gives back the very inputs the router saw, so `route(decoded.inputs)` replays the decision.
 */
const feeSchedule = z.strictObject({
  ratePpm: minorUnits,
  fixedMinor: minorUnits,
  minMinor: minorUnits,
  maxMinor: minorUnits.nullable(),
});

export const channelProfileJson = z.strictObject({
  channelId: z.string(),
  currencies: z.array(currencyCode).readonly(),
  capabilities: z.strictObject({
    charges: z
      .array(
        z.strictObject({
          method: z.enum(['quick_pay', 'online_banking', 'platform_pay']),
          covers: z.array(z.string()).readonly(),
          cardKinds: z.array(z.enum(['debit', 'credit'])).readonly(),
          fee: feeSchedule,
        }),
      )
      .readonly(),
    payout: z.strictObject({ fee: feeSchedule }).nullable(),
    refund: z.boolean(),
    cancel: z.boolean(),
    orderQuery: z.boolean(),
    refundQuery: z.boolean(),
    balanceQuery: z.boolean(),
    statements: z.boolean(),
    settlementNotice: z.boolean(),
    contracts: z.enum(['verify_then_sign', 'sign_at_verify']).nullable(),
  }),
  limits: z.strictObject({
    perTransactionMinMinor: minorUnits,
    perTransactionMaxMinor: minorUnits,
    dailyMaxMinor: minorUnits,
  }),
});

const healthSnapshot = z.strictObject({
  breaker: z.enum(['closed', 'open', 'half_open']),
  admits: z.boolean(),
  sampleCount: z.int().nonnegative(),
  successRatePpm: z.int().min(0).max(1_000_000),
  meanLatencyMs: z.int().nonnegative(),
});

const payerChoice = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('quick_pay'), bankCode: z.string(), cardKind: z.enum(['debit', 'credit']) }),
  z.strictObject({ method: z.literal('online_banking'), bankCode: z.string() }),
  z.strictObject({ method: z.literal('platform_pay'), platform: z.string() }),
]);

const candidate = z.union([
  z.strictObject({
    channelId: z.string(),
    standing: z.enum(['healthy', 'degraded']),
    feeMinor: minorUnits,
    health: healthSnapshot,
  }),
  z.strictObject({
    channelId: z.string(),
    standing: z.literal('excluded'),
    excludedBecause: z.enum([
      'not_offered',
      'currency_not_supported',
      'below_transaction_minimum',
      'above_transaction_maximum',
      'daily_limit_reached',
      'breaker_open',
      'probe_in_flight',
      'fee_exceeds_amount',
    ]),
    health: healthSnapshot,
  }),
]);

export const routingDecisionJson = z.strictObject({
  inputs: z.strictObject({
    rules: z.strictObject({
      ruleVersion: z.string(),
      explorationSharePpm: z.int(),
      minSuccessRatePpm: z.int(),
      minSamples: z.int(),
      maxMeanLatencyMs: z.int(),
      channels: z.array(channelProfileJson).readonly(),
    }),
    request: z.strictObject({
      operation: z.enum(['charge', 'payout']),
      choice: payerChoice,
      amount: z.strictObject({ amountMinor: minorUnits, currency: currencyCode }),
    }),
    health: z.record(z.string(), healthSnapshot),
    dailyUsedMinor: z.record(z.string(), minorUnits),
    drawPpm: z.int(),
  }),
  candidates: z.array(candidate).readonly(),
  chosen: z.string().nullable(),
  chosenFeeMinor: minorUnits.nullable(),
  reason: z.enum(['cheapest_healthy', 'exploration', 'cheapest_degraded', 'no_channel']),
});

export type RoutingDecisionJson = z.input<typeof routingDecisionJson>;

export function encodeRoutingDecision(decision: RoutingDecision): RoutingDecisionJson {
  return routingDecisionJson.encode(decision);
}

export function decodeRoutingDecision(json: unknown): RoutingDecision {
  return routingDecisionJson.decode(json as RoutingDecisionJson);
}

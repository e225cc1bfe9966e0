import type { Money } from '../money/money.js';
import { feeScheduleFor, type ChannelProfile, type PayerChoice, type RoutedOperation } from './channel-profile.js';
import type { HealthSnapshot } from './channel-health.js';
import { feeMinor } from './fee-schedule.js';

/**
 * The router: a pure function from its inputs (the rules as data, the request, every channel's health
 * snapshot and day's usage, one recorded random draw) to a decision that carries those inputs. Replaying
 * `route(decision.inputs)` gives the same decision: that is what an auditor does with a recorded one.
 *
 * Policy: among channels that can serve the request (method, bank or platform, card kind, currency, per
 * transaction and daily limits) and whose breaker admits a request, take the cheapest **healthy** one (a
 * half-open channel with a free probe slot counts, so a recovered channel gets its probe); only when none
 * is healthy, the cheapest **degraded** one (breaker closed, but success rate or latency below the rules).
 * A share of `explorationSharePpm` of the draws goes to another healthy candidate instead, so the health of
 * channels that are not the cheapest stays measured. Ties: lower fee, then higher success rate, then id.
 */
export interface RoutingRules {
  readonly ruleVersion: string;
  /** Draws below this (of 1_000_000) explore. */
  readonly explorationSharePpm: number;
  /** Below this success rate (with at least `minSamples` samples) a channel is degraded. */
  readonly minSuccessRatePpm: number;
  readonly minSamples: number;
  /** Above this mean latency (with at least `minSamples` samples) a channel is degraded. */
  readonly maxMeanLatencyMs: number;
  readonly channels: readonly ChannelProfile[];
}

export interface RoutingRequest {
  readonly operation: RoutedOperation;
  readonly choice: PayerChoice;
  readonly amount: Money;
}

export interface RoutingInputs {
  readonly rules: RoutingRules;
  readonly request: RoutingRequest;
  /** One snapshot per channel of the rules, taken at the decision's instant. */
  readonly health: Readonly<Record<string, HealthSnapshot>>;
  /** What each channel has already taken today for this operation (minor units of the request's currency). */
  readonly dailyUsedMinor: Readonly<Record<string, bigint>>;
  /** The recorded random draw, an integer in [0, 1_000_000). */
  readonly drawPpm: number;
}

export type ExclusionReason =
  | 'not_offered'
  | 'currency_not_supported'
  | 'below_transaction_minimum'
  | 'above_transaction_maximum'
  | 'daily_limit_reached'
  | 'breaker_open'
  | 'probe_in_flight'
  /** A charge whose fee (a minimum fee) would take more than the amount the channel takes. */
  | 'fee_exceeds_amount';

export type Candidate =
  | {
      readonly channelId: string;
      readonly standing: 'healthy' | 'degraded';
      readonly feeMinor: bigint;
      readonly health: HealthSnapshot;
    }
  | {
      readonly channelId: string;
      readonly standing: 'excluded';
      readonly excludedBecause: ExclusionReason;
      readonly health: HealthSnapshot;
    };

export type RoutingReason = 'cheapest_healthy' | 'exploration' | 'cheapest_degraded' | 'no_channel';

export interface RoutingDecision {
  readonly inputs: RoutingInputs;
  /** Every channel of the rules, in the rules' order, with why it was or was not eligible. */
  readonly candidates: readonly Candidate[];
  readonly chosen: string | null;
  readonly chosenFeeMinor: bigint | null;
  readonly reason: RoutingReason;
}

export function assertRoutingInputs(inputs: RoutingInputs): void {
  const { rules, drawPpm } = inputs;
  if (!Number.isSafeInteger(drawPpm) || drawPpm < 0 || drawPpm >= 1_000_000)
    throw new RangeError(`draw ${drawPpm} is not an integer in [0, 1000000)`);
  if (
    !Number.isSafeInteger(rules.explorationSharePpm) ||
    rules.explorationSharePpm < 0 ||
    rules.explorationSharePpm > 1_000_000
  )
    throw new RangeError('explorationSharePpm must be an integer in [0, 1000000]');
  const ids = new Set(rules.channels.map((channel) => channel.channelId));
  if (ids.size !== rules.channels.length) throw new RangeError('the routing rules list a channel twice');
  for (const id of ids) {
    if (!inputs.health[id]) throw new RangeError(`no health snapshot for channel ${id}`);
  }
  if (inputs.request.amount.amountMinor <= 0n) throw new RangeError('a routed amount is positive');
}

function standingOf(rules: RoutingRules, health: HealthSnapshot): 'healthy' | 'degraded' {
  if (health.breaker === 'half_open') return 'healthy';
  if (health.sampleCount < rules.minSamples) return 'healthy';
  return health.successRatePpm >= rules.minSuccessRatePpm && health.meanLatencyMs <= rules.maxMeanLatencyMs
    ? 'healthy'
    : 'degraded';
}

function assess(inputs: RoutingInputs, channel: ChannelProfile): Candidate {
  const { request } = inputs;
  const health = inputs.health[channel.channelId]!;
  const excluded = (excludedBecause: ExclusionReason): Candidate => ({
    channelId: channel.channelId,
    standing: 'excluded',
    excludedBecause,
    health,
  });
  const schedule = feeScheduleFor(channel, request.operation, request.choice);
  if (!schedule) return excluded('not_offered');
  if (!channel.currencies.includes(request.amount.currency)) return excluded('currency_not_supported');
  const amountMinor = request.amount.amountMinor;
  if (amountMinor < channel.limits.perTransactionMinMinor) return excluded('below_transaction_minimum');
  if (amountMinor > channel.limits.perTransactionMaxMinor) return excluded('above_transaction_maximum');
  const usedMinor = inputs.dailyUsedMinor[channel.channelId] ?? 0n;
  if (usedMinor + amountMinor > channel.limits.dailyMaxMinor) return excluded('daily_limit_reached');
  if (!health.admits) return excluded(health.breaker === 'open' ? 'breaker_open' : 'probe_in_flight');
  const fee = feeMinor(schedule, amountMinor);
  // A charge's fee comes out of what the channel took, so it cannot exceed it; a payout's fee is paid
  // beside the amount (a small withdrawal may cost more than it moves).
  if (request.operation === 'charge' && fee > amountMinor) return excluded('fee_exceeds_amount');
  return { channelId: channel.channelId, standing: standingOf(inputs.rules, health), feeMinor: fee, health };
}

type Eligible = Extract<Candidate, { standing: 'healthy' | 'degraded' }>;

function cheaperFirst(a: Eligible, b: Eligible): number {
  if (a.feeMinor !== b.feeMinor) return a.feeMinor < b.feeMinor ? -1 : 1;
  if (a.health.successRatePpm !== b.health.successRatePpm) return b.health.successRatePpm - a.health.successRatePpm;
  return a.channelId < b.channelId ? -1 : a.channelId > b.channelId ? 1 : 0;
}

export function route(inputs: RoutingInputs): RoutingDecision {
  assertRoutingInputs(inputs);
  const candidates = inputs.rules.channels.map((channel) => assess(inputs, channel));
  const eligible = candidates.filter((candidate): candidate is Eligible => candidate.standing !== 'excluded');
  const healthy = eligible.filter((candidate) => candidate.standing === 'healthy').sort(cheaperFirst);
  const degraded = eligible.filter((candidate) => candidate.standing === 'degraded').sort(cheaperFirst);
  const decide = (chosen: Eligible | undefined, reason: RoutingReason): RoutingDecision => ({
    inputs,
    candidates,
    chosen: chosen?.channelId ?? null,
    chosenFeeMinor: chosen?.feeMinor ?? null,
    reason: chosen ? reason : 'no_channel',
  });
  const [cheapest, ...others] = healthy;
  if (cheapest) {
    if (others.length > 0 && inputs.drawPpm < inputs.rules.explorationSharePpm) {
      return decide(others[inputs.drawPpm % others.length], 'exploration');
    }
    return decide(cheapest, 'cheapest_healthy');
  }
  return decide(degraded[0], 'cheapest_degraded');
}

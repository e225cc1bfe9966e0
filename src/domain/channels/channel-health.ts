import {
  assertBreakerPolicy,
  breakerAt,
  closedBreaker,
  mayAdmit,
  recordResult,
  admit,
  type BreakerPolicy,
  type BreakerState,
} from './circuit-breaker.js';

/**
 * A channel's live health: the outcomes of its recent calls over a sliding window (bounded both in time
 * and in count, so memory is fixed whatever the traffic) and its circuit breaker. Pure: time passed in.
 *
 * A decline (insufficient funds, wrong SMS code) is the channel working: it counts as a success here. A
 * failure is the channel not working: a timeout, an outage, a system error.
 */
export interface HealthPolicy {
  readonly windowMs: number;
  /** At most this many samples are kept; the oldest go first. */
  readonly maxSamples: number;
  readonly breaker: BreakerPolicy;
}

export interface HealthSample {
  readonly atMs: number;
  readonly failed: boolean;
  readonly latencyMs: number;
}

export interface ChannelHealth {
  readonly samples: readonly HealthSample[];
  readonly breaker: BreakerState;
}

/** What the router sees of a channel's health at one instant; recorded in the decision. */
export interface HealthSnapshot {
  readonly breaker: BreakerState['state'];
  /** Whether a request may be sent now (closed, or a free probe slot while half-open). */
  readonly admits: boolean;
  readonly sampleCount: number;
  /** Successes per million of the window's samples; 1_000_000 with no sample (nothing against it). */
  readonly successRatePpm: number;
  /** Mean latency of the window's samples, whole ms; 0 with no sample. */
  readonly meanLatencyMs: number;
}

export const newChannelHealth: ChannelHealth = { samples: [], breaker: closedBreaker };

export function assertHealthPolicy(policy: HealthPolicy): void {
  if (!Number.isSafeInteger(policy.windowMs) || policy.windowMs < 1) throw new RangeError('windowMs must be >= 1');
  if (!Number.isSafeInteger(policy.maxSamples) || policy.maxSamples < 1 || policy.maxSamples > 10_000)
    throw new RangeError('maxSamples must be 1..10000');
  assertBreakerPolicy(policy.breaker);
}

function inWindow(samples: readonly HealthSample[], policy: HealthPolicy, nowMs: number): HealthSample[] {
  const fresh = samples.filter((sample) => nowMs - sample.atMs < policy.windowMs);
  return fresh.length > policy.maxSamples ? fresh.slice(fresh.length - policy.maxSamples) : fresh;
}

/** Records one call's result at `nowMs`. */
export function recordCall(health: ChannelHealth, policy: HealthPolicy, sample: HealthSample): ChannelHealth {
  if (!Number.isFinite(sample.latencyMs) || sample.latencyMs < 0) throw new RangeError('latencyMs must be >= 0');
  return {
    samples: inWindow([...health.samples, sample], policy, sample.atMs),
    breaker: recordResult(health.breaker, policy.breaker, sample.atMs, sample.failed),
  };
}

/** Records that a request was sent (while half-open it takes a probe slot). */
export function recordAdmission(health: ChannelHealth, policy: HealthPolicy, nowMs: number): ChannelHealth {
  return { samples: health.samples, breaker: admit(health.breaker, policy.breaker, nowMs) };
}

export function healthSnapshot(health: ChannelHealth, policy: HealthPolicy, nowMs: number): HealthSnapshot {
  const samples = inWindow(health.samples, policy, nowMs);
  const successes = samples.filter((sample) => !sample.failed).length;
  const totalLatencyMs = samples.reduce((total, sample) => total + sample.latencyMs, 0);
  return {
    breaker: breakerAt(health.breaker, policy.breaker, nowMs).state,
    admits: mayAdmit(health.breaker, policy.breaker, nowMs),
    sampleCount: samples.length,
    successRatePpm: samples.length === 0 ? 1_000_000 : Math.floor((successes * 1_000_000) / samples.length),
    meanLatencyMs: samples.length === 0 ? 0 : Math.round(totalLatencyMs / samples.length),
  };
}

import { describe, expect, it } from 'vitest';
import {
  healthSnapshot,
  newChannelHealth,
  recordAdmission,
  recordCall,
  type ChannelHealth,
  type HealthPolicy,
} from '../../src/domain/channels/channel-health.js';
import {
  admit,
  breakerAt,
  closedBreaker,
  mayAdmit,
  recordResult,
  type BreakerPolicy,
  type BreakerState,
} from '../../src/domain/channels/circuit-breaker.js';

const policy: BreakerPolicy = { failureThreshold: 3, openMs: 30_000, maxProbes: 1, probeTimeoutMs: 10_000 };

type Step = { atMs: number; failed: boolean } | { atMs: number; admit: true };

/** Given results (and admissions) in order, when asked at `nowMs`, then the breaker is in this state. */
function given(steps: readonly Step[]) {
  const state = steps.reduce<BreakerState>(
    (breaker, step) =>
      'admit' in step ? admit(breaker, policy, step.atMs) : recordResult(breaker, policy, step.atMs, step.failed),
    closedBreaker,
  );
  return {
    at: (nowMs: number) => ({
      then: (expected: BreakerState, admits: boolean) => {
        expect(breakerAt(state, policy, nowMs)).toEqual(expected);
        expect(mayAdmit(state, policy, nowMs)).toBe(admits);
      },
    }),
  };
}

const fail = (atMs: number) => ({ atMs, failed: true });
const pass = (atMs: number) => ({ atMs, failed: false });
const probe = (atMs: number) => ({ atMs, admit: true as const });

describe('circuit breaker', () => {
  it('stays closed below the threshold of consecutive failures', () => {
    given([fail(1), fail(2)])
      .at(3)
      .then({ state: 'closed', consecutiveFailures: 2 }, true);
  });
  it('a success in between resets the count', () => {
    given([fail(1), fail(2), pass(3), fail(4), fail(5)])
      .at(6)
      .then({ state: 'closed', consecutiveFailures: 2 }, true);
  });
  it('opens on the threshold and admits nothing while open', () => {
    given([fail(1), fail(2), fail(3)])
      .at(29_999)
      .then({ state: 'open', openedAtMs: 3 }, false);
  });
  it('half-opens when the open time is up', () => {
    given([fail(1), fail(2), fail(3)])
      .at(30_003)
      .then({ state: 'half_open', probeStartedAtMs: [] }, true);
  });
  it('half-open admits one probe at a time', () => {
    given([fail(1), fail(2), fail(3), probe(30_003)])
      .at(30_004)
      .then({ state: 'half_open', probeStartedAtMs: [30_003] }, false);
  });
  it("frees a probe's slot when it never reports", () => {
    given([fail(1), fail(2), fail(3), probe(30_003)])
      .at(40_003)
      .then({ state: 'half_open', probeStartedAtMs: [] }, true);
  });
  it("closes on the probe's success", () => {
    given([fail(1), fail(2), fail(3), probe(30_003), pass(30_050)])
      .at(30_051)
      .then(closedBreaker, true);
  });
  it("opens again on the probe's failure, for another open time", () => {
    given([fail(1), fail(2), fail(3), probe(30_003), fail(30_050)])
      .at(60_049)
      .then({ state: 'open', openedAtMs: 30_050 }, false);
  });
  it('ignores a late answer while open', () => {
    given([fail(1), fail(2), fail(3), pass(10)])
      .at(11)
      .then({ state: 'open', openedAtMs: 3 }, false);
  });
  it('refuses to admit while open', () => {
    expect(() => admit({ state: 'open', openedAtMs: 0 }, policy, 1)).toThrow(RangeError);
  });
});

describe('channel health over a sliding window', () => {
  const healthPolicy: HealthPolicy = { windowMs: 60_000, maxSamples: 4, breaker: policy };
  const record = (health: ChannelHealth, atMs: number, failed: boolean, latencyMs: number) =>
    recordCall(health, healthPolicy, { atMs, failed, latencyMs });

  it('with no sample: full success, no latency, closed', () => {
    expect(healthSnapshot(newChannelHealth, healthPolicy, 0)).toEqual({
      breaker: 'closed',
      admits: true,
      sampleCount: 0,
      successRatePpm: 1_000_000,
      meanLatencyMs: 0,
    });
  });
  it('counts success rate and mean latency over the window; declines count as the channel working', () => {
    let health = newChannelHealth;
    health = record(health, 1_000, false, 100);
    health = record(health, 2_000, true, 300);
    health = record(health, 3_000, false, 200);
    expect(healthSnapshot(health, healthPolicy, 3_000)).toMatchObject({
      sampleCount: 3,
      successRatePpm: 666_666,
      meanLatencyMs: 200,
    });
  });
  it('forgets samples older than the window', () => {
    let health = record(newChannelHealth, 0, true, 1_000);
    health = record(health, 50_000, false, 10);
    expect(healthSnapshot(health, healthPolicy, 70_000)).toMatchObject({
      sampleCount: 1,
      successRatePpm: 1_000_000,
      meanLatencyMs: 10,
    });
  });
  it('keeps at most maxSamples, the newest', () => {
    let health = newChannelHealth;
    for (let i = 0; i < 10; i++) health = record(health, i, i < 6, 5);
    expect(health.samples).toHaveLength(4);
    expect(healthSnapshot(health, healthPolicy, 10)).toMatchObject({ sampleCount: 4, successRatePpm: 1_000_000 });
  });
  it('drives the breaker: three failures open it, a probe after the open time closes it', () => {
    let health = newChannelHealth;
    for (const atMs of [1, 2, 3]) health = record(health, atMs, true, 5_000);
    expect(healthSnapshot(health, healthPolicy, 4)).toMatchObject({ breaker: 'open', admits: false });
    health = recordAdmission(health, healthPolicy, 30_010);
    expect(healthSnapshot(health, healthPolicy, 30_011)).toMatchObject({ breaker: 'half_open', admits: false });
    health = record(health, 30_020, false, 20);
    expect(healthSnapshot(health, healthPolicy, 30_021)).toMatchObject({ breaker: 'closed', admits: true });
  });
});

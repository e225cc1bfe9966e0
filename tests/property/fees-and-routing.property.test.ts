import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulatedProfiles } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { feeMinor, ratePartMinor, type FeeSchedule } from '../../src/domain/channels/fee-schedule.js';
import { decodeRoutingDecision, encodeRoutingDecision } from '../../src/domain/channels/routing-record.js';
import { route, type RoutingInputs } from '../../src/domain/channels/routing.js';
import type { HealthSnapshot } from '../../src/domain/channels/channel-health.js';
import { parseCurrency } from '../../src/domain/money/money.js';

const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });
const feeSchedule: fc.Arbitrary<FeeSchedule> = fc
  .record({
    ratePpm: fc.bigInt({ min: 0n, max: 1_000_000n }),
    fixedMinor: fc.bigInt({ min: 0n, max: 10_000n }),
    minMinor: fc.bigInt({ min: 0n, max: 10_000n }),
    spread: fc.option(fc.bigInt({ min: 0n, max: 10n ** 9n }), { nil: null }),
  })
  .map(({ spread, ...rest }) => ({ ...rest, maxMinor: spread === null ? null : rest.minMinor + spread }));

describe('fees (property)', () => {
  it('stay within [min, max], are never negative, and are the half-up rounded rate plus the fixed part when unclamped', () => {
    fc.assert(
      fc.property(feeSchedule, amount, (fees, amountMinor) => {
        const fee = feeMinor(fees, amountMinor);
        expect(fee >= 0n).toBe(true);
        expect(fee >= fees.minMinor).toBe(true);
        if (fees.maxMinor !== null) expect(fee <= fees.maxMinor).toBe(true);
        const raw = ratePartMinor(amountMinor, fees.ratePpm) + fees.fixedMinor;
        if (raw >= fees.minMinor && (fees.maxMinor === null || raw <= fees.maxMinor)) expect(fee).toBe(raw);
        // Half up: the rate part is within half a minor unit of the exact value (2 * |part * 1e6 - exact| <= 1e6).
        const exactTimesPpm = amountMinor * fees.ratePpm;
        const error = ratePartMinor(amountMinor, fees.ratePpm) * 1_000_000n - exactTimesPpm;
        expect(-500_000n < error && error <= 500_000n).toBe(true);
      }),
    );
  });

  it('never fall as the amount grows', () => {
    fc.assert(
      fc.property(feeSchedule, amount, amount, (fees, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(feeMinor(fees, low) <= feeMinor(fees, high)).toBe(true);
      }),
    );
  });
});

const snapshot: fc.Arbitrary<HealthSnapshot> = fc
  .record({
    breaker: fc.constantFrom('closed' as const, 'open' as const, 'half_open' as const),
    admitsIfHalfOpen: fc.boolean(),
    sampleCount: fc.integer({ min: 0, max: 200 }),
    successRatePpm: fc.integer({ min: 0, max: 1_000_000 }),
    meanLatencyMs: fc.integer({ min: 0, max: 5_000 }),
  })
  .map(({ admitsIfHalfOpen, ...rest }) => ({
    ...rest,
    admits: rest.breaker === 'closed' || (rest.breaker === 'half_open' && admitsIfHalfOpen),
  }));

const channels = Object.values(simulatedProfiles);
const inputs: fc.Arbitrary<RoutingInputs> = fc.record({
  rules: fc.record({
    ruleVersion: fc.constant('2026-12-01.1'),
    explorationSharePpm: fc.integer({ min: 0, max: 1_000_000 }),
    minSuccessRatePpm: fc.integer({ min: 0, max: 1_000_000 }),
    minSamples: fc.integer({ min: 0, max: 50 }),
    maxMeanLatencyMs: fc.integer({ min: 0, max: 5_000 }),
    channels: fc.constant(channels),
  }),
  request: fc.record({
    operation: fc.constantFrom('charge' as const, 'payout' as const),
    choice: fc.oneof(
      fc.record({
        method: fc.constant('quick_pay' as const),
        bankCode: fc.constantFrom('CITY', 'ICBC', 'XYZ'),
        cardKind: fc.constantFrom('debit' as const, 'credit' as const),
      }),
      fc.record({ method: fc.constant('online_banking' as const), bankCode: fc.constantFrom('CITY', 'ICBC') }),
      fc.record({
        method: fc.constant('platform_pay' as const),
        platform: fc.constantFrom('wechat', 'alipay', 'other'),
      }),
    ),
    amount: fc
      .bigInt({ min: 1n, max: 6_000_000n })
      .map((amountMinor) => ({ amountMinor, currency: parseCurrency('CNY') })),
  }),
  health: fc
    .tuple(...channels.map(() => snapshot))
    .map((snapshots) => Object.fromEntries(channels.map((c, i) => [c.channelId, snapshots[i]!]))),
  dailyUsedMinor: fc
    .tuple(...channels.map(() => fc.bigInt({ min: 0n, max: 200_000_000n })))
    .map((used) => Object.fromEntries(channels.map((c, i) => [c.channelId, used[i]!]))),
  drawPpm: fc.integer({ min: 0, max: 999_999 }),
});

describe('the router (property)', () => {
  it('replays: the same inputs, or the inputs decoded from the stored decision, give the same decision', () => {
    fc.assert(
      fc.property(inputs, (given) => {
        const decision = route(given);
        expect(route(given)).toEqual(decision);
        const stored = JSON.parse(JSON.stringify(encodeRoutingDecision(decision)));
        const decoded = decodeRoutingDecision(stored);
        expect(decoded).toEqual(decision);
        expect(route(decoded.inputs)).toEqual(decision);
      }),
    );
  });

  it('chooses only an eligible channel, and the cheapest healthy one unless the draw explores', () => {
    fc.assert(
      fc.property(inputs, (given) => {
        const decision = route(given);
        const chosen = decision.candidates.find((candidate) => candidate.channelId === decision.chosen);
        if (decision.chosen === null) {
          expect(decision.candidates.every((candidate) => candidate.standing !== 'healthy')).toBe(true);
          expect(decision.candidates.every((candidate) => candidate.standing === 'excluded')).toBe(true);
          return;
        }
        expect(chosen && chosen.standing !== 'excluded').toBe(true);
        const healthyFees = decision.candidates.flatMap((c) => (c.standing === 'healthy' ? [c.feeMinor] : []));
        if (decision.reason === 'cheapest_healthy') {
          expect(healthyFees.every((fee) => decision.chosenFeeMinor! <= fee)).toBe(true);
        }
        if (decision.reason === 'exploration') expect(given.drawPpm < given.rules.explorationSharePpm).toBe(true);
        if (decision.reason === 'cheapest_degraded') expect(healthyFees).toEqual([]);
      }),
    );
  });
});

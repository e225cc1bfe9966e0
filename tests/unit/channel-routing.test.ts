import { describe, expect, it } from 'vitest';
import {
  SIMULATED_BANK,
  SIMULATED_CARD_NETWORK,
  SIMULATED_PLATFORM,
  simulatedProfiles,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import type { HealthSnapshot } from '../../src/domain/channels/channel-health.js';
import type { PayerChoice } from '../../src/domain/channels/channel-profile.js';
import { decodeRoutingDecision, encodeRoutingDecision } from '../../src/domain/channels/routing-record.js';
import { route, type RoutingInputs, type RoutingRules } from '../../src/domain/channels/routing.js';
import { parseCurrency } from '../../src/domain/money/money.js';

const rules: RoutingRules = {
  ruleVersion: 'test-1',
  explorationSharePpm: 50_000,
  minSuccessRatePpm: 900_000,
  minSamples: 10,
  maxMeanLatencyMs: 2_000,
  channels: Object.values(simulatedProfiles),
};
const healthy: HealthSnapshot = {
  breaker: 'closed',
  admits: true,
  sampleCount: 100,
  successRatePpm: 990_000,
  meanLatencyMs: 120,
};
const open: HealthSnapshot = {
  breaker: 'open',
  admits: false,
  sampleCount: 20,
  successRatePpm: 0,
  meanLatencyMs: 5_000,
};
const degraded: HealthSnapshot = { ...healthy, successRatePpm: 700_000 };
const probing: HealthSnapshot = {
  breaker: 'half_open',
  admits: true,
  sampleCount: 3,
  successRatePpm: 0,
  meanLatencyMs: 0,
};
const probeBusy: HealthSnapshot = { ...probing, admits: false };

const icbcDebit: PayerChoice = { method: 'quick_pay', bankCode: 'ICBC', cardKind: 'debit' };
const cityCredit: PayerChoice = { method: 'quick_pay', bankCode: 'CITY', cardKind: 'credit' };
const wechat: PayerChoice = { method: 'platform_pay', platform: 'wechat' };

function inputs(changes: {
  choice?: PayerChoice;
  amountMinor?: bigint;
  operation?: 'charge' | 'payout';
  health?: Partial<Record<string, HealthSnapshot>>;
  used?: Partial<Record<string, bigint>>;
  drawPpm?: number;
}): RoutingInputs {
  return {
    rules,
    request: {
      operation: changes.operation ?? 'charge',
      choice: changes.choice ?? cityCredit,
      amount: { amountMinor: changes.amountMinor ?? 10_000n, currency: parseCurrency('CNY') },
    },
    health: {
      [SIMULATED_BANK]: healthy,
      [SIMULATED_CARD_NETWORK]: healthy,
      [SIMULATED_PLATFORM]: healthy,
      ...changes.health,
    },
    dailyUsedMinor: { ...changes.used } as Record<string, bigint>,
    drawPpm: changes.drawPpm ?? 999_999,
  };
}

describe('routing', () => {
  it.each([
    [
      'ICBC debit: only the card network covers ICBC',
      inputs({ choice: icbcDebit }),
      SIMULATED_CARD_NETWORK,
      'cheapest_healthy',
      38n,
    ],
    [
      'CITY credit: the bank (0.2 %) is cheaper than the network (0.38 %)',
      inputs({}),
      SIMULATED_BANK,
      'cheapest_healthy',
      20n,
    ],
    [
      'CITY credit with the bank open: traffic moves to the network',
      inputs({ health: { [SIMULATED_BANK]: open } }),
      SIMULATED_CARD_NETWORK,
      'cheapest_healthy',
      38n,
    ],
    [
      'CITY credit with the bank degraded: the healthy network first',
      inputs({ health: { [SIMULATED_BANK]: degraded } }),
      SIMULATED_CARD_NETWORK,
      'cheapest_healthy',
      38n,
    ],
    [
      'all degraded: the cheapest degraded one',
      inputs({ health: { [SIMULATED_BANK]: degraded, [SIMULATED_CARD_NETWORK]: degraded } }),
      SIMULATED_BANK,
      'cheapest_degraded',
      20n,
    ],
    [
      'a half-open bank gets its probe (it is the cheapest)',
      inputs({ health: { [SIMULATED_BANK]: probing } }),
      SIMULATED_BANK,
      'cheapest_healthy',
      20n,
    ],
    [
      'a half-open bank whose probe is out: the network',
      inputs({ health: { [SIMULATED_BANK]: probeBusy } }),
      SIMULATED_CARD_NETWORK,
      'cheapest_healthy',
      38n,
    ],
    [
      'a draw inside the exploration share takes another healthy channel',
      inputs({ drawPpm: 49_999 }),
      SIMULATED_CARD_NETWORK,
      'exploration',
      38n,
    ],
    ['the bank caps its fee at 20.00', inputs({ amountMinor: 5_000_000n }), SIMULATED_BANK, 'cheapest_healthy', 2_000n],
    [
      "above the network's 20,000.00 per transaction only the bank is left",
      inputs({ amountMinor: 3_000_000n, health: { [SIMULATED_BANK]: degraded } }),
      SIMULATED_BANK,
      'cheapest_degraded',
      2_000n,
    ],
    [
      "the bank's day is full: the network",
      inputs({ used: { [SIMULATED_BANK]: 99_995_000n } }),
      SIMULATED_CARD_NETWORK,
      'cheapest_healthy',
      38n,
    ],
    ['WeChat: the wallet platform', inputs({ choice: wechat }), SIMULATED_PLATFORM, 'cheapest_healthy', 60n],
    [
      'payout to a CITY card: the bank (1.00 flat) over the network (2.00)',
      inputs({ operation: 'payout' }),
      SIMULATED_BANK,
      'cheapest_healthy',
      100n,
    ],
    [
      'too few samples say nothing against a channel',
      inputs({ health: { [SIMULATED_BANK]: { ...degraded, sampleCount: 5 } } }),
      SIMULATED_BANK,
      'cheapest_healthy',
      20n,
    ],
  ])('%s', (_name, given, chosen, reason, fee) => {
    expect(route(given)).toMatchObject({ chosen, reason, chosenFeeMinor: fee });
  });

  it.each([
    ['no channel offers the platform', inputs({ choice: { method: 'platform_pay', platform: 'other' } })],
    ['the only channel for ICBC is open', inputs({ choice: icbcDebit, health: { [SIMULATED_CARD_NETWORK]: open } })],
    ['above every limit', inputs({ amountMinor: 6_000_000n })],
  ])('no channel: %s', (_name, given) => {
    expect(route(given)).toMatchObject({ chosen: null, reason: 'no_channel', chosenFeeMinor: null });
  });

  it('says why each channel was left out', () => {
    const decision = route(inputs({ choice: icbcDebit, amountMinor: 2_500_000n }));
    expect(
      decision.candidates.map((candidate) => [
        candidate.channelId,
        candidate.standing === 'excluded' ? candidate.excludedBecause : candidate.standing,
      ]),
    ).toEqual([
      [SIMULATED_BANK, 'not_offered'],
      [SIMULATED_CARD_NETWORK, 'above_transaction_maximum'],
      [SIMULATED_PLATFORM, 'not_offered'],
    ]);
  });

  it('an auditor replays a stored decision from its JSON alone and gets the same answer', () => {
    const decision = route(
      inputs({ health: { [SIMULATED_BANK]: probing }, used: { [SIMULATED_CARD_NETWORK]: 1_000n }, drawPpm: 12_345 }),
    );
    const stored = JSON.stringify(encodeRoutingDecision(decision));
    // What an auditor has: the event's JSON, nothing of the live system.
    const recorded = decodeRoutingDecision(JSON.parse(stored));
    const replayed = route(recorded.inputs);
    expect(replayed).toEqual(recorded);
    expect(replayed.chosen).toBe(decision.chosen);
    expect(JSON.stringify(encodeRoutingDecision(replayed))).toBe(stored);
  });

  it('refuses inputs it cannot judge', () => {
    expect(() => route({ ...inputs({}), drawPpm: 1_000_000 })).toThrow(RangeError);
    const { [SIMULATED_PLATFORM]: _dropped, ...partial } = inputs({}).health;
    expect(() => route({ ...inputs({}), health: partial })).toThrow(/no health snapshot/);
  });
});

import { describe, expect, it } from 'vitest';
import type { AwaitingChannel } from '../../src/domain/channels/awaiting-channel.js';
import { simulatedProfiles } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { nextQueryAt, queryDue } from '../../src/domain/channels/awaiting-channel.js';
import { route } from '../../src/domain/channels/routing.js';
import { decodeEvent, encodeEvent } from '../../src/domain/event-catalogue.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { rechargeDecider } from '../../src/domain/recharges/recharge-decider.js';
import type { RechargeEvent } from '../../src/domain/recharges/recharge-events.js';
import { withdrawalDecider } from '../../src/domain/withdrawals/withdrawal-decider.js';
import type { WithdrawalEvent } from '../../src/domain/withdrawals/withdrawal-events.js';
import { deciderSpecification } from '../support/decider-specification.js';

const CNY = parseCurrency('CNY');
const rechargeId = '5a0c8f64-1d8e-5b5f-9c84-3f6a3b8d2e11';
const withdrawalId = '7b1d9e75-2e9f-5c60-8d95-4a7b4c9e3f22';
const card = {
  bankCode: 'CITY',
  cardKind: 'debit' as const,
  contracts: [
    { channelId: 'sim-citybank', contractNo: 'SIMCITC-1' },
    { channelId: 'sim-cardnet', contractNo: 'SIMCARC-1' },
  ],
};

/** A version-1 request (before routing): what a data dir of an earlier version holds. */
const legacyRequested: RechargeEvent = {
  type: 'RechargeRequested',
  data: { rechargeId, accountId: '1015550123456782', amountMinor: 10_000n, currency: CNY, channel: 'sim-bank' },
};
const requested: RechargeEvent = {
  type: 'RechargeRequested',
  data: { ...legacyRequested.data, channel: 'sim-citybank', instrument: { method: 'quick_pay', card } },
};

const awaiting: AwaitingChannel = {
  channel: 'sim-citybank',
  outcome: 'unknown',
  channelOrderNo: null,
  payerActionUrl: null,
  detail: 'timeout: no answer within 300 ms',
  queries: 0,
  nextQueryAt: '2026-12-01T08:00:05.000Z',
};

describe('the recharge process decider on the channel path', () => {
  const spec = deciderSpecification(rechargeDecider);
  // The second decision, among the channels not yet tried: the card network alone.
  const routing = route({
    rules: {
      ruleVersion: 'routing-1',
      explorationSharePpm: 0,
      minSuccessRatePpm: 900_000,
      minSamples: 20,
      maxMeanLatencyMs: 3_000,
      channels: [simulatedProfiles['sim-cardnet']!],
    },
    request: {
      operation: 'charge',
      choice: { method: 'quick_pay', bankCode: 'CITY', cardKind: 'debit' },
      amount: { amountMinor: 10_000n, currency: CNY },
    },
    health: {
      'sim-cardnet': { breaker: 'closed', admits: true, sampleCount: 0, successRatePpm: 1_000_000, meanLatencyMs: 0 },
    },
    dailyUsedMinor: { 'sim-cardnet': 0n },
    drawPpm: 0,
  });

  it('notes an answer that is not final, once per query, at the channel routed to', () => {
    spec
      .given([requested])
      .when({ type: 'AwaitRechargeChannel', rechargeId, awaiting })
      .then([{ type: 'RechargeAwaitingChannel', data: { rechargeId, ...awaiting } }]);
    spec
      .given([requested])
      .when({ type: 'AwaitRechargeChannel', rechargeId, awaiting: { ...awaiting, channel: 'sim-cardnet' } })
      .thenRefuses('operation_state_conflict');
  });

  it('routes away once from the channel that accepted nothing; the same step again records nothing', () => {
    const routed = { rechargeId, fromChannel: 'sim-citybank', channel: 'sim-cardnet', routing };
    expect(routing.chosen).toBe('sim-cardnet');
    spec
      .given([requested])
      .when({ type: 'RouteRecharge', routed })
      .then([{ type: 'RechargeRouted', data: routed }]);
    spec
      .given([requested, { type: 'RechargeRouted', data: routed }])
      .when({ type: 'RouteRecharge', routed })
      .then([]);
  });

  it('completes an awaiting recharge, which is then no longer awaiting, and ignores a late note', () => {
    const noted: RechargeEvent = { type: 'RechargeAwaitingChannel', data: { rechargeId, ...awaiting } };
    const completed: RechargeEvent = {
      type: 'RechargeCompleted',
      data: { rechargeId, channelOrderNo: 'SIMCITP-1', channelFeeMinor: 20n },
    };
    spec
      .given([requested, noted])
      .when({ type: 'CompleteRecharge', rechargeId, channelOrderNo: 'SIMCITP-1', channelFeeMinor: 20n })
      .then([completed]);
    spec.given([requested, noted, completed]).when({ type: 'AwaitRechargeChannel', rechargeId, awaiting }).then([]);
    const state = [requested, noted, completed].reduce(rechargeDecider.evolve, rechargeDecider.initialState());
    expect(state).toMatchObject({ status: 'completed', awaiting: null, channel: 'sim-citybank' });
  });

  it('a channel fee above the amount completes the recharge and records the anomaly (never a stuck recharge)', () => {
    spec
      .given([requested])
      .when({ type: 'CompleteRecharge', rechargeId, channelOrderNo: 'SIMCITP-1', channelFeeMinor: 10_001n })
      .then([
        { type: 'RechargeCompleted', data: { rechargeId, channelOrderNo: 'SIMCITP-1', channelFeeMinor: 10_001n } },
        {
          type: 'RechargeFeeAnomalyRecorded',
          data: { rechargeId, channel: 'sim-citybank', amountMinor: 10_000n, currency: CNY, reportedFeeMinor: 10_001n },
        },
      ]);
  });

  it('still decodes and replays a recharge recorded before routing', () => {
    const stored = encodeEvent(legacyRequested);
    const decoded = decodeEvent(stored.type, stored.data);
    expect(decoded).toEqual(legacyRequested);
    const state = rechargeDecider.evolve(rechargeDecider.initialState(), decoded as RechargeEvent);
    expect(state).toMatchObject({ exists: true, channel: 'sim-bank', routing: null, awaiting: null });
  });
});

describe('the withdrawal process decider on the channel path', () => {
  const spec = deciderSpecification(withdrawalDecider);
  const requestedWithdrawal: WithdrawalEvent = {
    type: 'WithdrawalRequested',
    data: {
      withdrawalId,
      accountId: '1015550123456782',
      amountMinor: 500n,
      currency: CNY,
      channel: 'sim-citybank',
      payeeReference: 'SIMCITC-1',
      payee: card,
    },
  };

  it('notes an unknown payout, and completes it after the query, no longer awaiting', () => {
    const noted: WithdrawalEvent = { type: 'WithdrawalAwaitingChannel', data: { withdrawalId, ...awaiting } };
    spec.given([requestedWithdrawal]).when({ type: 'AwaitWithdrawalChannel', withdrawalId, awaiting }).then([noted]);
    const payout = {
      withdrawalId,
      channel: 'sim-citybank',
      channelOrderNo: 'SIMCITO-1',
      channelFeeMinor: 100n,
      currency: CNY,
    };
    spec
      .given([requestedWithdrawal, noted])
      .when({ type: 'CompleteWithdrawal', payout })
      .then([{ type: 'WithdrawalCompleted', data: payout }]);
    const state = [requestedWithdrawal, noted, { type: 'WithdrawalCompleted' as const, data: payout }].reduce(
      withdrawalDecider.evolve,
      withdrawalDecider.initialState(),
    );
    expect(state).toMatchObject({ status: 'completed', awaiting: null });
  });
});

describe('order queries back off, bounded', () => {
  it('waits 5 s, then twice as long each time, never more than 10 minutes', () => {
    const at = '2026-12-01T08:00:00.000Z';
    expect([0, 1, 2, 3, 20, 50].map((queries) => nextQueryAt(at, queries))).toEqual([
      '2026-12-01T08:00:05.000Z',
      '2026-12-01T08:00:10.000Z',
      '2026-12-01T08:00:20.000Z',
      '2026-12-01T08:00:40.000Z',
      '2026-12-01T08:10:00.000Z',
      '2026-12-01T08:10:00.000Z',
    ]);
  });

  it('is due by the command time, or at once when a client asks', () => {
    expect(queryDue(awaiting, '2026-12-01T08:00:04.999Z', false)).toBe(false);
    expect(queryDue(awaiting, '2026-12-01T08:00:05.000Z', false)).toBe(true);
    expect(queryDue(awaiting, '2026-12-01T08:00:00.000Z', true)).toBe(true);
  });
});

import { describe, it } from 'vitest';
import {
  SIMULATED_CARD_NETWORK,
  SIMULATED_PLATFORM,
  simulatedProfiles,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import {
  channelPaymentDecider,
  type ChannelPaymentCommand,
  type ChannelPaymentEvent,
} from '../../src/domain/channel-payments/channel-payment-decider.js';
import type { ChannelPaymentOrder } from '../../src/domain/channel-payments/channel-payment-events.js';
import { route } from '../../src/domain/channels/routing.js';
import { assessRisk } from '../../src/domain/risk/risk-assessment.js';
import { EMPTY_RISK_HISTORY } from '../../src/domain/risk/risk-history.js';
import { CNY, knownPayerHistory, sampleAttempt, sampleRiskRules } from '../support/risk-fixtures.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(channelPaymentDecider);
const paymentId = '4c7b1f8e-2a3d-5e6f-8a9b-0c1d2e3f4a5b';
const at = '2026-12-01T02:00:00.000Z';
const later = '2026-12-01T02:00:05.000Z';

const healthy = {
  breaker: 'closed',
  admits: true,
  sampleCount: 0,
  successRatePpm: 1_000_000,
  meanLatencyMs: 0,
} as const;
function routed(channelIds: readonly string[]) {
  const channels = channelIds.map((id) => simulatedProfiles[id]!);
  return route({
    rules: {
      ruleVersion: 'test',
      explorationSharePpm: 0,
      minSuccessRatePpm: 900_000,
      minSamples: 20,
      maxMeanLatencyMs: 3_000,
      channels,
    },
    request: {
      operation: 'charge',
      choice: { method: 'platform_pay', platform: 'wechat' },
      amount: { amountMinor: 12_345n, currency: CNY },
    },
    health: Object.fromEntries(channels.map((c) => [c.channelId, healthy])),
    dailyUsedMinor: Object.fromEntries(channels.map((c) => [c.channelId, 0n])),
    drawPpm: 500_000,
  });
}

const order: ChannelPaymentOrder = {
  paymentId,
  merchantId: 'mch-1',
  payeeAccountId: '2014440123456787',
  payeeSubjectCode: '2202',
  merchantOrderNo: 'SO-1',
  amountMinor: 12_345n,
  currency: CNY,
  description: 'coffee',
  instrument: { method: 'platform_pay', platform: 'wechat', returnUrl: null },
  payer: { ip: '198.51.100.7', deviceId: 'dev-phone-1', payerId: 'payer-1', maskedPhone: '138****0000' },
  routing: routed([SIMULATED_PLATFORM]),
  createdAt: at,
  accountingDate: '2026-12-01',
};

const allow = assessRisk({ rules: sampleRiskRules, attempt: sampleAttempt, history: knownPayerHistory });
const stepUp = assessRisk({ rules: sampleRiskRules, attempt: sampleAttempt, history: EMPTY_RISK_HISTORY });
const block = assessRisk({
  rules: sampleRiskRules,
  attempt: { ...sampleAttempt, payerId: 'payer-stolen' },
  history: knownPayerHistory,
});
const policy = { codeTtlMs: 60_000, challengeTtlMs: 300_000, maxAttempts: 2, maxSends: 2, minResendIntervalMs: 30_000 };
const hmacA = 'A'.repeat(43);
const hmacB = 'B'.repeat(43);
const challengeId = '9d8c7b6a-5f4e-5d3c-8b2a-1f0e9d8c7b6a';

const created: ChannelPaymentEvent = { type: 'ChannelPaymentCreated', data: order };
const assessedAllow: ChannelPaymentEvent = {
  type: 'ChannelPaymentRiskAssessed',
  data: { paymentId, assessment: allow },
};
const submitted: ChannelPaymentEvent = {
  type: 'ChannelPaymentSubmitted',
  data: { paymentId, channel: SIMULATED_PLATFORM, attempt: 1, at },
};
const pending: ChannelPaymentEvent = {
  type: 'ChannelPaymentPending',
  data: { paymentId, channelOrderNo: 'W-1', payerActionUrl: 'https://pay.example/W-1', sequence: null, at },
};
const succeededBy = (learntBy: 'answer' | 'notification' | 'query', sequence: number | null): ChannelPaymentEvent => ({
  type: 'ChannelPaymentSucceeded',
  data: {
    paymentId,
    channel: SIMULATED_PLATFORM,
    channelOrderNo: 'W-1',
    feeMinor: 74n,
    channelTime: at,
    learntBy,
    sequence,
    at: later,
  },
});
const unknown: ChannelPaymentEvent = {
  type: 'ChannelPaymentUnknown',
  data: { paymentId, reason: 'timeout', detail: 'no answer in 5000 ms', at },
};
const issued: ChannelPaymentEvent = {
  type: 'StepUpChallengeIssued',
  data: {
    challengeId,
    paymentId,
    maskedPhone: '138****0000',
    codeHmac: hmacA,
    policy,
    issuedAt: at,
    codeExpiresAt: '2026-12-01T02:01:00.000Z',
    challengeExpiresAt: '2026-12-01T02:05:00.000Z',
  },
};

const result = (
  r: Extract<ChannelPaymentCommand, { type: 'RecordChannelResult' }>['result'],
  learntBy: 'answer' | 'notification' | 'query' = 'answer',
  sequence: number | null = null,
  when = later,
): ChannelPaymentCommand => ({ type: 'RecordChannelResult', paymentId, result: r, learntBy, sequence, at: when });
const success = { kind: 'succeeded', channelOrderNo: 'W-1', feeMinor: 74n, channelTime: at } as const;

describe('channel payment decider', () => {
  it('records the order once: the same merchant order number again decides nothing', () => {
    spec.given([]).when({ type: 'CreateChannelPayment', order }).then([created]);
    spec.given([created]).when({ type: 'CreateChannelPayment', order }).then([]);
  });

  it('an allow verdict makes it ready; submitted once', () => {
    spec
      .given([created])
      .when({ type: 'AssessChannelPaymentRisk', paymentId, assessment: allow, challenge: null, at })
      .then([assessedAllow]);
    spec.given([created, assessedAllow]).when({ type: 'SubmitChannelPayment', paymentId, at }).then([submitted]);
    spec.given([created, assessedAllow, submitted]).when({ type: 'SubmitChannelPayment', paymentId, at }).then([]);
  });

  it('a block verdict fails it with risk_blocked before any channel is asked', () => {
    spec
      .given([created])
      .when({ type: 'AssessChannelPaymentRisk', paymentId, assessment: block, challenge: null, at })
      .then([
        { type: 'ChannelPaymentRiskAssessed', data: { paymentId, assessment: block } },
        {
          type: 'ChannelPaymentFailed',
          data: {
            paymentId,
            reasonCode: 'risk_blocked',
            reason: 'blocked by risk rules: blocked-payers',
            declineCode: null,
            channelCode: null,
            learntBy: null,
            at,
          },
        },
      ]);
  });

  it('a step-up verdict issues the challenge; the right code makes it ready, the wrong ones fail it', () => {
    const assessed: ChannelPaymentEvent = {
      type: 'ChannelPaymentRiskAssessed',
      data: { paymentId, assessment: stepUp },
    };
    const challenge = { challengeId, maskedPhone: '138****0000', codeHmac: hmacA, policy };
    spec
      .given([created])
      .when({ type: 'AssessChannelPaymentRisk', paymentId, assessment: stepUp, challenge, at })
      .then([assessed, issued]);
    // Not submitted while the code is awaited.
    spec.given([created, assessed, issued]).when({ type: 'SubmitChannelPayment', paymentId, at }).then([]);
    const verified: ChannelPaymentEvent = {
      type: 'StepUpVerified',
      data: { challengeId, paymentId, verifiedAt: later },
    };
    spec
      .given([created, assessed, issued])
      .when({ type: 'VerifyStepUpCode', paymentId, codeHmac: hmacA, at: later })
      .then([verified]);
    spec
      .given([created, assessed, issued, verified])
      .when({ type: 'SubmitChannelPayment', paymentId, at: later })
      .then([{ ...submitted, data: { ...submitted.data, at: later } }]);
    const wrong1: ChannelPaymentEvent = {
      type: 'StepUpCodeRejected',
      data: { challengeId, reason: 'code_wrong', attemptsUsed: 1, at: later },
    };
    spec
      .given([created, assessed, issued, wrong1])
      .when({ type: 'VerifyStepUpCode', paymentId, codeHmac: hmacB, at: later })
      .then([
        { type: 'StepUpCodeRejected', data: { challengeId, reason: 'code_wrong', attemptsUsed: 2, at: later } },
        { type: 'StepUpFailed', data: { challengeId, paymentId, reason: 'attempts_exhausted', failedAt: later } },
        {
          type: 'ChannelPaymentFailed',
          data: {
            paymentId,
            reasonCode: 'verification_failed',
            reason: 'step-up verification failed: attempts_exhausted',
            declineCode: null,
            channelCode: null,
            learntBy: null,
            at: later,
          },
        },
      ]);
  });

  it("judges the challenge's deadline by the command's time", () => {
    const assessed: ChannelPaymentEvent = {
      type: 'ChannelPaymentRiskAssessed',
      data: { paymentId, assessment: stepUp },
    };
    spec.given([created, assessed, issued]).when({ type: 'ExpireStepUp', paymentId, at: later }).then([]);
    const end = '2026-12-01T02:05:00.000Z';
    spec
      .given([created, assessed, issued])
      .when({ type: 'ExpireStepUp', paymentId, at: end })
      .then([
        { type: 'StepUpFailed', data: { challengeId, paymentId, reason: 'expired', failedAt: end } },
        {
          type: 'ChannelPaymentFailed',
          data: {
            paymentId,
            reasonCode: 'verification_code_expired',
            reason: 'step-up verification failed: expired',
            declineCode: null,
            channelCode: null,
            learntBy: null,
            at: end,
          },
        },
      ]);
  });

  it('without a challenge, a verification is refused', () => {
    spec
      .given([created, assessedAllow])
      .when({ type: 'VerifyStepUpCode', paymentId, codeHmac: hmacA, at })
      .thenRefuses('operation_state_conflict', { reason: 'no_verification_required' });
  });

  it('applies a result once: a duplicate or late result changes nothing', () => {
    const given = [created, assessedAllow, submitted];
    spec
      .given(given)
      .when(result(success))
      .then([succeededBy('answer', null)]);
    spec
      .given([...given, succeededBy('answer', null)])
      .when(result(success, 'notification', 3))
      .then([]);
    spec
      .given([...given, succeededBy('answer', null)])
      .when(result({ kind: 'declined', code: 'insufficient_funds', message: 'no', channelCode: 'E1' }))
      .then([]);
  });

  it('a channel fee above the amount: succeeded all the same, with the anomaly recorded for review', () => {
    const given = [created, assessedAllow, submitted];
    const scheduled = order.routing.candidates.find((c) => c.channelId === SIMULATED_PLATFORM);
    spec
      .given(given)
      .when(result({ ...success, feeMinor: 12_346n }))
      .then([
        {
          ...succeededBy('answer', null),
          data: { ...succeededBy('answer', null).data, feeMinor: 12_346n },
        } as ChannelPaymentEvent,
        {
          type: 'ChannelPaymentFeeAnomalyRecorded',
          data: {
            paymentId,
            channel: SIMULATED_PLATFORM,
            amountMinor: 12_345n,
            currency: CNY,
            reportedFeeMinor: 12_346n,
            scheduledFeeMinor: scheduled && scheduled.standing !== 'excluded' ? scheduled.feeMinor : null,
            at: later,
          },
        },
      ]);
  });

  it('out of order: a pending after succeeded changes nothing; an older sequence is stale', () => {
    const given = [created, assessedAllow, submitted];
    spec
      .given([...given, succeededBy('notification', 2)])
      .when(result({ kind: 'pending', channelOrderNo: 'W-1', payerActionUrl: null }, 'notification', 1))
      .then([]);
    const pendingAt5: ChannelPaymentEvent = {
      ...pending,
      data: { ...pending.data, sequence: 5 },
    };
    spec
      .given([...given, pendingAt5])
      .when(result(success, 'notification', 4))
      .then([]);
    spec
      .given([...given, pendingAt5])
      .when(result(success, 'notification', 6))
      .then([succeededBy('notification', 6)]);
    spec
      .given([...given, pending])
      .when(result({ kind: 'pending', channelOrderNo: 'W-1', payerActionUrl: null }))
      .then([]);
  });

  it('an unknown resolves only from the channel: a timeout again or our failure changes nothing', () => {
    const given = [created, assessedAllow, submitted, unknown];
    spec
      .given(given)
      .when(result({ kind: 'unknown', reason: 'timeout', detail: 'again' }, 'query'))
      .then([]);
    spec
      .given(given)
      .when({ type: 'FailChannelPayment', paymentId, reasonCode: 'channel_unavailable', reason: 'x', at })
      .thenRefuses('operation_state_conflict', { reason: 'at_the_channel' });
    spec
      .given(given)
      .when(result(success, 'query'))
      .then([succeededBy('query', null)]);
    // The channel has no such order: sent again under the same order number (the channel keeps it once).
    spec
      .given(given)
      .when({ type: 'ResubmitChannelPayment', paymentId, at: later })
      .then([
        { type: 'ChannelPaymentSubmitted', data: { paymentId, channel: SIMULATED_PLATFORM, attempt: 2, at: later } },
      ]);
    spec.given([created, assessedAllow, submitted]).when({ type: 'ResubmitChannelPayment', paymentId, at }).then([]);
    spec
      .given(given)
      .when(result({ kind: 'closed', state: 'closed' }, 'query'))
      .then([
        { type: 'ChannelPaymentExpired', data: { paymentId, channelState: 'closed', learntBy: 'query', at: later } },
      ]);
  });

  it('a decline fails it with the channel code; completion follows success only, once', () => {
    const given = [created, assessedAllow, submitted];
    spec
      .given(given)
      .when(result({ kind: 'declined', code: 'insufficient_funds', message: 'not enough', channelCode: 'E51' }))
      .then([
        {
          type: 'ChannelPaymentFailed',
          data: {
            paymentId,
            reasonCode: 'channel_declined',
            reason: 'not enough',
            declineCode: 'insufficient_funds',
            channelCode: 'E51',
            learntBy: 'answer',
            at: later,
          },
        },
      ]);
    spec
      .given(given)
      .when({ type: 'CompleteChannelPayment', paymentId })
      .thenRefuses('operation_state_conflict', { reason: 'not_succeeded' });
    const completed: ChannelPaymentEvent = {
      type: 'ChannelPaymentCompleted',
      data: {
        paymentId,
        channel: SIMULATED_PLATFORM,
        channelOrderNo: 'W-1',
        amountMinor: 12_345n,
        channelFeeMinor: 74n,
        currency: CNY,
      },
    };
    spec
      .given([...given, succeededBy('answer', null)])
      .when({ type: 'CompleteChannelPayment', paymentId })
      .then([completed]);
    spec
      .given([...given, succeededBy('answer', null), completed])
      .when({ type: 'CompleteChannelPayment', paymentId })
      .then([]);
  });

  it('a channel that was unavailable may give way to another, a bounded number of times', () => {
    const other = routed([SIMULATED_CARD_NETWORK, SIMULATED_PLATFORM]);
    const given = [created, assessedAllow, submitted];
    spec
      .given(given)
      .when({ type: 'RerouteChannelPayment', paymentId, routing: { ...other, chosen: SIMULATED_CARD_NETWORK }, at })
      .then([
        {
          type: 'ChannelPaymentRerouted',
          data: {
            paymentId,
            fromChannel: SIMULATED_PLATFORM,
            routing: { ...other, chosen: SIMULATED_CARD_NETWORK },
            at,
          },
        },
      ]);
    spec
      .given([created, assessedAllow])
      .when({ type: 'RerouteChannelPayment', paymentId, routing: other, at })
      .thenRefuses('operation_state_conflict', { reason: 'not_at_a_channel' });
    spec
      .given(given)
      .when({ type: 'FailChannelPayment', paymentId, reasonCode: 'channel_unavailable', reason: 'down', at })
      .then([
        {
          type: 'ChannelPaymentFailed',
          data: {
            paymentId,
            reasonCode: 'channel_unavailable',
            reason: 'down',
            declineCode: null,
            channelCode: null,
            learntBy: null,
            at,
          },
        },
      ]);
  });

  it('a result for an order never submitted is a no-op', () => {
    spec
      .given([created, assessedAllow])
      .when(result(success, 'notification', 1))
      .then([]);
  });
});

describe('channel payment decider, step-up without a phone', () => {
  it('fails with verification_unavailable when no code can be sent', () => {
    spec
      .given([created])
      .when({ type: 'AssessChannelPaymentRisk', paymentId, assessment: stepUp, challenge: null, at })
      .then([
        { type: 'ChannelPaymentRiskAssessed', data: { paymentId, assessment: stepUp } },
        {
          type: 'ChannelPaymentFailed',
          data: {
            paymentId,
            reasonCode: 'verification_unavailable',
            reason: 'step-up required, but no code can be sent',
            declineCode: null,
            channelCode: null,
            learntBy: null,
            at,
          },
        },
      ]);
  });
});

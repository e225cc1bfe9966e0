import { describe, it } from 'vitest';
import {
  SIMULATED_PLATFORM,
  simulatedProfiles,
} from '../../src/adapters/channels/simulator/default-simulator-config.js';
import {
  channelPaymentDecider,
  type ChannelPaymentCommand,
  type ChannelPaymentEvent,
} from '../../src/domain/channel-payments/channel-payment-decider.js';
import type { ChannelPaymentOrder } from '../../src/domain/channel-payments/channel-payment-events.js';
import type { RefundResult } from '../../src/domain/channel-payments/channel-refund-rules.js';
import { route } from '../../src/domain/channels/routing.js';
import { assessRisk } from '../../src/domain/risk/risk-assessment.js';
import { CNY, knownPayerHistory, sampleAttempt, sampleRiskRules } from '../support/risk-fixtures.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(channelPaymentDecider);
const paymentId = '4c7b1f8e-2a3d-5e6f-8a9b-0c1d2e3f4a5b';
const refundA = '6d1e2f3a-4b5c-5d6e-8f7a-8b9c0d1e2f3a';
const refundB = '7e2f3a4b-5c6d-5e7f-8a8b-9c0d1e2f3a4b';
const at = '2026-12-01T02:00:00.000Z';
const later = '2026-12-01T03:00:00.000Z';
const money = (amountMinor: bigint) => ({ amountMinor, currency: CNY });

const profile = simulatedProfiles[SIMULATED_PLATFORM]!;
const order: ChannelPaymentOrder = {
  paymentId,
  merchantId: 'mch-1',
  payeeAccountId: '2014440123456787',
  payeeSubjectCode: '2202',
  merchantOrderNo: 'SO-1',
  amountMinor: 10_000n,
  currency: CNY,
  description: 'coffee',
  instrument: { method: 'platform_pay', platform: 'wechat', returnUrl: null },
  payer: { ip: '198.51.100.7', deviceId: 'dev-phone-1', payerId: 'payer-1', maskedPhone: null },
  routing: route({
    rules: {
      ruleVersion: 'test',
      explorationSharePpm: 0,
      minSuccessRatePpm: 900_000,
      minSamples: 20,
      maxMeanLatencyMs: 3_000,
      channels: [profile],
    },
    request: { operation: 'charge', choice: { method: 'platform_pay', platform: 'wechat' }, amount: money(10_000n) },
    health: {
      [SIMULATED_PLATFORM]: {
        breaker: 'closed',
        admits: true,
        sampleCount: 0,
        successRatePpm: 1_000_000,
        meanLatencyMs: 0,
      },
    },
    dailyUsedMinor: { [SIMULATED_PLATFORM]: 0n },
    drawPpm: 500_000,
  }),
  createdAt: at,
  accountingDate: '2026-12-01',
};
const allow = assessRisk({ rules: sampleRiskRules, attempt: sampleAttempt, history: knownPayerHistory });

const completedPayment: ChannelPaymentEvent[] = [
  { type: 'ChannelPaymentCreated', data: order },
  { type: 'ChannelPaymentRiskAssessed', data: { paymentId, assessment: allow } },
  { type: 'ChannelPaymentSubmitted', data: { paymentId, channel: SIMULATED_PLATFORM, attempt: 1, at } },
  {
    type: 'ChannelPaymentSucceeded',
    data: {
      paymentId,
      channel: SIMULATED_PLATFORM,
      channelOrderNo: 'W-1',
      feeMinor: 60n,
      channelTime: at,
      learntBy: 'answer',
      sequence: null,
      at,
    },
  },
  {
    type: 'ChannelPaymentCompleted',
    data: {
      paymentId,
      channel: SIMULATED_PLATFORM,
      channelOrderNo: 'W-1',
      amountMinor: 10_000n,
      channelFeeMinor: 60n,
      currency: CNY,
    },
  },
];

const request = (
  refundId: string,
  refundNo: string,
  amountMinor: bigint,
  kind: 'refund' | 'cancellation' = 'refund',
  today = '2026-12-01',
): ChannelPaymentCommand => ({
  type: 'RequestChannelRefund',
  paymentId,
  refundId,
  kind,
  refundNo,
  amount: money(amountMinor),
  reason: '',
  todayAccountingDate: today,
  at: later,
});
const requested = (
  refundId: string,
  refundNo: string,
  amountMinor: bigint,
  kind: 'refund' | 'cancellation' = 'refund',
): ChannelPaymentEvent => ({
  type: 'ChannelRefundRequested',
  data: { paymentId, refundId, kind, refundNo, amountMinor, currency: CNY, reason: '', at: later },
});
const submitted = (refundId: string): ChannelPaymentEvent => ({
  type: 'ChannelRefundSubmitted',
  data: { paymentId, refundId, channel: SIMULATED_PLATFORM, at: later },
});
const result = (refundId: string, r: RefundResult, learntBy: 'answer' | 'notification' | 'query' = 'answer') =>
  ({ type: 'RecordChannelRefundResult', paymentId, refundId, result: r, learntBy, at: later }) as const;
const succeeded = (
  refundId: string,
  learntBy: 'answer' | 'notification' | 'query' = 'answer',
  kind: 'refund' | 'cancellation' = 'refund',
): ChannelPaymentEvent => ({
  type: 'ChannelRefundSucceeded',
  data: {
    paymentId,
    refundId,
    kind,
    channel: SIMULATED_PLATFORM,
    currency: CNY,
    feeReturnedMinor: kind === 'cancellation' ? 60n : 0n,
    channelRefundNo: 'R-1',
    channelTime: later,
    learntBy,
    at: later,
  },
});
const ok: RefundResult = { kind: 'succeeded', channelRefundNo: 'R-1', channelTime: later };
const declined: RefundResult = { kind: 'declined', code: 'order_closed', message: 'closed', channelCode: 'E9' };

describe('channel refunds: partial, never above what was paid', () => {
  it('refunds in parts; the total of refunds not failed never passes the amount', () => {
    spec
      .given(completedPayment)
      .when(request(refundA, 'RF-1', 4_000n))
      .then([requested(refundA, 'RF-1', 4_000n)]);
    // A second refund racing the first (still in flight) is decided on its reservation.
    spec
      .given([...completedPayment, requested(refundA, 'RF-1', 4_000n)])
      .when(request(refundB, 'RF-2', 6_001n))
      .thenRefuses('refund_exceeds_payment', { refundableAmount: '60.00' });
    spec
      .given([...completedPayment, requested(refundA, 'RF-1', 4_000n)])
      .when(request(refundB, 'RF-2', 6_000n))
      .then([requested(refundB, 'RF-2', 6_000n)]);
  });

  it('a refund number is one refund: the same terms again decide nothing, other terms are refused', () => {
    const given = [...completedPayment, requested(refundA, 'RF-1', 4_000n)];
    spec
      .given(given)
      .when(request(refundA, 'RF-1', 4_000n))
      .then([]);
    spec
      .given(given)
      .when(request(refundA, 'RF-1', 5_000n))
      .thenRefuses('duplicate_refund_no', { refundNo: 'RF-1' });
  });

  it('only a completed payment is refunded', () => {
    spec
      .given(completedPayment.slice(0, 4))
      .when(request(refundA, 'RF-1', 1n))
      .thenRefuses('operation_state_conflict', { reason: 'not_completed' });
  });

  it('a decline fails the refund with what was held, releases it once, and frees the amount', () => {
    const given = [...completedPayment, requested(refundA, 'RF-1', 10_000n), submitted(refundA)];
    const failed: ChannelPaymentEvent = {
      type: 'ChannelRefundFailed',
      data: {
        paymentId,
        refundId: refundA,
        reasonCode: 'channel_declined',
        reason: 'closed',
        declineCode: 'order_closed',
        channelCode: 'E9',
        learntBy: 'answer',
        held: true,
        at: later,
      },
    };
    spec.given(given).when(result(refundA, declined)).then([failed]);
    const released: ChannelPaymentEvent = {
      type: 'ChannelRefundReleased',
      data: { paymentId, refundId: refundA, at: later },
    };
    spec
      .given([...given, failed])
      .when({ type: 'ReleaseChannelRefund', paymentId, refundId: refundA, at: later })
      .then([released]);
    spec
      .given([...given, failed, released])
      .when({ type: 'ReleaseChannelRefund', paymentId, refundId: refundA, at: later })
      .then([]);
    spec
      .given([...given, failed, released])
      .when(request(refundB, 'RF-2', 10_000n))
      .then([requested(refundB, 'RF-2', 10_000n)]);
  });

  it('refused before the channel (the merchant debit refused): failed with nothing held; never once at the channel', () => {
    const given = [...completedPayment, requested(refundA, 'RF-1', 100n)];
    spec
      .given(given)
      .when({
        type: 'FailChannelRefund',
        paymentId,
        refundId: refundA,
        reasonCode: 'insufficient_funds',
        reason: 'low',
        at: later,
      })
      .then([
        {
          type: 'ChannelRefundFailed',
          data: {
            paymentId,
            refundId: refundA,
            reasonCode: 'insufficient_funds',
            reason: 'low',
            declineCode: null,
            channelCode: null,
            learntBy: null,
            held: false,
            at: later,
          },
        },
      ]);
    spec
      .given([...given, submitted(refundA)])
      .when({ type: 'FailChannelRefund', paymentId, refundId: refundA, reasonCode: 'x', reason: 'y', at: later })
      .thenRefuses('operation_state_conflict', { reason: 'refund_at_the_channel' });
  });

  it('a result applies once: a late or duplicate one, or a pending after success, changes nothing', () => {
    const given = [...completedPayment, requested(refundA, 'RF-1', 100n), submitted(refundA)];
    spec
      .given(given)
      .when(result(refundA, ok))
      .then([succeeded(refundA)]);
    spec
      .given([...given, succeeded(refundA)])
      .when(result(refundA, ok, 'notification'))
      .then([]);
    spec
      .given([...given, succeeded(refundA)])
      .when(result(refundA, { kind: 'pending', channelRefundNo: 'R-1' }, 'notification'))
      .then([]);
    spec
      .given([...given, succeeded(refundA)])
      .when(result(refundA, declined, 'query'))
      .then([]);
    // Not yet at the channel: a result is not about it.
    spec
      .given(given.slice(0, -1))
      .when(result(refundA, ok, 'notification'))
      .then([]);
  });

  it('unknown and pending resolve only by the channel word; an unknown again changes nothing', () => {
    const given = [...completedPayment, requested(refundA, 'RF-1', 100n), submitted(refundA)];
    const unknown: ChannelPaymentEvent = {
      type: 'ChannelRefundUnknown',
      data: { paymentId, refundId: refundA, reason: 'timeout', detail: 'no answer', at: later },
    };
    spec
      .given(given)
      .when(result(refundA, { kind: 'unknown', reason: 'timeout', detail: 'no answer' }))
      .then([unknown]);
    spec
      .given([...given, unknown])
      .when(result(refundA, { kind: 'unknown', reason: 'timeout', detail: 'again' }, 'query'))
      .then([]);
    spec
      .given([...given, unknown])
      .when(result(refundA, ok, 'query'))
      .then([succeeded(refundA, 'query')]);
    const pending: ChannelPaymentEvent = {
      type: 'ChannelRefundPending',
      data: { paymentId, refundId: refundA, channelRefundNo: 'R-1', at: later },
    };
    spec
      .given(given)
      .when(result(refundA, { kind: 'pending', channelRefundNo: 'R-1' }))
      .then([pending]);
    spec
      .given([...given, pending])
      .when(result(refundA, { kind: 'pending', channelRefundNo: 'R-1' }, 'query'))
      .then([]);
  });
});

describe('channel cancellation (same-day void)', () => {
  it('the whole amount, on the payment accounting day, judged by the command time', () => {
    spec
      .given(completedPayment)
      .when(request(refundA, 'cancel', 10_000n, 'cancellation', '2026-12-01'))
      .then([requested(refundA, 'cancel', 10_000n, 'cancellation')]);
    spec
      .given(completedPayment)
      .when(request(refundA, 'cancel', 10_000n, 'cancellation', '2026-12-02'))
      .thenRefuses('cancel_window_closed', { paymentId });
  });

  it('not after a refund; no refund after it; a succeeded cancellation cancels the payment', () => {
    spec
      .given([...completedPayment, requested(refundB, 'RF-1', 1n)])
      .when(request(refundA, 'cancel', 10_000n, 'cancellation'))
      .thenRefuses('operation_state_conflict', { reason: 'refunded' });
    const cancelling = [...completedPayment, requested(refundA, 'cancel', 10_000n, 'cancellation'), submitted(refundA)];
    spec
      .given(cancelling)
      .when(request(refundB, 'RF-1', 1n))
      .thenRefuses('operation_state_conflict', { reason: 'cancelled' });
    spec
      .given(cancelling)
      .when(result(refundA, ok))
      .then([
        succeeded(refundA, 'answer', 'cancellation'),
        { type: 'ChannelPaymentCancelled', data: { paymentId, refundId: refundA, at: later } },
      ]);
    spec
      .given([
        ...cancelling,
        succeeded(refundA, 'answer', 'cancellation'),
        { type: 'ChannelPaymentCancelled', data: { paymentId, refundId: refundA, at: later } },
      ])
      .when(request(refundB, 'RF-1', 1n))
      .thenRefuses('operation_state_conflict', { reason: 'not_completed' });
  });
});

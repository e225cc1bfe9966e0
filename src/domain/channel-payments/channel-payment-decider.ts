import { decideStepUp, evolveStepUp, initialStepUpState, type StepUpState } from '../risk/step-up-decider.js';
import type { StepUpEvent, StepUpPolicy } from '../risk/step-up-events.js';
import type { RiskAssessment, RiskVerdict } from '../risk/risk-assessment.js';
import type { RoutingDecision } from '../channels/routing.js';
import { DomainError, assert } from '../shared/domain-error.js';
import type { ChannelPaymentOrder, ChannelPaymentOwnEvent, LearntBy } from './channel-payment-events.js';
import type { ChannelRefundEvent } from './channel-refund-events.js';
import {
  CHANNEL_REFUND_COMMAND_TYPES,
  NO_REFUNDS,
  decideChannelRefund,
  evolveChannelRefunds,
  type ChannelRefundCommand,
  type ChannelRefunds,
} from './channel-refund-rules.js';

/**
 * The channel payment as an Emmett decider. The process (src/commands/channel-payments) drives it:
 * created (routed) -> risk assessed (blocked: failed; step-up: awaiting the payer's code; else ready) ->
 * submitted (just before the channel is called) -> the channel's word: succeeded, pending, declined
 * (failed), unknown, or closed (expired) -> completed once the payee is credited.
 *
 * The rules that keep results exact: a result applies once, and only to an order the channel may hold
 * (submitted, pending or unknown); a result for a finished order, a repeated one, or one older than the
 * last applied (by the channel's `sequence`) changes nothing; a `pending` never undoes a `succeeded`; an
 * `unknown` is never closed by us, only by the channel's word (a query or a callback). Deadlines (the
 * step-up's) are judged by the command's `at`. A completed payment's refunds and its cancellation are
 * decided here too, on the same state (channel-refund-rules.ts); a succeeded cancellation makes it `cancelled`.
 */
export type ChannelPaymentEvent = ChannelPaymentOwnEvent | StepUpEvent | ChannelRefundEvent;

export type ChannelPaymentStatus =
  | 'created'
  | 'awaiting_verification'
  | 'ready'
  | 'submitted'
  | 'pending'
  | 'unknown'
  | 'succeeded'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelled';

/** Statuses in which the channel may hold the order: only these take a channel result. */
const AT_CHANNEL: readonly ChannelPaymentStatus[] = ['submitted', 'pending', 'unknown'];
/** Nothing happens to these any more. */
export const FINISHED_STATUSES: readonly ChannelPaymentStatus[] = ['completed', 'failed', 'expired', 'cancelled'];
/** Most channel attempts per payment (a reroute after `unavailable` is one more). */
export const MAX_CHANNEL_ATTEMPTS = 3;

export interface ExistingChannelPayment extends ChannelRefunds {
  readonly exists: true;
  readonly order: ChannelPaymentOrder;
  readonly status: ChannelPaymentStatus;
  /** The channel now in charge (the first routing decision's, or a reroute's). */
  readonly channel: string;
  /** The routing decision that chose `channel` (the order's, or the last reroute's). */
  readonly routing: RoutingDecision;
  readonly attempts: number;
  readonly verdict: RiskVerdict | null;
  readonly stepUp: StepUpState;
  readonly channelOrderNo: string | null;
  readonly payerActionUrl: string | null;
  readonly feeMinor: bigint | null;
  readonly channelTime: string | null;
  readonly learntBy: LearntBy | null;
  readonly failure: ChannelFailure | null;
  /** The highest channel sequence applied (callbacks carry one): an older message is stale. */
  readonly lastSequence: number | null;
  /** The fee the channel reported above the amount, for an operator's review; null when none was. */
  readonly feeAnomaly: { readonly reportedFeeMinor: bigint; readonly scheduledFeeMinor: bigint | null } | null;
}

/** Why a payment or a refund failed: our code, and the channel's when it refused. */
export interface ChannelFailure {
  readonly reasonCode: string;
  readonly reason: string;
  readonly declineCode: string | null;
  readonly channelCode: string | null;
}

export type ChannelPaymentState = { readonly exists: false } | ExistingChannelPayment;

export interface ChallengeToIssue {
  readonly challengeId: string;
  readonly maskedPhone: string;
  readonly codeHmac: string;
  readonly policy: StepUpPolicy;
}

/** What the channel said, in our terms (the port's outcomes and order states, mapped by the process). */
export type ChannelResult =
  | {
      readonly kind: 'succeeded';
      readonly channelOrderNo: string;
      readonly feeMinor: bigint;
      readonly channelTime: string;
    }
  | { readonly kind: 'pending'; readonly channelOrderNo: string; readonly payerActionUrl: string | null }
  | { readonly kind: 'declined'; readonly code: string; readonly message: string; readonly channelCode: string }
  | { readonly kind: 'unknown'; readonly reason: 'timeout' | 'system_error' | 'bad_answer'; readonly detail: string }
  /** The channel closed the order unpaid. */
  | { readonly kind: 'closed'; readonly state: 'closed' | 'cancelled' };

export type ChannelPaymentCommand =
  | { readonly type: 'CreateChannelPayment'; readonly order: ChannelPaymentOrder }
  | {
      readonly type: 'AssessChannelPaymentRisk';
      readonly paymentId: string;
      readonly assessment: RiskAssessment;
      /** The challenge whose code was made for the payer, for a step_up verdict; null when none can be sent. */
      readonly challenge: ChallengeToIssue | null;
      readonly at: string;
    }
  | { readonly type: 'VerifyStepUpCode'; readonly paymentId: string; readonly codeHmac: string; readonly at: string }
  | { readonly type: 'ResendStepUpCode'; readonly paymentId: string; readonly codeHmac: string; readonly at: string }
  | { readonly type: 'ExpireStepUp'; readonly paymentId: string; readonly at: string }
  | {
      readonly type: 'RerouteChannelPayment';
      readonly paymentId: string;
      readonly routing: RoutingDecision;
      readonly at: string;
    }
  | { readonly type: 'SubmitChannelPayment'; readonly paymentId: string; readonly at: string }
  /** The channel says it has no such order (an unknown call never reached it): send it again, same order number. */
  | { readonly type: 'ResubmitChannelPayment'; readonly paymentId: string; readonly at: string }
  | {
      readonly type: 'RecordChannelResult';
      readonly paymentId: string;
      readonly result: ChannelResult;
      readonly learntBy: LearntBy;
      /** The channel's sequence of the message (callbacks); null for answers and queries. */
      readonly sequence: number | null;
      readonly at: string;
    }
  /** Nothing reached a channel (no channel, every channel unavailable): failed with our code. */
  | {
      readonly type: 'FailChannelPayment';
      readonly paymentId: string;
      readonly reasonCode: string;
      readonly reason: string;
      readonly at: string;
    }
  | { readonly type: 'CompleteChannelPayment'; readonly paymentId: string }
  | ChannelRefundCommand;

export function initialChannelPaymentState(): ChannelPaymentState {
  return { exists: false };
}

function requirePayment(state: ChannelPaymentState, paymentId: string): ExistingChannelPayment {
  if (!state.exists)
    throw new DomainError('operation_not_found', `channel payment ${paymentId} does not exist`, { paymentId });
  assert(state.order.paymentId === paymentId, 'a command names the payment of its stream');
  return state;
}

function conflict(payment: ExistingChannelPayment, reason: string): DomainError {
  return new DomainError('operation_state_conflict', `channel payment ${payment.order.paymentId}: ${reason}`, {
    paymentId: payment.order.paymentId,
    status: payment.status,
    reason,
  });
}

function failed(
  paymentId: string,
  reasonCode: string,
  reason: string,
  at: string,
  decline: { readonly code: string; readonly channelCode: string } | null = null,
  learntBy: LearntBy | null = null,
): ChannelPaymentEvent {
  return {
    type: 'ChannelPaymentFailed',
    data: {
      paymentId,
      reasonCode,
      reason,
      declineCode: decline?.code ?? null,
      channelCode: decline?.channelCode ?? null,
      learntBy,
      at,
    },
  };
}

/** The step-up decider on the payment's challenge; a challenge that fails fails the payment with it. */
function onChallenge(
  payment: ExistingChannelPayment,
  command: Parameters<typeof decideStepUp>[0],
  at: string,
): ChannelPaymentEvent[] {
  if (payment.stepUp.status === 'none') throw conflict(payment, 'no_verification_required');
  const events: ChannelPaymentEvent[] = decideStepUp(command, payment.stepUp);
  const failure = events.find((event) => event.type === 'StepUpFailed');
  if (failure && payment.status === 'awaiting_verification') {
    const code = failure.data.reason === 'expired' ? 'verification_code_expired' : 'verification_failed';
    events.push(failed(payment.order.paymentId, code, `step-up verification failed: ${failure.data.reason}`, at));
  }
  return events;
}

function decideResult(
  payment: ExistingChannelPayment,
  command: Extract<ChannelPaymentCommand, { type: 'RecordChannelResult' }>,
): ChannelPaymentEvent[] {
  const paymentId = payment.order.paymentId;
  // Late (the order is over or not yet at the channel), or older than a message already applied: no-op.
  if (!AT_CHANNEL.includes(payment.status)) return [];
  if (command.sequence !== null && payment.lastSequence !== null && command.sequence <= payment.lastSequence) return [];
  const { result, learntBy, sequence, at } = command;
  switch (result.kind) {
    case 'succeeded': {
      assert(result.feeMinor >= 0n, 'a channel fee is not negative');
      const succeeded: ChannelPaymentEvent[] = [
        {
          type: 'ChannelPaymentSucceeded',
          data: {
            paymentId,
            channel: payment.channel,
            channelOrderNo: result.channelOrderNo,
            feeMinor: result.feeMinor,
            channelTime: result.channelTime,
            learntBy,
            sequence,
            at,
          },
        },
      ];
      // A fee above the amount is the channel's anomaly, not ours to refuse: the money moved. Recorded for review.
      if (result.feeMinor > payment.order.amountMinor) succeeded.push(feeAnomaly(payment, result.feeMinor, at));
      return succeeded;
    }
    case 'pending':
      // Already pending: the same news again.
      if (payment.status === 'pending') return [];
      return [
        {
          type: 'ChannelPaymentPending',
          data: {
            paymentId,
            channelOrderNo: result.channelOrderNo,
            payerActionUrl: result.payerActionUrl,
            sequence,
            at,
          },
        },
      ];
    case 'declined':
      return [failed(paymentId, 'channel_declined', result.message, at, result, learntBy)];
    case 'unknown':
      // Only a call's outcome makes an order unknown; a pending or unknown order stays as it is.
      if (payment.status !== 'submitted') return [];
      return [{ type: 'ChannelPaymentUnknown', data: { paymentId, reason: result.reason, detail: result.detail, at } }];
    case 'closed':
      return [{ type: 'ChannelPaymentExpired', data: { paymentId, channelState: result.state, learntBy, at } }];
  }
}

function feeAnomaly(payment: ExistingChannelPayment, reportedFeeMinor: bigint, at: string): ChannelPaymentEvent {
  const candidate = payment.routing.candidates.find((c) => c.channelId === payment.channel);
  return {
    type: 'ChannelPaymentFeeAnomalyRecorded',
    data: {
      paymentId: payment.order.paymentId,
      channel: payment.channel,
      amountMinor: payment.order.amountMinor,
      currency: payment.order.currency,
      reportedFeeMinor,
      scheduledFeeMinor: candidate && candidate.standing !== 'excluded' ? candidate.feeMinor : null,
      at,
    },
  };
}

export function decideChannelPayment(
  command: ChannelPaymentCommand,
  state: ChannelPaymentState,
): ChannelPaymentEvent[] {
  if (command.type === 'CreateChannelPayment') {
    // The same merchant order number again: the process compares terms; the stream already holds the order.
    if (state.exists) return [];
    assert(command.order.amountMinor > 0n, 'a channel payment amount is positive');
    assert(command.order.routing.chosen !== null, 'a channel payment is created with a chosen channel');
    return [{ type: 'ChannelPaymentCreated', data: command.order }];
  }
  const payment = requirePayment(state, command.paymentId);
  const paymentId = payment.order.paymentId;
  if (isRefundCommand(command)) return decideChannelRefund(payment, command);
  switch (command.type) {
    case 'AssessChannelPaymentRisk': {
      if (payment.status !== 'created') return [];
      const { assessment } = command;
      const assessed: ChannelPaymentEvent = {
        type: 'ChannelPaymentRiskAssessed',
        data: { paymentId, assessment },
      };
      if (assessment.verdict === 'block') {
        const rules = assessment.fired.filter((rule) => rule.action === 'block').map((rule) => rule.ruleId);
        return [assessed, failed(paymentId, 'risk_blocked', `blocked by risk rules: ${rules.join(', ')}`, command.at)];
      }
      if (assessment.verdict !== 'step_up') return [assessed];
      // No phone to text (or no SMS gateway): a payment that must be verified cannot go on.
      if (command.challenge === null)
        return [
          assessed,
          failed(paymentId, 'verification_unavailable', 'step-up required, but no code can be sent', command.at),
        ];
      const issued = decideStepUp(
        { type: 'IssueChallenge', paymentId, ...command.challenge, at: command.at },
        initialStepUpState(),
      );
      return [assessed, ...issued];
    }
    case 'VerifyStepUpCode':
      return onChallenge(
        payment,
        { type: 'VerifyCode', challengeId: challengeIdOf(payment), codeHmac: command.codeHmac, at: command.at },
        command.at,
      );
    case 'ResendStepUpCode':
      return onChallenge(
        payment,
        { type: 'ResendCode', challengeId: challengeIdOf(payment), codeHmac: command.codeHmac, at: command.at },
        command.at,
      );
    case 'ExpireStepUp':
      if (payment.status !== 'awaiting_verification') return [];
      return onChallenge(
        payment,
        { type: 'ExpireChallenge', challengeId: challengeIdOf(payment), at: command.at },
        command.at,
      );
    case 'RerouteChannelPayment': {
      if (payment.status !== 'submitted') throw conflict(payment, 'not_at_a_channel');
      if (payment.attempts >= MAX_CHANNEL_ATTEMPTS) throw conflict(payment, 'attempts_exhausted');
      const chosen = command.routing.chosen;
      assert(chosen !== null && chosen !== payment.channel, 'a reroute chooses another channel');
      return [
        {
          type: 'ChannelPaymentRerouted',
          data: { paymentId, fromChannel: payment.channel, routing: command.routing, at: command.at },
        },
      ];
    }
    case 'SubmitChannelPayment':
      if (payment.status !== 'ready') return [];
      return [
        {
          type: 'ChannelPaymentSubmitted',
          data: { paymentId, channel: payment.channel, attempt: payment.attempts + 1, at: command.at },
        },
      ];
    case 'ResubmitChannelPayment':
      if (payment.status !== 'unknown') return [];
      return [
        {
          type: 'ChannelPaymentSubmitted',
          data: { paymentId, channel: payment.channel, attempt: payment.attempts + 1, at: command.at },
        },
      ];
    case 'RecordChannelResult':
      return decideResult(payment, command);
    case 'FailChannelPayment':
      // Only before the channel may hold the order: one it may hold is closed by the channel's word only.
      if (FINISHED_STATUSES.includes(payment.status)) return [];
      if (payment.status === 'pending' || payment.status === 'unknown' || payment.status === 'succeeded')
        throw conflict(payment, 'at_the_channel');
      return [failed(paymentId, command.reasonCode, command.reason, command.at)];
    case 'CompleteChannelPayment': {
      if (payment.status === 'completed') return [];
      if (payment.status !== 'succeeded') throw conflict(payment, 'not_succeeded');
      return [
        {
          type: 'ChannelPaymentCompleted',
          data: {
            paymentId,
            channel: payment.channel,
            channelOrderNo: payment.channelOrderNo!,
            amountMinor: payment.order.amountMinor,
            channelFeeMinor: payment.feeMinor!,
            currency: payment.order.currency,
          },
        },
      ];
    }
  }
}

function isRefundCommand(command: ChannelPaymentCommand): command is ChannelRefundCommand {
  return (CHANNEL_REFUND_COMMAND_TYPES as readonly string[]).includes(command.type);
}

function challengeIdOf(payment: ExistingChannelPayment): string {
  if (payment.stepUp.status === 'none') throw conflict(payment, 'no_verification_required');
  return payment.stepUp.challengeId;
}

function withSequence(payment: ExistingChannelPayment, sequence: number | null): number | null {
  if (sequence === null) return payment.lastSequence;
  return payment.lastSequence === null ? sequence : Math.max(payment.lastSequence, sequence);
}

export function evolveChannelPayment(state: ChannelPaymentState, event: ChannelPaymentEvent): ChannelPaymentState {
  if (event.type === 'ChannelPaymentCreated') {
    assert(!state.exists, 'a channel payment is created once');
    return {
      exists: true,
      order: event.data,
      status: 'created',
      channel: event.data.routing.chosen!,
      routing: event.data.routing,
      attempts: 0,
      verdict: null,
      stepUp: initialStepUpState(),
      channelOrderNo: null,
      payerActionUrl: null,
      feeMinor: null,
      channelTime: null,
      learntBy: null,
      failure: null,
      lastSequence: null,
      feeAnomaly: null,
      ...NO_REFUNDS,
    };
  }
  assert(state.exists, `${event.type} follows ChannelPaymentCreated`);
  const payment = state;
  switch (event.type) {
    case 'ChannelPaymentRiskAssessed': {
      const verdict = event.data.assessment.verdict;
      return {
        ...payment,
        verdict,
        status: verdict === 'block' ? 'created' : verdict === 'step_up' ? 'awaiting_verification' : 'ready',
      };
    }
    case 'StepUpChallengeIssued':
    case 'StepUpCodeResent':
    case 'StepUpCodeRejected':
    case 'StepUpFailed':
      return { ...payment, stepUp: evolveStepUp(payment.stepUp, event) };
    case 'StepUpVerified':
      return {
        ...payment,
        stepUp: evolveStepUp(payment.stepUp, event),
        status: payment.status === 'awaiting_verification' ? 'ready' : payment.status,
      };
    case 'ChannelPaymentRerouted':
      return { ...payment, channel: event.data.routing.chosen!, routing: event.data.routing, status: 'ready' };
    case 'ChannelPaymentSubmitted':
      return { ...payment, status: 'submitted', attempts: event.data.attempt };
    case 'ChannelPaymentPending':
      return {
        ...payment,
        status: 'pending',
        channelOrderNo: event.data.channelOrderNo,
        payerActionUrl: event.data.payerActionUrl,
        lastSequence: withSequence(payment, event.data.sequence),
      };
    case 'ChannelPaymentSucceeded':
      return {
        ...payment,
        status: 'succeeded',
        channelOrderNo: event.data.channelOrderNo,
        feeMinor: event.data.feeMinor,
        channelTime: event.data.channelTime,
        learntBy: event.data.learntBy,
        lastSequence: withSequence(payment, event.data.sequence),
      };
    case 'ChannelPaymentFeeAnomalyRecorded':
      return {
        ...payment,
        feeAnomaly: { reportedFeeMinor: event.data.reportedFeeMinor, scheduledFeeMinor: event.data.scheduledFeeMinor },
      };
    case 'ChannelPaymentFailed':
      return {
        ...payment,
        status: 'failed',
        learntBy: event.data.learntBy,
        failure: {
          reasonCode: event.data.reasonCode,
          reason: event.data.reason,
          declineCode: event.data.declineCode,
          channelCode: event.data.channelCode,
        },
      };
    case 'ChannelPaymentUnknown':
      return { ...payment, status: 'unknown' };
    case 'ChannelPaymentExpired':
      return { ...payment, status: 'expired', learntBy: event.data.learntBy };
    case 'ChannelPaymentCompleted':
      return { ...payment, status: 'completed' };
    case 'ChannelRefundRequested':
    case 'ChannelRefundSubmitted':
    case 'ChannelRefundPending':
    case 'ChannelRefundUnknown':
    case 'ChannelRefundFailed':
    case 'ChannelRefundReleased':
      return { ...payment, ...evolveChannelRefunds(payment, event) };
    case 'ChannelRefundSucceeded':
      return { ...payment, ...evolveChannelRefunds(payment, event) };
    case 'ChannelPaymentCancelled':
      return { ...payment, status: 'cancelled' };
  }
}

export const channelPaymentDecider = {
  decide: decideChannelPayment,
  evolve: evolveChannelPayment,
  initialState: initialChannelPaymentState,
};

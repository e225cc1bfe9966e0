import { formatAmount, type Money } from '../money/money.js';
import { DomainError, assert } from '../shared/domain-error.js';
import type { ChannelFailure, ExistingChannelPayment } from './channel-payment-decider.js';
import type { LearntBy } from './channel-payment-events.js';
import type { ChannelRefundEvent } from './channel-refund-events.js';

/**
 * The refund (and cancellation) rules of a channel payment, decided on the payment's state (its stream:
 * channel-refund-events.ts says why). The rules that keep the money exact:
 *
 * - only a completed payment is refunded; the refunds' total (those not failed) never passes the amount,
 *   so two refunds racing cannot both take the last of it (the second is decided on the first's state);
 * - a refund number is used once per payment: the same number with the same terms is a retry (nothing
 *   new), with other terms `duplicate_refund_no`;
 * - a cancellation is the whole amount, before any refund, on the payment's accounting day (judged by the
 *   command's time in the accounting time zone); afterwards it is refused `cancel_window_closed` (refund it);
 * - the channel's word applies once, and only to a refund the channel may hold (submitted, pending,
 *   unknown): a late, repeated or out-of-order result changes nothing; a pending never undoes a success;
 *   an unknown is closed only by the channel's word (a refund query or a callback);
 * - a declined refund releases what was held, once.
 */
export type RefundKind = 'refund' | 'cancellation';

export type ChannelRefundStatus = 'requested' | 'submitted' | 'pending' | 'unknown' | 'completed' | 'failed';

/** Statuses in which the channel may hold the refund: only these take a channel result. */
export const REFUND_AT_CHANNEL: readonly ChannelRefundStatus[] = ['submitted', 'pending', 'unknown'];

export interface ChannelRefundState {
  readonly refundId: string;
  readonly kind: RefundKind;
  readonly refundNo: string;
  readonly amountMinor: bigint;
  readonly reason: string;
  readonly status: ChannelRefundStatus;
  /** The merchant's account was debited for it. */
  readonly held: boolean;
  /** A failed refund's held money is back on the merchant's account. */
  readonly released: boolean;
  readonly channelRefundNo: string | null;
  readonly channelTime: string | null;
  readonly learntBy: LearntBy | null;
  readonly failure: ChannelFailure | null;
  readonly requestedAt: string;
}

/** A payment's refunds, by refund number in request order, with their totals. */
export interface ChannelRefunds {
  readonly refunds: ReadonlyMap<string, ChannelRefundState>;
  /** Refunds the channel made (succeeded). */
  readonly refundedMinor: bigint;
  /** Requested, not yet succeeded or failed: reserved against the refundable amount. */
  readonly refundsInFlightMinor: bigint;
}

export const NO_REFUNDS: ChannelRefunds = { refunds: new Map(), refundedMinor: 0n, refundsInFlightMinor: 0n };

/** What the channel said about a refund (or a cancellation), in our terms. */
export type RefundResult =
  | { readonly kind: 'succeeded'; readonly channelRefundNo: string; readonly channelTime: string }
  | { readonly kind: 'pending'; readonly channelRefundNo: string | null }
  | { readonly kind: 'declined'; readonly code: string; readonly message: string; readonly channelCode: string }
  | { readonly kind: 'unknown'; readonly reason: 'timeout' | 'system_error' | 'bad_answer'; readonly detail: string };

export type ChannelRefundCommand =
  | {
      readonly type: 'RequestChannelRefund';
      readonly paymentId: string;
      readonly refundId: string;
      readonly kind: RefundKind;
      readonly refundNo: string;
      readonly amount: Money;
      readonly reason: string;
      /** The command's accounting date (its time in the accounting time zone): a cancellation's cut-off. */
      readonly todayAccountingDate: string;
      readonly at: string;
    }
  | { readonly type: 'SubmitChannelRefund'; readonly paymentId: string; readonly refundId: string; readonly at: string }
  | {
      readonly type: 'RecordChannelRefundResult';
      readonly paymentId: string;
      readonly refundId: string;
      readonly result: RefundResult;
      readonly learntBy: LearntBy;
      readonly at: string;
    }
  /** Refused before the channel was called (the merchant's debit refused): failed, nothing held. */
  | {
      readonly type: 'FailChannelRefund';
      readonly paymentId: string;
      readonly refundId: string;
      readonly reasonCode: string;
      readonly reason: string;
      readonly at: string;
    }
  | {
      readonly type: 'ReleaseChannelRefund';
      readonly paymentId: string;
      readonly refundId: string;
      readonly at: string;
    };

export const CHANNEL_REFUND_COMMAND_TYPES: readonly ChannelRefundCommand['type'][] = [
  'RequestChannelRefund',
  'SubmitChannelRefund',
  'RecordChannelRefundResult',
  'FailChannelRefund',
  'ReleaseChannelRefund',
];

export function refundById(refunds: ChannelRefunds, refundId: string): ChannelRefundState | null {
  for (const refund of refunds.refunds.values()) if (refund.refundId === refundId) return refund;
  return null;
}

function conflict(payment: ExistingChannelPayment, reason: string): DomainError {
  return new DomainError('operation_state_conflict', `channel payment ${payment.order.paymentId}: ${reason}`, {
    paymentId: payment.order.paymentId,
    status: payment.status,
    reason,
  });
}

function requireRefund(payment: ExistingChannelPayment, refundId: string): ChannelRefundState {
  const refund = refundById(payment, refundId);
  if (!refund) throw new DomainError('operation_not_found', `refund ${refundId} does not exist`, { refundId });
  return refund;
}

function decideRequest(
  payment: ExistingChannelPayment,
  command: Extract<ChannelRefundCommand, { type: 'RequestChannelRefund' }>,
): ChannelRefundEvent[] {
  const { paymentId, refundId, refundNo, amount } = command;
  const o = payment.order;
  const existing = payment.refunds.get(refundNo);
  if (existing) {
    const retry =
      existing.refundId === refundId && existing.amountMinor === amount.amountMinor && existing.kind === command.kind;
    if (retry) return [];
    throw new DomainError('duplicate_refund_no', `refund number ${refundNo} was already used on payment ${paymentId}`, {
      refundNo,
    });
  }
  if (payment.status !== 'completed') throw conflict(payment, 'not_completed');
  if (amount.currency !== o.currency)
    throw new DomainError('currency_mismatch', `channel payment ${paymentId} was in ${o.currency}`, {
      currency: amount.currency,
    });
  assert(amount.amountMinor > 0n, 'a refund amount is positive');
  const live = [...payment.refunds.values()].filter((refund) => refund.status !== 'failed');
  if (live.some((refund) => refund.kind === 'cancellation')) throw conflict(payment, 'cancelled');
  if (command.kind === 'cancellation') {
    assert(amount.amountMinor === o.amountMinor, 'a cancellation is of the whole amount');
    // A void is for the payment's own accounting day: after its end the channel settles it; refund it instead.
    if (o.accountingDate !== command.todayAccountingDate)
      throw new DomainError(
        'cancel_window_closed',
        `channel payment ${paymentId} was made on ${o.accountingDate}; only same-day payments can be cancelled, refund it instead`,
        { paymentId },
      );
    if (live.length > 0) throw conflict(payment, 'refunded');
  }
  const refundableMinor = o.amountMinor - payment.refundedMinor - payment.refundsInFlightMinor;
  if (amount.amountMinor > refundableMinor)
    throw new DomainError(
      'refund_exceeds_payment',
      `channel payment ${paymentId} has ${formatAmount(refundableMinor, o.currency)} ${o.currency} left to refund`,
      { paymentId, refundableAmount: formatAmount(refundableMinor, o.currency), currency: o.currency },
    );
  return [
    {
      type: 'ChannelRefundRequested',
      data: {
        paymentId,
        refundId,
        kind: command.kind,
        refundNo,
        amountMinor: amount.amountMinor,
        currency: amount.currency,
        reason: command.reason,
        at: command.at,
      },
    },
  ];
}

function decideResult(
  payment: ExistingChannelPayment,
  refund: ChannelRefundState,
  command: Extract<ChannelRefundCommand, { type: 'RecordChannelRefundResult' }>,
): ChannelRefundEvent[] {
  // Late (over, or not yet at the channel) or a repeat: nothing.
  if (!REFUND_AT_CHANNEL.includes(refund.status)) return [];
  const { paymentId, refundId, result, learntBy, at } = command;
  switch (result.kind) {
    case 'succeeded': {
      const done: ChannelRefundEvent[] = [
        {
          type: 'ChannelRefundSucceeded',
          data: {
            paymentId,
            refundId,
            kind: refund.kind,
            channel: payment.channel,
            currency: payment.order.currency,
            feeReturnedMinor: refund.kind === 'cancellation' ? (payment.feeMinor ?? 0n) : 0n,
            channelRefundNo: result.channelRefundNo,
            channelTime: result.channelTime,
            learntBy,
            at,
          },
        },
      ];
      if (refund.kind === 'cancellation')
        done.push({ type: 'ChannelPaymentCancelled', data: { paymentId, refundId, at } });
      return done;
    }
    case 'pending':
      if (refund.status === 'pending') return [];
      return [
        {
          type: 'ChannelRefundPending',
          data: { paymentId, refundId, channelRefundNo: result.channelRefundNo ?? refund.channelRefundNo, at },
        },
      ];
    case 'declined':
      return [
        {
          type: 'ChannelRefundFailed',
          data: {
            paymentId,
            refundId,
            reasonCode: 'channel_declined',
            reason: result.message.slice(0, 300),
            declineCode: result.code,
            channelCode: result.channelCode,
            learntBy,
            held: refund.held,
            at,
          },
        },
      ];
    case 'unknown':
      // Only a call's outcome makes a refund unknown; one pending or unknown already stays as it is.
      if (refund.status !== 'submitted') return [];
      assert(payment.order.paymentId === paymentId, 'a refund result names its payment');
      return [
        {
          type: 'ChannelRefundUnknown',
          data: { paymentId, refundId, reason: result.reason, detail: result.detail, at },
        },
      ];
  }
}

export function decideChannelRefund(
  payment: ExistingChannelPayment,
  command: ChannelRefundCommand,
): ChannelRefundEvent[] {
  if (command.type === 'RequestChannelRefund') return decideRequest(payment, command);
  const refund = requireRefund(payment, command.refundId);
  const { paymentId, refundId, at } = command;
  switch (command.type) {
    case 'SubmitChannelRefund':
      if (refund.status !== 'requested') return [];
      return [{ type: 'ChannelRefundSubmitted', data: { paymentId, refundId, channel: payment.channel, at } }];
    case 'RecordChannelRefundResult':
      return decideResult(payment, refund, command);
    case 'FailChannelRefund':
      // Only before the channel was called: a refund it may hold is closed by its word only.
      if (refund.status === 'failed' || refund.status === 'completed') return [];
      if (refund.status !== 'requested') throw conflict(payment, 'refund_at_the_channel');
      return [
        {
          type: 'ChannelRefundFailed',
          data: {
            paymentId,
            refundId,
            reasonCode: command.reasonCode,
            reason: command.reason.slice(0, 300),
            declineCode: null,
            channelCode: null,
            learntBy: null,
            held: false,
            at,
          },
        },
      ];
    case 'ReleaseChannelRefund':
      if (refund.status !== 'failed' || !refund.held || refund.released) return [];
      return [{ type: 'ChannelRefundReleased', data: { paymentId, refundId, at } }];
  }
}

function keepAll(payment: ChannelRefunds): ChannelRefunds {
  const { refunds, refundedMinor, refundsInFlightMinor } = payment;
  return { refunds, refundedMinor, refundsInFlightMinor };
}

function withRefund(refunds: ChannelRefunds, refund: ChannelRefundState): ReadonlyMap<string, ChannelRefundState> {
  return new Map(refunds.refunds).set(refund.refundNo, refund);
}

/** The payment's refunds after one of their events. */
export function evolveChannelRefunds(payment: ExistingChannelPayment, event: ChannelRefundEvent): ChannelRefunds {
  if (event.type === 'ChannelRefundRequested') {
    const d = event.data;
    const refund: ChannelRefundState = {
      refundId: d.refundId,
      kind: d.kind,
      refundNo: d.refundNo,
      amountMinor: d.amountMinor,
      reason: d.reason,
      status: 'requested',
      held: false,
      released: false,
      channelRefundNo: null,
      channelTime: null,
      learntBy: null,
      failure: null,
      requestedAt: d.at,
    };
    const next = {
      refunds: withRefund(payment, refund),
      refundedMinor: payment.refundedMinor,
      refundsInFlightMinor: payment.refundsInFlightMinor + d.amountMinor,
    };
    assert(
      next.refundedMinor + next.refundsInFlightMinor <= payment.order.amountMinor,
      'refunded never exceeds paid (invariant 5)',
    );
    return next;
  }
  const refund = refundById(payment, event.data.refundId);
  assert(refund !== null, `${event.type} follows its ChannelRefundRequested`);
  const keep = { refundedMinor: payment.refundedMinor, refundsInFlightMinor: payment.refundsInFlightMinor };
  const as = (changed: Partial<ChannelRefundState>, totals = keep): ChannelRefunds => ({
    refunds: withRefund(payment, { ...refund, ...changed }),
    ...totals,
  });
  switch (event.type) {
    case 'ChannelRefundSubmitted':
      return as({ status: 'submitted', held: true });
    case 'ChannelRefundPending':
      return as({ status: 'pending', channelRefundNo: event.data.channelRefundNo });
    case 'ChannelRefundUnknown':
      return as({ status: 'unknown' });
    case 'ChannelRefundSucceeded':
      return as(
        {
          status: 'completed',
          channelRefundNo: event.data.channelRefundNo,
          channelTime: event.data.channelTime,
          learntBy: event.data.learntBy,
        },
        {
          refundedMinor: payment.refundedMinor + refund.amountMinor,
          refundsInFlightMinor: payment.refundsInFlightMinor - refund.amountMinor,
        },
      );
    case 'ChannelRefundFailed':
      return as(
        {
          status: 'failed',
          held: event.data.held,
          learntBy: event.data.learntBy,
          failure: {
            reasonCode: event.data.reasonCode,
            reason: event.data.reason,
            declineCode: event.data.declineCode,
            channelCode: event.data.channelCode,
          },
        },
        {
          refundedMinor: payment.refundedMinor,
          refundsInFlightMinor: payment.refundsInFlightMinor - refund.amountMinor,
        },
      );
    case 'ChannelRefundReleased':
      return as({ released: true });
    case 'ChannelPaymentCancelled':
      return keepAll(payment);
  }
}

import type { CurrencyCode } from '../money/currency.js';
import { assert } from '../shared/domain-error.js';
import type { PaymentEvent, PaymentInitiated } from './payment-events.js';

export type PaymentStatus = 'initiated' | 'completed' | 'failed' | 'cancelling' | 'cancelled';

export interface RefundState {
  readonly refundId: string;
  readonly refundNo: string;
  readonly amountMinor: bigint;
  readonly status: 'requested' | 'completed' | 'failed';
}

export interface ExistingPayment {
  readonly exists: true;
  readonly order: PaymentInitiated['data'];
  readonly currency: CurrencyCode;
  readonly status: PaymentStatus;
  readonly failure: { readonly reasonCode: string; readonly reason: string } | null;
  /** The cancellation attempt in progress (or the last one), if any. */
  readonly cancellationId: string | null;
  /** Refunds by refund number, in request order. */
  readonly refunds: ReadonlyMap<string, RefundState>;
  readonly refundedMinor: bigint;
  /** Requested but not yet completed or failed: reserved against the refundable amount. */
  readonly refundsInFlightMinor: bigint;
}

export type PaymentState = { readonly exists: false } | ExistingPayment;

export function initialPaymentState(): PaymentState {
  return { exists: false };
}

function requireExisting(state: PaymentState): ExistingPayment {
  assert(state.exists, 'a payment event follows PaymentInitiated');
  return state;
}

function refundById(state: ExistingPayment, refundId: string): RefundState {
  const refund = [...state.refunds.values()].find((r) => r.refundId === refundId);
  assert(refund !== undefined && refund.status === 'requested', 'a refund outcome follows its request');
  return refund;
}

function withRefund(state: ExistingPayment, refund: RefundState): ReadonlyMap<string, RefundState> {
  return new Map(state.refunds).set(refund.refundNo, refund);
}

export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentInitiated':
      assert(!state.exists, 'a payment is initiated once');
      return {
        exists: true,
        order: event.data,
        currency: event.data.currency,
        status: 'initiated',
        failure: null,
        cancellationId: null,
        refunds: new Map(),
        refundedMinor: 0n,
        refundsInFlightMinor: 0n,
      };
    case 'PaymentCompleted':
      return { ...requireExisting(state), status: 'completed' };
    case 'PaymentFailed':
      return {
        ...requireExisting(state),
        status: 'failed',
        failure: { reasonCode: event.data.reasonCode, reason: event.data.reason },
      };
    case 'PaymentCancellationRequested':
      return { ...requireExisting(state), status: 'cancelling', cancellationId: event.data.cancellationId };
    case 'PaymentCancelled':
      return { ...requireExisting(state), status: 'cancelled' };
    case 'PaymentCancellationFailed':
      return { ...requireExisting(state), status: 'completed' };
    case 'RefundRequested': {
      const payment = requireExisting(state);
      const refund: RefundState = {
        refundId: event.data.refundId,
        refundNo: event.data.refundNo,
        amountMinor: event.data.amountMinor,
        status: 'requested',
      };
      const next = {
        ...payment,
        refunds: withRefund(payment, refund),
        refundsInFlightMinor: payment.refundsInFlightMinor + event.data.amountMinor,
      };
      assert(
        next.refundedMinor + next.refundsInFlightMinor <= payment.order.amountMinor,
        'refunded never exceeds paid (invariant 5)',
      );
      return next;
    }
    case 'RefundCompleted': {
      const payment = requireExisting(state);
      const refund = refundById(payment, event.data.refundId);
      return {
        ...payment,
        refunds: withRefund(payment, { ...refund, status: 'completed' }),
        refundsInFlightMinor: payment.refundsInFlightMinor - refund.amountMinor,
        refundedMinor: payment.refundedMinor + refund.amountMinor,
      };
    }
    case 'RefundFailed': {
      const payment = requireExisting(state);
      const refund = refundById(payment, event.data.refundId);
      return {
        ...payment,
        refunds: withRefund(payment, { ...refund, status: 'failed' }),
        refundsInFlightMinor: payment.refundsInFlightMinor - refund.amountMinor,
      };
    }
  }
}

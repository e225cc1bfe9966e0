import type { Money } from '../money/money.js';
import { DomainError } from '../shared/domain-error.js';
import type { PaymentEvent, PaymentInitiated } from './payment-events.js';
import { evolvePayment, initialPaymentState, type ExistingPayment, type PaymentState } from './payment-state.js';
import { formatAmount } from '../money/money.js';

export type PaymentCommand =
  | { readonly type: 'InitiatePayment'; readonly order: PaymentInitiated['data'] }
  | { readonly type: 'CompletePayment'; readonly paymentId: string }
  | { readonly type: 'FailPayment'; readonly paymentId: string; readonly reasonCode: string; readonly reason: string }
  | {
      readonly type: 'RequestCancellation';
      readonly paymentId: string;
      readonly cancellationId: string;
      readonly reason: string;
      readonly todayAccountingDate: string;
    }
  | { readonly type: 'CompleteCancellation'; readonly paymentId: string }
  | {
      readonly type: 'FailCancellation';
      readonly paymentId: string;
      readonly reasonCode: string;
      readonly reason: string;
    }
  | {
      readonly type: 'RequestRefund';
      readonly paymentId: string;
      readonly refundId: string;
      readonly refundNo: string;
      readonly amount: Money;
      readonly reason: string;
    }
  | { readonly type: 'CompleteRefund'; readonly paymentId: string; readonly refundId: string }
  | {
      readonly type: 'FailRefund';
      readonly paymentId: string;
      readonly refundId: string;
      readonly reasonCode: string;
      readonly reason: string;
    };

/** What makes two requests for the same order number the same order (a retry, not a conflict). */
function sameOrder(a: PaymentInitiated['data'], b: PaymentInitiated['data']): boolean {
  return (
    a.merchantId === b.merchantId &&
    a.merchantOrderNo === b.merchantOrderNo &&
    a.payerAccountId === b.payerAccountId &&
    a.payeeAccountId === b.payeeAccountId &&
    a.amountMinor === b.amountMinor &&
    a.currency === b.currency
  );
}

function requirePayment(state: PaymentState, paymentId: string): ExistingPayment {
  if (!state.exists) throw new DomainError('operation_not_found', `payment ${paymentId} does not exist`, { paymentId });
  return state;
}

function conflict(payment: ExistingPayment, wanted: string): DomainError {
  return new DomainError(
    'operation_state_conflict',
    `payment ${payment.order.paymentId} is ${payment.status}; cannot ${wanted}`,
    {
      paymentId: payment.order.paymentId,
      status: payment.status,
    },
  );
}

export function decidePayment(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'InitiatePayment': {
      if (state.exists) {
        if (sameOrder(state.order, command.order)) return []; // a retry of the same order
        throw new DomainError(
          'duplicate_order_no',
          `merchant order number ${command.order.merchantOrderNo} was already used for another payment`,
          {
            merchantOrderNo: command.order.merchantOrderNo,
          },
        );
      }
      if (command.order.payerAccountId === command.order.payeeAccountId) {
        throw new DomainError('same_account', 'a payment needs two different accounts');
      }
      return [{ type: 'PaymentInitiated', data: command.order }];
    }
    case 'CompletePayment': {
      const payment = requirePayment(state, command.paymentId);
      if (payment.status === 'completed') return [];
      if (payment.status !== 'initiated') throw conflict(payment, 'complete it');
      return [{ type: 'PaymentCompleted', data: { paymentId: command.paymentId } }];
    }
    case 'FailPayment': {
      const payment = requirePayment(state, command.paymentId);
      if (payment.status === 'failed') return [];
      if (payment.status !== 'initiated') throw conflict(payment, 'fail it');
      return [
        {
          type: 'PaymentFailed',
          data: { paymentId: command.paymentId, reasonCode: command.reasonCode, reason: command.reason },
        },
      ];
    }
    case 'RequestCancellation': {
      const payment = requirePayment(state, command.paymentId);
      if (payment.status === 'cancelling' || payment.status === 'cancelled') return [];
      if (payment.status !== 'completed') throw conflict(payment, 'cancel it');
      // Cancel (void) is for today's unsettled payments; after the day's cut-off only a refund returns money.
      if (payment.order.accountingDate !== command.todayAccountingDate) {
        throw new DomainError(
          'cancel_window_closed',
          `payment ${command.paymentId} was made on ${payment.order.accountingDate}; only same-day payments can be cancelled, refund it instead`,
          {
            paymentId: command.paymentId,
          },
        );
      }
      if (payment.refunds.size > 0) throw conflict(payment, 'cancel it after refunds');
      return [
        {
          type: 'PaymentCancellationRequested',
          data: { paymentId: command.paymentId, cancellationId: command.cancellationId, reason: command.reason },
        },
      ];
    }
    case 'CompleteCancellation': {
      const payment = requirePayment(state, command.paymentId);
      if (payment.status === 'cancelled') return [];
      if (payment.status !== 'cancelling') throw conflict(payment, 'complete a cancellation');
      return [{ type: 'PaymentCancelled', data: { paymentId: command.paymentId } }];
    }
    case 'FailCancellation': {
      const payment = requirePayment(state, command.paymentId);
      if (payment.status !== 'cancelling') throw conflict(payment, 'fail a cancellation');
      return [
        {
          type: 'PaymentCancellationFailed',
          data: { paymentId: command.paymentId, reasonCode: command.reasonCode, reason: command.reason },
        },
      ];
    }
    case 'RequestRefund': {
      const payment = requirePayment(state, command.paymentId);
      const existing = payment.refunds.get(command.refundNo);
      if (existing) {
        if (existing.refundId === command.refundId && existing.amountMinor === command.amount.amountMinor) return []; // a retry
        throw new DomainError(
          'duplicate_refund_no',
          `refund number ${command.refundNo} was already used on payment ${command.paymentId}`,
          { refundNo: command.refundNo },
        );
      }
      if (payment.status !== 'completed') throw conflict(payment, 'refund it');
      if (command.amount.currency !== payment.currency) {
        throw new DomainError('currency_mismatch', `payment ${command.paymentId} was in ${payment.currency}`, {
          currency: command.amount.currency,
        });
      }
      const refundableMinor = payment.order.amountMinor - payment.refundedMinor - payment.refundsInFlightMinor;
      if (command.amount.amountMinor > refundableMinor) {
        throw new DomainError(
          'refund_exceeds_payment',
          `payment ${command.paymentId} has ${formatAmount(refundableMinor, payment.order.currency)} ${payment.order.currency} left to refund`,
          {
            paymentId: command.paymentId,
            refundableAmount: formatAmount(refundableMinor, payment.order.currency),
            currency: payment.order.currency,
          },
        );
      }
      return [
        {
          type: 'RefundRequested',
          data: {
            paymentId: command.paymentId,
            refundId: command.refundId,
            refundNo: command.refundNo,
            amountMinor: command.amount.amountMinor,
            currency: command.amount.currency,
            reason: command.reason,
          },
        },
      ];
    }
    case 'CompleteRefund':
    case 'FailRefund': {
      const payment = requirePayment(state, command.paymentId);
      const refund = [...payment.refunds.values()].find((r) => r.refundId === command.refundId);
      if (!refund)
        throw new DomainError('operation_not_found', `refund ${command.refundId} does not exist`, {
          refundId: command.refundId,
        });
      if (refund.status !== 'requested') return [];
      return command.type === 'CompleteRefund'
        ? [{ type: 'RefundCompleted', data: { paymentId: command.paymentId, refundId: command.refundId } }]
        : [
            {
              type: 'RefundFailed',
              data: {
                paymentId: command.paymentId,
                refundId: command.refundId,
                reasonCode: command.reasonCode,
                reason: command.reason,
              },
            },
          ];
    }
  }
}

export const paymentDecider = { decide: decidePayment, evolve: evolvePayment, initialState: initialPaymentState };

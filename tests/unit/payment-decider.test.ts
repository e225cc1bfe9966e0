import { describe, it } from 'vitest';
import { paymentDecider, type PaymentCommand } from '../../src/domain/payments/payment-decider.js';
import type { PaymentEvent, PaymentInitiated } from '../../src/domain/payments/payment-events.js';
import type { PaymentState } from '../../src/domain/payments/payment-state.js';
import { parseAmount, parseCurrency } from '../../src/domain/money/money.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification<PaymentCommand, PaymentEvent, PaymentState>(paymentDecider);
const CNY = parseCurrency('CNY');
const paymentId = '0190a0a0-0000-7000-8000-0000000000aa';
const cancellationId = '0190a0a0-0000-7000-8000-0000000000ab';
const refundId = (n: number) => `0190a0a0-0000-7000-8000-00000000010${n}`;
const party = { accountId: null, ownerId: null, name: null, channel: null, ip: null, platform: null };

const order: PaymentInitiated['data'] = {
  paymentId,
  merchantId: 'm-1',
  merchantOrderNo: 'SO-1',
  description: 'coffee',
  payerAccountId: '1010000000000018',
  payeeAccountId: '2010000000000014',
  amountMinor: 3_000n,
  currency: CNY,
  payer: party,
  payee: party,
  initiatedAt: '2026-11-21T02:00:00.000Z',
  accountingDate: '2026-11-21',
};
const initiated: PaymentEvent = { type: 'PaymentInitiated', data: order };
const completed: PaymentEvent = { type: 'PaymentCompleted', data: { paymentId } };
const refund = (n: number, amount: string): PaymentCommand => ({
  type: 'RequestRefund',
  paymentId,
  refundId: refundId(n),
  refundNo: `RF-${n}`,
  amount: parseAmount(amount, CNY),
  reason: '',
});
const refundRequested = (n: number, amountMinor: bigint): PaymentEvent => ({
  type: 'RefundRequested',
  data: { paymentId, refundId: refundId(n), refundNo: `RF-${n}`, amountMinor, currency: CNY, reason: '' },
});

describe('a payment order', () => {
  it('given no payment, when initiated, then the order is recorded', () => {
    spec.given([]).when({ type: 'InitiatePayment', order }).then([initiated]);
  });
  it('given an order, when the same order is initiated again, then nothing new is recorded (a retry)', () => {
    spec.given([initiated]).when({ type: 'InitiatePayment', order }).then([]);
  });
  it('given an order, when its number is used for other terms, then it is refused', () => {
    spec
      .given([initiated])
      .when({ type: 'InitiatePayment', order: { ...order, amountMinor: 1n } })
      .thenRefuses('duplicate_order_no');
  });
  it('given no payment, when payer and payee are the same account, then it is refused', () => {
    spec
      .given([])
      .when({ type: 'InitiatePayment', order: { ...order, payeeAccountId: order.payerAccountId } })
      .thenRefuses('same_account');
  });
  it('given a failed payment, when completed, then it is refused', () => {
    spec
      .given([initiated, { type: 'PaymentFailed', data: { paymentId, reasonCode: 'insufficient_funds', reason: '' } }])
      .when({ type: 'CompletePayment', paymentId })
      .thenRefuses('operation_state_conflict');
  });
});

describe('cancelling a payment', () => {
  it('given a completed payment today, when cancelled, then the cancellation is requested', () => {
    spec
      .given([initiated, completed])
      .when({ type: 'RequestCancellation', paymentId, cancellationId, reason: 'r', todayAccountingDate: '2026-11-21' })
      .then([{ type: 'PaymentCancellationRequested', data: { paymentId, cancellationId, reason: 'r' } }]);
  });
  it('given a payment of an earlier accounting day, when cancelled, then it is refused: refund instead', () => {
    spec
      .given([initiated, completed])
      .when({ type: 'RequestCancellation', paymentId, cancellationId, reason: '', todayAccountingDate: '2026-11-22' })
      .thenRefuses('cancel_window_closed');
  });
  it('given a refunded payment, when cancelled, then it is refused', () => {
    spec
      .given([initiated, completed, refundRequested(1, 100n)])
      .when({ type: 'RequestCancellation', paymentId, cancellationId, reason: '', todayAccountingDate: '2026-11-21' })
      .thenRefuses('operation_state_conflict');
  });
});

describe('refunding a payment', () => {
  it('given a completed payment, when refunded in part, then the refund is requested', () => {
    spec
      .given([initiated, completed])
      .when(refund(1, '10.00'))
      .then([refundRequested(1, 1_000n)]);
  });
  it('given refunds in flight and done, when a refund would exceed what was paid, then it is refused', () => {
    spec
      .given([
        initiated,
        completed,
        refundRequested(1, 1_000n),
        { type: 'RefundCompleted', data: { paymentId, refundId: refundId(1) } },
        refundRequested(2, 1_500n),
      ])
      .when(refund(3, '5.01'))
      .thenRefuses('refund_exceeds_payment', { refundableAmount: '5.00', currency: 'CNY' });
  });
  it('given a failed refund, when refunded again, then its amount is refundable again', () => {
    spec
      .given([
        initiated,
        completed,
        refundRequested(1, 3_000n),
        {
          type: 'RefundFailed',
          data: { paymentId, refundId: refundId(1), reasonCode: 'insufficient_funds', reason: '' },
        },
      ])
      .when(refund(2, '30.00'))
      .then([refundRequested(2, 3_000n)]);
  });
  it('given a refund number in use, when reused for another amount, then it is refused', () => {
    spec
      .given([initiated, completed, refundRequested(1, 1_000n)])
      .when({ ...refund(1, '2.00') })
      .thenRefuses('duplicate_refund_no');
  });
  it('given an initiated payment, when refunded, then it is refused', () => {
    spec.given([initiated]).when(refund(1, '1.00')).thenRefuses('operation_state_conflict');
  });
});

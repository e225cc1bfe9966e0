import type { Money } from '../../domain/money/money.js';
import type { ExistingPayment } from '../../domain/payments/payment-state.js';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  maxPosition,
  moveBetweenAccounts,
  resumptionOf,
  stepContext,
  stripParty,
  type MoveOutcome,
} from '../operations/operation-steps.js';
import { paymentStreamId, type PaymentDeps, type PaymentOutcome } from './payment-operations.js';

/**
 * Money back to the payer: a cancellation (void: same accounting day, before settlement, the whole
 * amount) or a refund (any time after completion, partial, several, never above what was paid).
 * Both are: reserve on the payment stream -> debit payee -> credit payer -> confirm. A payer credit refused
 * after the payee debit is compensated by crediting the payee back.
 */
export async function cancelPayment(
  deps: PaymentDeps,
  paymentId: string,
  reason: string,
  context: CommandContext,
): Promise<PaymentOutcome> {
  const streamId = paymentStreamId(paymentId);
  // A cancellation in progress is resumed under its own id; a new one (also after a failed one) gets a
  // new id, so its steps never collide with an earlier attempt's.
  const current = await deps.payments.load(streamId);
  const inProgress =
    current.state.exists && current.state.status === 'cancelling' ? current.state.cancellationId : null;
  const cancellationId = inProgress ?? deriveId(context.operationKey, 'cancellation');
  const requested = await deps.payments.handle(
    streamId,
    {
      type: 'RequestCancellation',
      paymentId,
      cancellationId,
      reason,
      todayAccountingDate: accountingDate(context.occurredAt, deps.accountingTimeZone),
    },
    stepContext(context, cancellationId, 'request'),
  );
  const payment = requested.state as ExistingPayment;
  if (payment.status !== 'cancelling' || payment.cancellationId !== cancellationId)
    return { payment, position: requested.position };
  const resuming = requested.events.length === 0;
  const amount = { amountMinor: payment.order.amountMinor, currency: payment.order.currency };
  const moved = await returnMoney(
    deps,
    payment,
    amount,
    'payment_cancellation',
    cancellationId,
    `cancellation of ${payment.order.merchantOrderNo}`,
    context,
    resuming,
  );
  const outcome = moved.ok
    ? await deps.payments.handle(
        streamId,
        { type: 'CompleteCancellation', paymentId },
        stepContext(context, cancellationId, 'complete'),
      )
    : await deps.payments.handle(
        streamId,
        { type: 'FailCancellation', paymentId, reasonCode: moved.error.code, reason: moved.error.message },
        stepContext(context, cancellationId, 'fail'),
      );
  if (!moved.ok) throw moved.error;
  return {
    payment: outcome.state as ExistingPayment,
    position: maxPosition(requested.position, moved.position, outcome.position),
  };
}

export interface RefundRequest {
  readonly paymentId: string;
  readonly refundNo: string;
  readonly amount: Money;
  readonly reason: string;
}

export async function refundPayment(
  deps: PaymentDeps,
  request: RefundRequest,
  context: CommandContext,
): Promise<PaymentOutcome & { refundId: string }> {
  const { paymentId } = request;
  const streamId = paymentStreamId(paymentId);
  const refundId = deriveId(`${paymentId}\u0000${request.refundNo}`, 'refund');
  const requested = await deps.payments.handle(
    streamId,
    {
      type: 'RequestRefund',
      paymentId,
      refundId,
      refundNo: request.refundNo,
      amount: request.amount,
      reason: request.reason,
    },
    stepContext(context, refundId, 'refund-request'),
  );
  const payment = requested.state as ExistingPayment;
  const refund = payment.refunds.get(request.refundNo)!;
  if (refund.status !== 'requested') return { payment, position: requested.position, refundId };
  const resuming = requested.events.length === 0;
  const moved = await returnMoney(
    deps,
    payment,
    request.amount,
    'refund',
    refundId,
    request.reason || `refund ${request.refundNo} of ${payment.order.merchantOrderNo}`,
    context,
    resuming,
  );
  const outcome = moved.ok
    ? await deps.payments.handle(
        streamId,
        { type: 'CompleteRefund', paymentId, refundId },
        stepContext(context, refundId, 'refund-complete'),
      )
    : await deps.payments.handle(
        streamId,
        { type: 'FailRefund', paymentId, refundId, reasonCode: moved.error.code, reason: moved.error.message },
        stepContext(context, refundId, 'refund-fail'),
      );
  if (!moved.ok) throw moved.error;
  return {
    payment: outcome.state as ExistingPayment,
    position: maxPosition(requested.position, moved.position, outcome.position),
    refundId,
  };
}

/** Payee back to payer: the payment's movement in reverse, compensated if the payer cannot take it. */
function returnMoney(
  deps: PaymentDeps,
  payment: ExistingPayment,
  amount: Money,
  kind: 'refund' | 'payment_cancellation',
  operationKey: string,
  memo: string,
  context: CommandContext,
  resuming: boolean,
): Promise<MoveOutcome> {
  const { order } = payment;
  const operationId = kind === 'refund' ? operationKey : order.paymentId;
  return moveBetweenAccounts(
    deps,
    {
      fromAccountId: order.payeeAccountId,
      toAccountId: order.payerAccountId,
      fromParty: stripParty(order.payee),
      toParty: stripParty(order.payer),
      movement: { amount, kind, operationId, merchantOrderNo: order.merchantOrderNo, memo },
      reversalKind: 'payment_reversal',
    },
    context,
    operationKey,
    resumptionOf(resuming, paymentStreamId(order.paymentId)),
  );
}

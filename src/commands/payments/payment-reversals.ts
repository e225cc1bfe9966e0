import type { Movement } from '../../domain/accounts/movements.js';
import type { Money } from '../../domain/money/money.js';
import type { ExistingPayment } from '../../domain/payments/payment-state.js';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import { assert } from '../../domain/shared/domain-error.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  OneCommitUnsuitableError,
  decidedOrLeftToProcess,
  type OneCommitDecisions,
  type TrackedStream,
} from '../one-commit.js';
import {
  decideDebitAndCredit,
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
    requestCancellation(deps, paymentId, cancellationId, reason, context),
    stepContext(context, cancellationId, 'request'),
  );
  const payment = requested.state as ExistingPayment;
  if (payment.status !== 'cancelling' || payment.cancellationId !== cancellationId)
    return { payment, position: requested.position };
  const resuming = requested.events.length === 0;
  const { amount, memo } = cancellationMovement(payment);
  const moved = await returnMoney(
    deps,
    payment,
    amount,
    'payment_cancellation',
    cancellationId,
    memo,
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

function requestCancellation(
  deps: PaymentDeps,
  paymentId: string,
  cancellationId: string,
  reason: string,
  context: CommandContext,
) {
  return {
    type: 'RequestCancellation' as const,
    paymentId,
    cancellationId,
    reason,
    todayAccountingDate: accountingDate(context.occurredAt, deps.accountingTimeZone),
  };
}

/** The cancellation's movement from payee to payer, as `returnMoney` makes it for the process. */
function cancellationMovement(payment: ExistingPayment) {
  const { order } = payment;
  return {
    amount: { amountMinor: order.amountMinor, currency: order.currency },
    kind: 'payment_cancellation' as const,
    operationId: order.paymentId,
    merchantOrderNo: order.merchantOrderNo,
    memo: `cancellation of ${order.merchantOrderNo}`,
  };
}

/**
 * A new cancellation decided whole, for one commit (src/commands/one-commit.ts): the same commands, checks
 * and derived event ids as `cancelPayment` and `returnMoney`, decided on the loaded states:
 * PaymentCancellationRequested, the payee's debit, the payer's credit, PaymentCancelled. `payment` is the
 * payment as the caller just loaded it (its two accounts never change). A refusal of the request (not the
 * same day, refunded, not completed) throws before anything is kept; a cancellation begun or done already,
 * or a debit or credit the accounts would refuse (the process records the failed cancellation), is the
 * process's to answer.
 */
export function cancelInOneCommit(
  deps: PaymentDeps,
  paymentId: string,
  reason: string,
  context: CommandContext,
  payment: ExistingPayment,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => ExistingPayment;
} {
  assert(payment.order.paymentId === paymentId, 'the loaded payment is the one cancelled');
  const streamId = paymentStreamId(paymentId);
  const cancellationId = deriveId(context.operationKey, 'cancellation');
  const streams = [
    { handler: deps.payments, streamId },
    { handler: deps.accounts, streamId: accountStreamId(payment.order.payeeAccountId) },
    { handler: deps.accounts, streamId: accountStreamId(payment.order.payerAccountId) },
  ];
  const decide = (decisions: OneCommitDecisions): ExistingPayment => {
    const current = decisions.state(deps.payments, streamId);
    if (current.exists && (current.status === 'cancelling' || current.status === 'cancelled'))
      throw new OneCommitUnsuitableError(`the payment is ${current.status}`);
    const requested = decisions.decide(
      deps.payments,
      streamId,
      requestCancellation(deps, paymentId, cancellationId, reason, context),
      stepContext(context, cancellationId, 'request'),
    );
    const cancelling = requested.state;
    assert(cancelling.exists, 'a cancellation is of an existing payment');
    decideMoneyBack(deps, decisions, cancelling, cancellationMovement(cancelling), context, cancellationId);
    const completed = decisions.decide(
      deps.payments,
      streamId,
      { type: 'CompleteCancellation', paymentId },
      stepContext(context, cancellationId, 'complete'),
    );
    assert(completed.state.exists, 'a cancelled payment exists');
    return completed.state;
  };
  return { streams, positionStream: streamId, decide };
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
  const refundId = refundIdOf(request);
  const requested = await deps.payments.handle(
    streamId,
    requestRefund(request, refundId),
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

function requestRefund(request: RefundRequest, refundId: string) {
  const { paymentId, refundNo, amount, reason } = request;
  return { type: 'RequestRefund' as const, paymentId, refundId, refundNo, amount, reason };
}

function refundIdOf(request: RefundRequest): string {
  return deriveId(`${request.paymentId}\u0000${request.refundNo}`, 'refund');
}

/** The refund's movement from payee to payer, as `returnMoney` makes it for the process. */
function refundMovement(payment: ExistingPayment, request: RefundRequest, refundId: string) {
  const { order } = payment;
  const memo = request.reason || `refund ${request.refundNo} of ${order.merchantOrderNo}`;
  return {
    amount: request.amount,
    kind: 'refund' as const,
    operationId: refundId,
    merchantOrderNo: order.merchantOrderNo,
    memo,
  };
}

/**
 * A new refund decided whole, for one commit (src/commands/one-commit.ts): the same commands, checks and
 * derived event ids as `refundPayment` and `returnMoney`, decided on the loaded states: RefundRequested,
 * the payee's debit, the payer's credit, RefundCompleted. `payment` is the payment as the caller just
 * loaded it (its two accounts never change). A refusal of the request throws before anything is kept; a
 * refund number used before (a retry) or a debit or credit the accounts would refuse (the process records
 * the failed refund, or compensates) is the process's to answer.
 */
export function refundInOneCommit(
  deps: PaymentDeps,
  request: RefundRequest,
  context: CommandContext,
  payment: ExistingPayment,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => { payment: ExistingPayment; refundId: string };
} {
  const { paymentId } = request;
  assert(payment.order.paymentId === paymentId, 'the loaded payment is the one refunded');
  const streamId = paymentStreamId(paymentId);
  const refundId = refundIdOf(request);
  const [payeeStream, payerStream] = [
    accountStreamId(payment.order.payeeAccountId),
    accountStreamId(payment.order.payerAccountId),
  ];
  const streams = [
    { handler: deps.payments, streamId },
    { handler: deps.accounts, streamId: payeeStream },
    { handler: deps.accounts, streamId: payerStream },
  ];
  const decide = (decisions: OneCommitDecisions) => {
    const current = decisions.state(deps.payments, streamId);
    if (current.exists && current.refunds.has(request.refundNo))
      throw new OneCommitUnsuitableError('the refund number was used before');
    const requested = decisions.decide(
      deps.payments,
      streamId,
      requestRefund(request, refundId),
      stepContext(context, refundId, 'refund-request'),
    );
    assert(requested.state.exists, 'a requested refund is of an existing payment');
    decideMoneyBack(
      deps,
      decisions,
      requested.state,
      refundMovement(requested.state, request, refundId),
      context,
      refundId,
    );
    const completed = decisions.decide(
      deps.payments,
      streamId,
      { type: 'CompleteRefund', paymentId, refundId },
      stepContext(context, refundId, 'refund-complete'),
    );
    assert(completed.state.exists, 'a completed refund is of an existing payment');
    return { payment: completed.state, refundId };
  };
  return { streams, positionStream: streamId, decide };
}

/**
 * `returnMoney`'s debit of the payee and credit of the payer, decided in one commit. A refusal is the
 * process's to answer: it records the failed refund or cancellation (and a compensation), on the stored states.
 */
function decideMoneyBack(
  deps: PaymentDeps,
  decisions: OneCommitDecisions,
  payment: ExistingPayment,
  movement: Omit<Movement, 'accountId' | 'counterparty'>,
  context: CommandContext,
  operationKey: string,
): void {
  const { order } = payment;
  decidedOrLeftToProcess(`the ${movement.kind}`, () =>
    decideDebitAndCredit(
      deps,
      decisions,
      {
        fromAccountId: order.payeeAccountId,
        toAccountId: order.payerAccountId,
        fromParty: stripParty(order.payee),
        toParty: stripParty(order.payer),
        movement,
      },
      context,
      operationKey,
    ),
  );
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

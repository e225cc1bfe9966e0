import { decideCredit, decideDebit, type Movement } from '../../domain/accounts/movements.js';
import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import type { Money } from '../../domain/money/money.js';
import type { PaymentCommand } from '../../domain/payments/payment-decider.js';
import type { PaymentEvent, PartySnapshot } from '../../domain/payments/payment-events.js';
import type { ExistingPayment, PaymentState } from '../../domain/payments/payment-state.js';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import { deriveId, type CommandContext } from '../command-context.js';
import type { StreamCommandHandler } from '../stream-command-handler.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { OneCommitUnsuitableError, type OneCommitDecisions, type TrackedStream } from '../one-commit.js';
import {
  decideDebitAndCredit,
  chargeParties,
  maxPosition,
  requireExisting,
  moveBetweenAccounts,
  resumptionOf,
  snapshotOf,
  stepContext,
  stripParty,
  type OperationDeps,
} from '../operations/operation-steps.js';

export type PaymentHandler = StreamCommandHandler<PaymentCommand, PaymentEvent, PaymentState>;

export interface PaymentDeps extends OperationDeps {
  readonly payments: PaymentHandler;
  readonly accountingTimeZone: string;
}

export function paymentStreamId(paymentId: string): string {
  return `payment-${paymentId}`;
}

/** A merchant's order number pays once: the payment id is derived from merchant and order number. */
export function paymentIdOf(merchantId: string, merchantOrderNo: string): string {
  return deriveId(`${merchantId}\u0000${merchantOrderNo}`, 'payment');
}

export interface PayRequest {
  readonly merchantId: string;
  readonly merchantOrderNo: string;
  readonly description: string;
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: Money;
  readonly payerIp: string | null;
  readonly payerPlatform: string | null;
}

/**
 * The two accounts as the caller has just loaded them for its own checks (consent, ownership): the payment
 * checks on them instead of loading each again. Only the up-front check uses them; the debit and the
 * credit are decided on the accounts' current state, so a change in between is still seen there.
 */
export interface PaymentParties {
  readonly payer: OpenAccountState;
  readonly payee: OpenAccountState;
}

export interface PaymentOutcome {
  readonly payment: ExistingPayment;
  /** Position to pass as minPosition to read the operation's effects back. */
  readonly position: bigint;
}

/**
 * A balance payment: payer wallet -> merchant account. Checked in full before anything is recorded (so a
 * refused request changes nothing), then: PaymentInitiated -> debit payer -> credit payee -> completed.
 * A credit refused after the debit (the payee changed meanwhile) is compensated by crediting the payer
 * back, then the payment is failed: money is never lost between two accounts.
 */
export async function pay(
  deps: PaymentDeps,
  request: PayRequest,
  context: CommandContext,
  loaded?: PaymentParties,
): Promise<PaymentOutcome> {
  const paymentId = paymentIdOf(request.merchantId, request.merchantOrderNo);
  const streamId = paymentStreamId(paymentId);
  const existing = await deps.payments.load(streamId);
  if (!existing.state.exists) {
    const [payer, payee] = await chargeParties(deps, request, loaded);
    if (request.payerAccountId === request.payeeAccountId)
      throw new DomainError('same_account', 'a payment needs two different accounts');
    checkPayment(paymentId, request, payer, payee);
    const payerSnapshot: PartySnapshot = { ...snapshotOf(payer), ip: request.payerIp, platform: request.payerPlatform };
    const payeeSnapshot: PartySnapshot = { ...snapshotOf(payee), ip: null, platform: null };
    const initiated = await deps.payments.handle(
      streamId,
      { type: 'InitiatePayment', order: paymentOrder(deps, request, context, paymentId, payerSnapshot, payeeSnapshot) },
      stepContext(context, paymentId, 'initiate'),
    );
    return drivePayment(deps, paymentId, context, initiated.events.length === 0, initiated.position, initiated);
  }
  // The order number was used before: the same order is a retry (resume it), another is refused.
  const order = existing.state.order;
  const same =
    order.payerAccountId === request.payerAccountId &&
    order.payeeAccountId === request.payeeAccountId &&
    order.amountMinor === request.amount.amountMinor &&
    order.currency === request.amount.currency;
  if (!same) {
    throw new DomainError(
      'duplicate_order_no',
      `merchant order number ${request.merchantOrderNo} was already used for another payment`,
      { merchantOrderNo: request.merchantOrderNo },
    );
  }
  return drivePayment(deps, paymentId, context, true, -1n);
}

/**
 * A new payment decided whole, for one commit (src/commands/one-commit.ts): the same commands, checks
 * and derived event ids as `pay` and `drivePayment`, decided on the loaded states: PaymentInitiated,
 * the payer's debit, the payee's credit, PaymentCompleted. A refusal throws before anything is kept. A
 * payment that exists already (a retry, a duplicate order number) is the process's to answer; so is a
 * payment from an account to itself (null: it is refused there).
 */
export function payInOneCommit(
  deps: PaymentDeps,
  request: PayRequest,
  context: CommandContext,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => ExistingPayment;
} | null {
  if (request.payerAccountId === request.payeeAccountId) return null;
  const paymentId = paymentIdOf(request.merchantId, request.merchantOrderNo);
  const streamId = paymentStreamId(paymentId);
  const [payerStream, payeeStream] = [accountStreamId(request.payerAccountId), accountStreamId(request.payeeAccountId)];
  const streams = [
    { handler: deps.payments, streamId, expectNew: true },
    { handler: deps.accounts, streamId: payerStream },
    { handler: deps.accounts, streamId: payeeStream },
  ];
  const decide = (decisions: OneCommitDecisions): ExistingPayment => {
    if (decisions.state(deps.payments, streamId).exists) throw new OneCommitUnsuitableError('the payment exists');
    const payer = requireExisting(decisions.state(deps.accounts, payerStream), request.payerAccountId);
    const payee = requireExisting(decisions.state(deps.accounts, payeeStream), request.payeeAccountId);
    // Both sides checked before anything is decided, as the process checks them (same refusal, same code).
    const movement = checkPayment(paymentId, request, payer, payee);
    const payerSnapshot: PartySnapshot = { ...snapshotOf(payer), ip: request.payerIp, platform: request.payerPlatform };
    const payeeSnapshot: PartySnapshot = { ...snapshotOf(payee), ip: null, platform: null };
    decisions.decide(
      deps.payments,
      streamId,
      { type: 'InitiatePayment', order: paymentOrder(deps, request, context, paymentId, payerSnapshot, payeeSnapshot) },
      stepContext(context, paymentId, 'initiate'),
    );
    decideDebitAndCredit(
      deps,
      decisions,
      {
        fromAccountId: payer.accountId,
        toAccountId: payee.accountId,
        fromParty: stripParty(payerSnapshot),
        toParty: stripParty(payeeSnapshot),
        movement,
      },
      context,
      paymentId,
    );
    const completed = decisions.decide(
      deps.payments,
      streamId,
      { type: 'CompletePayment', paymentId },
      stepContext(context, paymentId, 'complete'),
    );
    assert(completed.state.exists, 'a completed payment exists');
    return completed.state;
  };
  return { streams, positionStream: streamId, decide };
}

/** Checks the debit and the credit of a new payment on the two accounts as they are: throws a refusal. */
function checkPayment(paymentId: string, request: PayRequest, payer: OpenAccountState, payee: OpenAccountState) {
  const movement = paymentMovement(paymentId, request.merchantOrderNo, request.amount, 'payment', request.description);
  decideDebit({ ...movement, accountId: payer.accountId, counterparty: snapshotOf(payee) }, payer);
  decideCredit({ ...movement, accountId: payee.accountId, counterparty: snapshotOf(payer) }, payee);
  return movement;
}

function paymentOrder(
  deps: PaymentDeps,
  request: PayRequest,
  context: CommandContext,
  paymentId: string,
  payer: PartySnapshot,
  payee: PartySnapshot,
) {
  return {
    paymentId,
    merchantId: request.merchantId,
    merchantOrderNo: request.merchantOrderNo,
    description: request.description,
    payerAccountId: request.payerAccountId,
    payeeAccountId: request.payeeAccountId,
    amountMinor: request.amount.amountMinor,
    currency: request.amount.currency,
    payer,
    payee,
    initiatedAt: context.occurredAt,
    accountingDate: accountingDate(context.occurredAt, deps.accountingTimeZone),
  };
}

function paymentMovement(
  operationId: string,
  merchantOrderNo: string,
  amount: Money,
  kind: Movement['kind'],
  memo: string,
): Omit<Movement, 'accountId' | 'counterparty'> {
  return { amount, kind, operationId, merchantOrderNo, memo };
}

/** Takes an initiated payment to its end. Safe to call again at any point (resume after a crash). */
export async function drivePayment(
  deps: PaymentDeps,
  paymentId: string,
  context: CommandContext,
  resuming: boolean,
  position: bigint,
  /** The payment as the command just handled on it left it (initiation): not loaded again. */
  current?: { readonly state: PaymentState; readonly position: bigint },
): Promise<PaymentOutcome> {
  const streamId = paymentStreamId(paymentId);
  const { state, position: streamPosition } = current ?? (await deps.payments.load(streamId));
  if (!state.exists) throw new DomainError('operation_not_found', `payment ${paymentId} does not exist`, { paymentId });
  if (state.status !== 'initiated') return { payment: state, position: maxPosition(position, streamPosition) };
  const order = state.order;
  const amount = { amountMinor: order.amountMinor, currency: order.currency };
  const movement = paymentMovement(paymentId, order.merchantOrderNo, amount, 'payment', order.description);

  const moved = await moveBetweenAccounts(
    deps,
    {
      fromAccountId: order.payerAccountId,
      toAccountId: order.payeeAccountId,
      fromParty: stripParty(order.payer),
      toParty: stripParty(order.payee),
      movement,
      reversalKind: 'payment_reversal',
    },
    context,
    paymentId,
    resumptionOf(resuming, streamId),
  );
  if (!moved.ok) return fail(deps, paymentId, context, moved.error, maxPosition(position, moved.position));
  const completed = await deps.payments.handle(
    streamId,
    { type: 'CompletePayment', paymentId },
    stepContext(context, paymentId, 'complete'),
  );
  return {
    payment: completed.state as ExistingPayment,
    position: maxPosition(position, moved.position, completed.position),
  };
}

async function fail(
  deps: PaymentDeps,
  paymentId: string,
  context: CommandContext,
  error: DomainError,
  position: bigint,
): Promise<PaymentOutcome> {
  const failed = await deps.payments.handle(
    paymentStreamId(paymentId),
    { type: 'FailPayment', paymentId, reasonCode: error.code, reason: error.message },
    stepContext(context, paymentId, 'fail'),
  );
  return { payment: failed.state as ExistingPayment, position: maxPosition(position, failed.position) };
}

export async function getPayment(deps: PaymentDeps, paymentId: string): Promise<ExistingPayment> {
  const { state } = await deps.payments.load(paymentStreamId(paymentId));
  if (!state.exists) throw new DomainError('operation_not_found', `payment ${paymentId} does not exist`, { paymentId });
  return state;
}

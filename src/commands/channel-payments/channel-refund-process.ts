import type {
  ChannelPaymentCommand,
  ExistingChannelPayment,
} from '../../domain/channel-payments/channel-payment-decider.js';
import {
  refundById,
  type ChannelRefundState,
  type RefundKind,
  type RefundResult,
} from '../../domain/channel-payments/channel-refund-rules.js';
import type { LearntBy } from '../../domain/channel-payments/channel-payment-events.js';
import type { Money } from '../../domain/money/money.js';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type {
  CancelOutcome,
  ChannelNotification,
  RefundOutcome,
  RefundQueryOutcome,
} from '../../ports/channel-port.js';
import { deriveId, type CommandContext } from '../command-context.js';
import { maxPosition, resumptionOf, runAccountStep, stepContext } from '../operations/operation-steps.js';
import { channelPaymentStreamId, type ChannelPaymentDeps } from './channel-payment-process.js';

/**
 * Refunds and cancellations of a channel payment (the rules: channel-refund-rules.ts): request (reserved
 * on the payment's stream) -> the merchant's account debited (the money held; refused: the refund fails,
 * nothing is sent) -> `ChannelRefundSubmitted` -> the channel called under our refund id (channels are
 * idempotent by refund number) -> its word recorded: succeeded (done: the debit stands, Dr merchant
 * Cr 1122), declined (the held money released: Cr merchant Dr 1122), pending or unknown (answered so, and
 * resolved only by asking the channel: `queryChannelRefund`, from the poller or a GET, never by calling
 * the refund again). A submission found on resuming (a crash after the call) is asked about first, and
 * sent only if the channel has no such refund, so a payer is never refunded twice.
 */
export interface ChannelRefundRequest {
  readonly paymentId: string;
  readonly refundNo: string;
  readonly amount: Money;
  readonly reason: string;
}

export interface ChannelRefundOutcome {
  readonly payment: ExistingChannelPayment;
  readonly refund: ChannelRefundState;
  readonly position: bigint;
}

/** Steps one drive of a refund takes at most (hold, submit, result, release). */
const MAX_REFUND_STEPS = 8;

/** A merchant's refund number refunds once: the refund id is derived from the payment and the number. */
export function channelRefundIdOf(paymentId: string, refundNo: string): string {
  return deriveId(`${paymentId}\u0000${refundNo}`, 'channel-refund');
}

/** A cancellation attempt's refund number: a new attempt after a declined one is a new number. */
function cancellationNo(payment: ExistingChannelPayment): string {
  const attempts = [...payment.refunds.values()].filter((r) => r.kind === 'cancellation').length;
  return `cancellation-${attempts + 1}`;
}

async function loadPayment(deps: ChannelPaymentDeps, paymentId: string) {
  const loaded = await deps.channelPayments.load(channelPaymentStreamId(paymentId));
  if (!loaded.state.exists)
    throw new DomainError('operation_not_found', `channel payment ${paymentId} does not exist`, { paymentId });
  return { payment: loaded.state, position: loaded.position };
}

function requireCapability(deps: ChannelPaymentDeps, payment: ExistingChannelPayment, kind: RefundKind): void {
  const capabilities = deps.gateway.port(payment.channel)?.profile.capabilities;
  const can = kind === 'refund' ? capabilities?.refund : capabilities?.cancel;
  if (!can)
    throw new DomainError(
      'operation_state_conflict',
      `channel ${payment.channel} does not ${kind === 'refund' ? 'refund' : 'cancel (void) payments; refund it instead'}`,
      {
        paymentId: payment.order.paymentId,
        reason: kind === 'refund' ? 'refund_not_supported' : 'cancel_not_supported',
      },
    );
}

export async function refundChannelPayment(
  deps: ChannelPaymentDeps,
  request: ChannelRefundRequest,
  context: CommandContext,
): Promise<ChannelRefundOutcome> {
  const { payment } = await loadPayment(deps, request.paymentId);
  const refundId = channelRefundIdOf(request.paymentId, request.refundNo);
  if (!refundById(payment, refundId)) requireCapability(deps, payment, 'refund');
  return requestAndDrive(deps, payment, 'refund', request.refundNo, request.amount, request.reason, context);
}

/** A same-day void of the whole payment (where the channel tells it from a refund); in progress: resumed. */
export async function cancelChannelPayment(
  deps: ChannelPaymentDeps,
  paymentId: string,
  reason: string,
  context: CommandContext,
): Promise<ChannelRefundOutcome> {
  const { payment } = await loadPayment(deps, paymentId);
  const open = [...payment.refunds.values()].find((r) => r.kind === 'cancellation' && r.status !== 'failed');
  if (open) return driveChannelRefund(deps, paymentId, open.refundId, context, true);
  requireCapability(deps, payment, 'cancellation');
  const amount = { amountMinor: payment.order.amountMinor, currency: payment.order.currency };
  return requestAndDrive(deps, payment, 'cancellation', cancellationNo(payment), amount, reason, context);
}

async function requestAndDrive(
  deps: ChannelPaymentDeps,
  payment: ExistingChannelPayment,
  kind: RefundKind,
  refundNo: string,
  amount: Money,
  reason: string,
  context: CommandContext,
): Promise<ChannelRefundOutcome> {
  const paymentId = payment.order.paymentId;
  const refundId = channelRefundIdOf(paymentId, refundNo);
  const requested = await deps.channelPayments.handle(
    channelPaymentStreamId(paymentId),
    {
      type: 'RequestChannelRefund',
      paymentId,
      refundId,
      kind,
      refundNo,
      amount,
      reason,
      todayAccountingDate: accountingDate(context.occurredAt, deps.accountingTimeZone),
      at: context.occurredAt,
    },
    stepContext(context, refundId, 'refund-request'),
  );
  const driven = await driveChannelRefund(deps, paymentId, refundId, context, requested.events.length === 0);
  return { ...driven, position: maxPosition(requested.position, driven.position) };
}

/**
 * Drives a refund on from where its events stop. `resuming`: an earlier run may have taken steps (a
 * retry, the recovery sweep), so a found submission is asked about before anything is sent. A debit the
 * merchant's account refuses fails the refund and is thrown (nothing was sent).
 */
export async function driveChannelRefund(
  deps: ChannelPaymentDeps,
  paymentId: string,
  refundId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<ChannelRefundOutcome> {
  const streamId = channelPaymentStreamId(paymentId);
  let { payment, position } = await loadPayment(deps, paymentId);
  let submittedHere = false;
  const run = async (command: ChannelPaymentCommand, key: string) => {
    const handled = await deps.channelPayments.handle(streamId, command, stepContext(context, refundId, key));
    position = maxPosition(position, handled.position);
    assert(handled.state.exists, 'a refunded payment exists');
    payment = handled.state;
    return handled;
  };
  for (let step = 0; step < MAX_REFUND_STEPS; step += 1) {
    const refund = refundById(payment, refundId);
    assert(refund !== null, `refund ${refundId} is on payment ${paymentId}`);
    const o = payment.order;
    const at = context.occurredAt;
    switch (refund.status) {
      case 'requested': {
        const held = await runAccountStep(
          deps,
          o.payeeAccountId,
          { type: 'DebitAccount', ...merchantMovement(payment, refund, 'held') },
          stepContext(context, refundId, 'hold'),
          resumptionOf(resuming, streamId),
        );
        if (!held.ok) {
          await run(
            {
              type: 'FailChannelRefund',
              paymentId,
              refundId,
              reasonCode: held.error.code,
              reason: held.error.message,
              at,
            },
            'refund-fail',
          );
          throw held.error;
        }
        position = maxPosition(position, held.position);
        const submitted = await run({ type: 'SubmitChannelRefund', paymentId, refundId, at }, 'refund-submit');
        submittedHere = submitted.events.length > 0;
        continue;
      }
      case 'submitted': {
        // Only a submission this run recorded is sent blindly; any other may have reached the channel.
        const next = submittedHere
          ? await callChannel(deps, payment, refund)
          : await askThenCall(deps, payment, refund);
        submittedHere = false;
        await recordRefundResult(run, payment, refund, next.result, next.learntBy, at);
        continue;
      }
      case 'failed': {
        if (!refund.held || refund.released) return { payment, refund, position };
        const released = await runAccountStep(
          deps,
          o.payeeAccountId,
          { type: 'CreditAccount', ...merchantMovement(payment, refund, 'released') },
          stepContext(context, refundId, 'release'),
          // Any run may be the second (a callback and the poller race): always look for an earlier release.
          resumptionOf(true, streamId),
        );
        // Only a closed account refuses a release of its own money, and an account holding money in flight
        // does not close: the refund stays failed-and-held for the recovery sweep and an operator.
        if (!released.ok) throw released.error;
        position = maxPosition(position, released.position);
        await run({ type: 'ReleaseChannelRefund', paymentId, refundId, at }, 'refund-release');
        continue;
      }
      default:
        return { payment, refund, position };
    }
  }
  assert(false, `refund ${refundId}: more than ${MAX_REFUND_STEPS} steps in one drive`);
  throw new Error('unreachable');
}

/**
 * The merchant's side of a refund: debited when it is requested (kind `channel_payment`: the posting row
 * `channel-payment-return`, Dr merchant Cr 1122 channel clearing), credited back when the channel
 * declines (row `channel-payment`, Dr 1122 Cr merchant), so the trial balance stays zero at every step.
 */
function merchantMovement(payment: ExistingChannelPayment, refund: ChannelRefundState, what: 'held' | 'released') {
  const o = payment.order;
  const name = refund.kind === 'refund' ? `refund ${refund.refundNo}` : 'cancellation';
  return {
    accountId: o.payeeAccountId,
    amount: { amountMinor: refund.amountMinor, currency: o.currency },
    kind: 'channel_payment' as const,
    operationId: refund.refundId,
    merchantOrderNo: o.merchantOrderNo,
    counterparty: { accountId: null, ownerId: null, name: null, channel: payment.channel },
    memo: `${name} of ${o.merchantOrderNo}${what === 'released' ? ': declined, released' : ''}`.slice(0, 200),
  };
}

type Next = { readonly result: RefundResult; readonly learntBy: LearntBy };

async function callChannel(
  deps: ChannelPaymentDeps,
  payment: ExistingChannelPayment,
  refund: ChannelRefundState,
): Promise<Next> {
  const o = payment.order;
  if (refund.kind === 'cancellation') {
    const outcome = await deps.gateway.call(payment.channel, (port, options) =>
      port.cancel({ orderNo: o.paymentId }, options),
    );
    return { result: resultOfCancel(outcome, payment.channelOrderNo ?? o.paymentId), learntBy: 'answer' };
  }
  const outcome = await deps.gateway.call(payment.channel, (port, options) =>
    port.refund(
      {
        refundNo: refund.refundId,
        orderNo: o.paymentId,
        amount: { amountMinor: refund.amountMinor, currency: o.currency },
        notifyUrl: deps.gateway.notifyUrl(payment.channel),
      },
      options,
    ),
  );
  return { result: resultOfRefund(outcome), learntBy: 'answer' };
}

/** A submission found on resuming: the channel may have the refund. Ask; send only what it does not know. */
async function askThenCall(
  deps: ChannelPaymentDeps,
  payment: ExistingChannelPayment,
  refund: ChannelRefundState,
): Promise<Next> {
  const asked = await askChannel(deps, payment, refund);
  if (asked === 'not_found') return callChannel(deps, payment, refund);
  if (asked !== null) return { result: asked, learntBy: 'query' };
  return {
    result: { kind: 'unknown', reason: 'system_error', detail: 'refund query unanswered after a restart' },
    learntBy: 'query',
  };
}

/** The channel's word on a refund (a refund query; for a cancellation, an order query), or null: no answer. */
async function askChannel(
  deps: ChannelPaymentDeps,
  payment: ExistingChannelPayment,
  refund: ChannelRefundState,
): Promise<RefundResult | 'not_found' | null> {
  if (refund.kind === 'cancellation') {
    const asked = await deps.gateway.call(payment.channel, (port, options) =>
      port.queryOrder(payment.order.paymentId, options),
    );
    if (asked.status !== 'succeeded') return null;
    // The order is still paid: the void never reached the channel.
    if (asked.order.state === 'succeeded') return 'not_found';
    if (asked.order.state === 'cancelled')
      return { kind: 'succeeded', channelRefundNo: asked.order.channelOrderNo, channelTime: asked.order.channelTime };
    return {
      kind: 'declined',
      code: 'cancel_not_allowed',
      message: `the order is ${asked.order.state}`,
      channelCode: '',
    };
  }
  const asked = await deps.gateway.call(payment.channel, (port, options) => port.queryRefund(refund.refundId, options));
  return resultOfRefundQuery(asked);
}

export function resultOfRefund(outcome: RefundOutcome): RefundResult {
  switch (outcome.status) {
    case 'succeeded':
      return { kind: 'succeeded', channelRefundNo: outcome.channelRefundNo, channelTime: outcome.channelTime };
    case 'pending':
      return { kind: 'pending', channelRefundNo: outcome.channelRefundNo };
    case 'declined':
      return { kind: 'declined', code: outcome.code, message: outcome.message, channelCode: outcome.channelCode };
    case 'unknown':
      return { kind: 'unknown', reason: outcome.reason, detail: outcome.detail };
    case 'unavailable':
      // Nothing was sent: declined in our terms (the merchant may ask again, under a new refund number).
      return { kind: 'declined', code: 'channel_unavailable', message: outcome.detail, channelCode: '' };
  }
}

function resultOfCancel(outcome: CancelOutcome, channelOrderNo: string): RefundResult {
  if (outcome.status === 'succeeded')
    return { kind: 'succeeded', channelRefundNo: channelOrderNo, channelTime: outcome.channelTime };
  return resultOfRefund(outcome);
}

/** A refund query: the refund's state, `not_found` (the channel never got it), or null (no answer). */
export function resultOfRefundQuery(outcome: RefundQueryOutcome): RefundResult | 'not_found' | null {
  if (outcome.status === 'declined' && outcome.code === 'order_not_found') return 'not_found';
  if (outcome.status !== 'succeeded') return null;
  const { refund } = outcome;
  switch (refund.state) {
    case 'succeeded':
      return { kind: 'succeeded', channelRefundNo: refund.channelRefundNo, channelTime: refund.channelTime };
    case 'pending':
      return { kind: 'pending', channelRefundNo: refund.channelRefundNo };
    case 'failed':
      return { kind: 'declined', code: 'channel_declined', message: 'the channel failed the refund', channelCode: '' };
  }
}

type Run = (command: ChannelPaymentCommand, key: string) => Promise<unknown>;

export async function recordRefundResult(
  run: Run,
  payment: ExistingChannelPayment,
  refund: ChannelRefundState,
  result: RefundResult,
  learntBy: LearntBy,
  at: string,
): Promise<void> {
  // One key per fact learnt in a refund status: two sources deciding at one state never share event ids.
  await run(
    {
      type: 'RecordChannelRefundResult',
      paymentId: payment.order.paymentId,
      refundId: refund.refundId,
      result,
      learntBy,
      at,
    },
    `refund-result-${refund.status}-${learntBy}-${result.kind}`,
  );
}

/**
 * Asks the channel about a pending or unknown refund and records what it says (the poller's work, and a
 * refund GET's). A refund the channel does not know stays as it is: it is never sent again from here (a
 * crash after submission is the recovery sweep's, which asks first). Whether the channel answered.
 */
export async function queryChannelRefund(
  deps: ChannelPaymentDeps,
  paymentId: string,
  refundId: string,
  context: CommandContext,
): Promise<ChannelRefundOutcome & { readonly answered: boolean }> {
  const { payment, position } = await loadPayment(deps, paymentId);
  const refund = refundById(payment, refundId);
  if (!refund) throw new DomainError('operation_not_found', `refund ${refundId} does not exist`, { refundId });
  if (refund.status !== 'pending' && refund.status !== 'unknown') return { payment, refund, position, answered: false };
  const asked = await askChannel(deps, payment, refund);
  if (asked === null || asked === 'not_found') return { payment, refund, position, answered: asked !== null };
  const streamId = channelPaymentStreamId(paymentId);
  await recordRefundResult(
    (command, key) => deps.channelPayments.handle(streamId, command, stepContext(context, refundId, key)),
    payment,
    refund,
    asked,
    'query',
    context.occurredAt,
  );
  return { ...(await driveChannelRefund(deps, paymentId, refundId, context, true)), answered: true };
}

/**
 * A verified refund callback: applied once to the refund it names (our refund id is the channel's refund
 * number), by the same rules as any result (a repeat, a late or out-of-order one changes nothing). Null
 * when it is not about a refund of ours at that channel for that amount.
 */
export async function applyRefundNotification(
  deps: ChannelPaymentDeps,
  channelId: string,
  notification: ChannelNotification,
  context: CommandContext,
): Promise<ChannelRefundOutcome | null> {
  if (notification.kind !== 'refund' || notification.refundNo === null) return null;
  const loaded = await deps.channelPayments.load(channelPaymentStreamId(notification.orderNo));
  const payment = loaded.state;
  if (!payment.exists || payment.channel !== channelId) return null;
  const refund = refundById(payment, notification.refundNo);
  if (
    !refund ||
    notification.amount.amountMinor !== refund.amountMinor ||
    notification.amount.currency !== payment.order.currency
  )
    return null;
  const channelRefundNo = refund.channelRefundNo ?? notification.channelOrderNo;
  const result: RefundResult =
    notification.state === 'succeeded'
      ? { kind: 'succeeded', channelRefundNo, channelTime: notification.channelTime }
      : notification.state === 'pending'
        ? { kind: 'pending', channelRefundNo }
        : {
            kind: 'declined',
            code: 'channel_declined',
            message: `the channel says ${notification.state}`,
            channelCode: '',
          };
  const paymentId = payment.order.paymentId;
  await recordRefundResult(
    (command, key) =>
      deps.channelPayments.handle(
        channelPaymentStreamId(paymentId),
        command,
        stepContext(context, refund.refundId, `${key}-${notification.sequence}`),
      ),
    payment,
    refund,
    result,
    'notification',
    context.occurredAt,
  );
  return driveChannelRefund(deps, paymentId, refund.refundId, context, true);
}

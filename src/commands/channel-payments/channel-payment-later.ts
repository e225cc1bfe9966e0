import type { ExistingChannelPayment } from '../../domain/channel-payments/channel-payment-decider.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { SensitiveText } from '../../domain/shared/sensitive-text.js';
import type { ChannelNotification } from '../../ports/channel-port.js';
import { stepContext } from '../operations/operation-steps.js';
import type { CommandContext } from '../command-context.js';
import {
  challengeIdOf,
  channelPaymentStreamId,
  driveChannelPayment,
  recordResult,
  type ChannelPaymentDeps,
  type ChannelPaymentOutcome,
} from './channel-payment-process.js';
import { resultOfNotification, resultOfQuery } from './channel-results.js';

/**
 * What happens to a channel payment after its first request: the payer's step-up code, a signed callback
 * from the channel, an order query (the poller's, or a status request's). Each records what it learnt on
 * the payment's stream through the decider (which makes a late, repeated or stale result a no-op) and
 * drives the payment on from there.
 */

async function existing(deps: ChannelPaymentDeps, paymentId: string) {
  const loaded = await deps.channelPayments.load(channelPaymentStreamId(paymentId));
  if (!loaded.state.exists)
    throw new DomainError('operation_not_found', `channel payment ${paymentId} does not exist`, { paymentId });
  return { payment: loaded.state, revision: loaded.revision, position: loaded.position };
}

function drive(deps: ChannelPaymentDeps, paymentId: string, context: CommandContext) {
  // Nothing is submitted here that a run before did not: any found submission is asked about first.
  return driveChannelPayment(deps, paymentId, context, { phone: null, resuming: true });
}

/** The payer's code: verified, the payment goes to the channel; wrong or expired, it is said so (and counted). */
export async function verifyStepUpCode(
  deps: ChannelPaymentDeps,
  paymentId: string,
  code: SensitiveText,
  context: CommandContext,
): Promise<ChannelPaymentOutcome> {
  const { revision } = await existing(deps, paymentId);
  const codeHmac = deps.codes.hmacOf(challengeIdOf(paymentId), code);
  await deps.channelPayments.handle(
    channelPaymentStreamId(paymentId),
    { type: 'VerifyStepUpCode', paymentId, codeHmac, at: context.occurredAt },
    stepContext(context, paymentId, `verify-${revision}-${codeHmac}`),
  );
  return drive(deps, paymentId, context);
}

/** A new code to the payer's phone (the same number the challenge masked), within the challenge's limits. */
export async function resendStepUpCode(
  deps: ChannelPaymentDeps,
  paymentId: string,
  phone: SensitiveText,
  context: CommandContext,
): Promise<ChannelPaymentOutcome> {
  const { payment, revision } = await existing(deps, paymentId);
  if (payment.stepUp.status === 'none' || deps.sms === null)
    throw new DomainError('operation_state_conflict', `channel payment ${paymentId} has no code to resend`, {
      paymentId,
      reason: 'no_verification_required',
    });
  if (phone.masked !== payment.order.payer.maskedPhone)
    throw new DomainError('forbidden', 'the phone is not the one the code was sent to', { paymentId });
  const challengeId = challengeIdOf(paymentId);
  const code = deps.codes.issue();
  const handled = await deps.channelPayments.handle(
    channelPaymentStreamId(paymentId),
    { type: 'ResendStepUpCode', paymentId, codeHmac: deps.codes.hmacOf(challengeId, code), at: context.occurredAt },
    stepContext(context, paymentId, `resend-${revision}`),
  );
  const resent = handled.events.find((event) => event.type === 'StepUpCodeResent');
  if (resent)
    await deps.sms.send(
      { messageId: `${challengeId}-${resent.data.sendsUsed}`, phone, template: 'payment_step_up', code },
      { timeoutMs: 5_000 },
    );
  return { payment: handled.state as ExistingChannelPayment, position: handled.position };
}

/** From the poller: a challenge whose time is over fails the payment (judged by the command's time). */
export async function expireStepUp(
  deps: ChannelPaymentDeps,
  paymentId: string,
  context: CommandContext,
): Promise<ChannelPaymentOutcome> {
  const handled = await deps.channelPayments.handle(
    channelPaymentStreamId(paymentId),
    { type: 'ExpireStepUp', paymentId, at: context.occurredAt },
    stepContext(context, paymentId, 'expire-step-up'),
  );
  return { payment: handled.state as ExistingChannelPayment, position: handled.position };
}

/**
 * A verified callback about a payment: applied once (a duplicate, a stale `sequence`, a result for a
 * finished order change nothing), then the payment is driven on (a success credits the payee). Null when
 * the order is not a channel payment of ours (a recharge's, a settlement notice for reconciliation).
 */
export async function applyNotification(
  deps: ChannelPaymentDeps,
  channelId: string,
  notification: ChannelNotification,
  context: CommandContext,
): Promise<ChannelPaymentOutcome | null> {
  if (notification.kind !== 'payment') return null;
  const loaded = await deps.channelPayments.load(channelPaymentStreamId(notification.orderNo));
  const payment = loaded.state;
  if (!payment.exists) return null;
  // A callback from another channel than the one in charge, or for other money, is not about this order.
  if (
    payment.channel !== channelId ||
    notification.amount.amountMinor !== payment.order.amountMinor ||
    notification.amount.currency !== payment.order.currency
  )
    return null;
  await recordResult(
    (command, key) =>
      deps.channelPayments.handle(
        channelPaymentStreamId(payment.order.paymentId),
        command,
        stepContext(context, payment.order.paymentId, key),
      ),
    payment,
    loaded.revision,
    resultOfNotification(notification),
    'notification',
    notification.sequence,
    context.occurredAt,
  );
  return drive(deps, payment.order.paymentId, context);
}

/**
 * Asks the channel about a pending or unknown payment and records what it says. An unknown order the
 * channel does not know (the charge never reached it) is sent again under the same order number when
 * `resubmit` (the poller's work; a status request only looks). Returns the payment as it stands after,
 * and whether the channel answered.
 */
export async function queryChannelPayment(
  deps: ChannelPaymentDeps,
  paymentId: string,
  context: CommandContext,
  resubmit: boolean,
): Promise<ChannelPaymentOutcome & { readonly answered: boolean }> {
  const { payment, revision, position } = await existing(deps, paymentId);
  if (payment.status !== 'pending' && payment.status !== 'unknown') return { payment, position, answered: false };
  const asked = await deps.gateway.call(payment.channel, (port, options) => port.queryOrder(paymentId, options));
  const result = resultOfQuery(asked);
  if (result === null) return { payment, position, answered: false };
  if (result === 'not_found') {
    // Only an unknown order can be one the channel never got: submit it again (same order number).
    if (payment.status !== 'unknown' || !resubmit) return { payment, position, answered: true };
    await deps.channelPayments.handle(
      channelPaymentStreamId(paymentId),
      { type: 'ResubmitChannelPayment', paymentId, at: context.occurredAt },
      stepContext(context, paymentId, `resubmit-${payment.attempts}`),
    );
    return { ...(await drive(deps, paymentId, context)), answered: true };
  }
  await recordResult(
    (command, key) =>
      deps.channelPayments.handle(channelPaymentStreamId(paymentId), command, stepContext(context, paymentId, key)),
    payment,
    revision,
    result,
    'query',
    null,
    context.occurredAt,
  );
  return { ...(await drive(deps, paymentId, context)), answered: true };
}

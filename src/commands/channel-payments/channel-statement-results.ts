import type { ChannelResult } from '../../domain/channel-payments/channel-payment-decider.js';
import { refundById, type RefundResult } from '../../domain/channel-payments/channel-refund-rules.js';
import type { StatementRecord } from '../../domain/reconciliation/statement-record.js';
import { assert } from '../../domain/shared/domain-error.js';
import type { CommandContext } from '../command-context.js';
import { stepContext } from '../operations/operation-steps.js';
import {
  channelPaymentStreamId,
  driveChannelPayment,
  recordResult,
  type ChannelPaymentDeps,
  type ChannelPaymentOutcome,
} from './channel-payment-process.js';
import { driveChannelRefund, recordRefundResult, type ChannelRefundOutcome } from './channel-refund-process.js';

/**
 * The channel's statement as the channel's word (DESIGN.md 2.6: "not paid / paid: mark paid from the
 * channel, continue the flow"): a settled line for a payment or refund we still hold at the channel
 * (submitted, pending, unknown) is recorded as its result, `learntBy` `statement`, exactly as a callback
 * or an order query's answer is (the same decider command, so a payment already finished, a repeat or a
 * line for other money changes nothing), and the flow goes on from there: the payee is credited, the books
 * post, the merchant's webhook goes out, once. Null when the line is about no payment (or refund) of ours
 * on that channel for that money.
 */
export async function applyStatementPayment(
  deps: ChannelPaymentDeps,
  line: StatementRecord,
  context: CommandContext,
): Promise<ChannelPaymentOutcome | null> {
  assert(line.kind === 'pay' && line.status === 'settled', 'a settled pay line marks a payment paid');
  const paymentId = line.merchantOrderNo;
  const streamId = channelPaymentStreamId(paymentId);
  const loaded = await deps.channelPayments.load(streamId);
  const payment = loaded.state;
  if (!payment.exists) return null;
  if (
    payment.channel !== line.channel ||
    payment.order.amountMinor !== line.amountMinor ||
    payment.order.currency !== line.currency
  )
    return null;
  const result: ChannelResult = {
    kind: 'succeeded',
    channelOrderNo: line.channelOrderNo,
    feeMinor: line.feeMinor,
    channelTime: line.channelTime,
  };
  await recordResult(
    (command, key) => deps.channelPayments.handle(streamId, command, stepContext(context, paymentId, key)),
    payment,
    loaded.revision,
    result,
    'statement',
    null,
    context.occurredAt,
  );
  return driveChannelPayment(deps, paymentId, context, { phone: null, resuming: true });
}

export async function applyStatementRefund(
  deps: ChannelPaymentDeps,
  line: StatementRecord,
  context: CommandContext,
): Promise<ChannelRefundOutcome | null> {
  assert(line.kind === 'refund' && line.status === 'settled', 'a settled refund line completes a refund');
  if (line.refundNo === null) return null;
  const paymentId = line.merchantOrderNo;
  const streamId = channelPaymentStreamId(paymentId);
  const payment = (await deps.channelPayments.load(streamId)).state;
  if (!payment.exists || payment.channel !== line.channel) return null;
  const refund = refundById(payment, line.refundNo);
  if (!refund || refund.amountMinor !== line.amountMinor || payment.order.currency !== line.currency) return null;
  const result: RefundResult = {
    kind: 'succeeded',
    channelRefundNo: refund.channelRefundNo ?? line.channelRefundNo ?? line.channelOrderNo,
    channelTime: line.channelTime,
  };
  await recordRefundResult(
    (command, key) => deps.channelPayments.handle(streamId, command, stepContext(context, refund.refundId, key)),
    payment,
    refund,
    result,
    'statement',
    context.occurredAt,
  );
  return driveChannelRefund(deps, paymentId, refund.refundId, context, true);
}

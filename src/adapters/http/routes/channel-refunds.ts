import { LEARNT_BY } from '../../../domain/channel-payments/channel-payment-events.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ExistingChannelPayment } from '../../../domain/channel-payments/channel-payment-decider.js';
import type { ChannelRefundState } from '../../../domain/channel-payments/channel-refund-rules.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import type { LedgerService } from '../../ledger-service.js';
import { amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { runCommand } from '../idempotent-command.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import { statusReadContext, visibleChannelPayment } from './channel-payments.js';
import { cancelPaymentBody, refundBody } from './payments.js';

/**
 * Refunds and cancellations of channel payments, in the balance payments' shape (the same body, codes and
 * limits: partial refunds, never above what was paid, a refund number once per payment), with the
 * channel's asynchrony: 201 (200 for a cancellation) once the channel has done it, 202 while it is
 * pending or unknown (the poller asks the channel; a GET of the refund asks once), 422 channel_declined
 * when the channel refused it (the merchant's held money released).
 */
export const channelRefundView = z
  .object({
    refundId: z.uuid(),
    paymentId: z.uuid(),
    refundNo: z.string().describe("The merchant's refund number (a cancellation's: cancellation-<attempt>)"),
    kind: z.enum(['refund', 'cancellation']),
    status: z
      .enum(['requested', 'submitted', 'pending', 'unknown', 'completed', 'failed'])
      .describe(
        "completed: the channel refunded the payer; pending or unknown: the channel has (or may have) it, its word comes by callback or query; failed: refused (the merchant's balance) or declined by the channel, the held money released",
      ),
    amount: amountString,
    currency: currencyString,
    reason: z.string(),
    channel: z.string(),
    channelRefundNo: z.string().nullable(),
    learntBy: z.enum(LEARNT_BY).nullable(),
    failure: z
      .object({
        code: z.string(),
        reason: z.string(),
        declineCode: z.string().nullable(),
        channelCode: z.string().nullable(),
      })
      .nullable(),
    released: z.boolean().describe("A failed refund's held money is back on the merchant's account"),
    requestedAt: z.string(),
    position: positionString.optional().describe('Pass as minPosition to read the effects back from the read models'),
  })
  .meta({
    id: 'ChannelRefund',
    example: {
      refundId: '6d1e2f3a-4b5c-5d6e-8f7a-8b9c0d1e2f3a',
      paymentId: '4c7b1f8e-2a3d-5e6f-8a9b-0c1d2e3f4a5b',
      refundNo: 'RF-0001',
      kind: 'refund',
      status: 'completed',
      amount: '20.00',
      currency: 'CNY',
      reason: 'damaged item',
      channel: 'sim-citybank',
      channelRefundNo: 'SIMCITR-1A2B3C',
      learntBy: 'answer',
      failure: null,
      released: false,
      requestedAt: '2026-12-01T02:00:00.000Z',
    },
  });

export const channelRefundListView = z
  .object({
    paymentId: z.uuid(),
    refundedAmount: amountString,
    refunds: z.array(channelRefundView),
  })
  .meta({ id: 'ChannelRefundList' });

export function toChannelRefundView(
  payment: ExistingChannelPayment,
  refund: ChannelRefundState,
  position?: bigint,
): z.output<typeof channelRefundView> {
  const o = payment.order;
  return {
    refundId: refund.refundId,
    paymentId: o.paymentId,
    refundNo: refund.refundNo,
    kind: refund.kind,
    status: refund.status,
    amount: formatAmount(refund.amountMinor, o.currency),
    currency: o.currency,
    reason: refund.reason,
    channel: payment.channel,
    channelRefundNo: refund.channelRefundNo,
    learntBy: refund.learntBy,
    failure: refund.failure && {
      code: refund.failure.reasonCode,
      reason: refund.failure.reason,
      declineCode: refund.failure.declineCode,
      channelCode: refund.failure.channelCode,
    },
    released: refund.released,
    requestedAt: refund.requestedAt,
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

/** The channel refused it: the held money was released; the merchant may ask again under a new number. */
function declinedProblem(payment: ExistingChannelPayment, refund: ChannelRefundState): HttpProblem {
  const failure = refund.failure!;
  const code = failure.reasonCode === 'channel_unavailable' ? 'channel_unavailable' : 'channel_declined';
  return new HttpProblem(
    code === 'channel_unavailable' ? 503 : 422,
    code,
    refund.kind === 'refund' ? 'Refund declined' : 'Cancellation declined',
    failure.reason,
    {
      details: {
        paymentId: payment.order.paymentId,
        refundId: refund.refundId,
        ...(failure.declineCode ? { declineCode: failure.declineCode } : {}),
        ...(failure.channelCode ? { channelCode: failure.channelCode } : {}),
      },
    },
  );
}

/** 201 (or `doneStatus`) when done, 202 while the channel has not said; a refusal as its problem. */
function answerOf(
  outcome: { payment: ExistingChannelPayment; refund: ChannelRefundState; position: bigint },
  doneStatus: number,
) {
  const { payment, refund, position } = outcome;
  if (refund.status === 'failed') throw declinedProblem(payment, refund);
  const statusCode = refund.status === 'completed' ? doneStatus : 202;
  return { statusCode, body: toChannelRefundView(payment, refund, position) };
}

const paymentParams = z.object({ paymentId: z.uuid() });
const refundParams = z.object({ paymentId: z.uuid(), refundId: z.uuid() });
const REFUND_CODES = [
  'invalid_amount',
  'currency_mismatch',
  'operation_not_found',
  'duplicate_refund_no',
  'operation_state_conflict',
  'refund_exceeds_payment',
  'insufficient_funds',
  'account_not_active',
  'channel_declined',
  'channel_unavailable',
] as const;

export function channelRefundRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const payments = service.channelPayments;
  return async (app) => {
    app.post(
      '/v1/channel-payments/:paymentId/refunds',
      {
        schema: {
          tags: ['channel payments'],
          summary: 'Refund a channel payment, in part or in full, through its channel',
          description:
            "Several refunds may be made, each with its own refund number; their total never exceeds the payment (422 refund_exceeds_payment), however they race. The merchant's account is debited when the refund is asked for (422 insufficient_funds: nothing sent), then the channel that took the payment is called under the refund id: 201 completed; 202 pending or unknown (resolved by asking the channel, never by refunding again: GET the refund, or wait for the webhook); 422 channel_declined (the debit released). The same refund number again answers the first refund; other terms 409 duplicate_refund_no.",
          headers: idempotencyHeaders,
          params: paymentParams,
          body: refundBody,
          response: { 201: channelRefundView, 202: channelRefundView, ...problemResponses(...REFUND_CODES) },
        },
      },
      async (request, reply) => {
        const { paymentId } = request.params;
        await visibleChannelPayment(service, request, paymentId);
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        const refundRequest = { paymentId, refundNo: request.body.refundNo, amount, reason: request.body.reason };
        await runCommand(request, reply, service, async (context) =>
          answerOf(await payments.refund(refundRequest, context), 201),
        );
      },
    );

    app.get(
      '/v1/channel-payments/:paymentId/refunds',
      {
        schema: {
          tags: ['channel payments'],
          summary: "A channel payment's refunds (and cancellation attempts)",
          description: "From the payment's own stream, in request order.",
          params: paymentParams,
          response: { 200: channelRefundListView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const { payment, position } = await visibleChannelPayment(service, request, request.params.paymentId);
        return {
          paymentId: payment.order.paymentId,
          refundedAmount: formatAmount(payment.refundedMinor, payment.order.currency),
          refunds: [...payment.refunds.values()].map((refund) => toChannelRefundView(payment, refund, position)),
        };
      },
    );

    app.get(
      '/v1/channel-payments/:paymentId/refunds/:refundId',
      {
        schema: {
          tags: ['channel payments'],
          summary: 'Query a refund of a channel payment',
          description:
            'While it is pending or unknown, the channel is asked once (a refund query; a cancellation: an order query) and what it says is recorded before the answer.',
          params: refundParams,
          response: { 200: channelRefundView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const { paymentId, refundId } = request.params;
        await visibleChannelPayment(service, request, paymentId);
        const found = await payments.getRefund(paymentId, refundId);
        if (found.refund.status !== 'pending' && found.refund.status !== 'unknown')
          return toChannelRefundView(found.payment, found.refund, found.position);
        const asked = await payments.queryRefund(paymentId, refundId, statusReadContext(service, request, refundId));
        return toChannelRefundView(asked.payment, asked.refund, asked.position);
      },
    );

    app.post(
      '/v1/channel-payments/:paymentId/cancel',
      {
        schema: {
          tags: ['channel payments'],
          summary: 'Cancel (void) a same-day channel payment in full',
          description:
            "Where the channel tells a void from a refund (else 409 operation_state_conflict, reason cancel_not_supported: refund it), before any refund, and only on the payment's accounting day (cut at midnight in the accounting time zone, by the request's time); afterwards 422 cancel_window_closed: refund it instead. The merchant's account is debited the whole amount, the channel asked to void the order: 200 cancelled (the channel's fee returned with it), 202 while the channel has not said, 422 channel_declined (the debit released; the payment stands, refund it).",
          headers: idempotencyHeaders,
          params: paymentParams,
          body: cancelPaymentBody,
          response: {
            200: channelRefundView,
            202: channelRefundView,
            ...problemResponses(...REFUND_CODES, 'cancel_window_closed'),
          },
        },
      },
      async (request, reply) => {
        const { paymentId } = request.params;
        await visibleChannelPayment(service, request, paymentId);
        const reason = request.body?.reason ?? '';
        await runCommand(request, reply, service, async (context) =>
          answerOf(await payments.cancel(paymentId, reason, context), 200),
        );
      },
    );
  };
}

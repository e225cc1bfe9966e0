import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ExistingPayment } from '../../../domain/payments/payment-state.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { authoriseCharge, payerPasswordField } from '../payer-consent.js';
import { answeredInOneCommit, runCommand } from '../idempotent-command.js';
import { HttpProblem } from '../problem-details.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import { paymentStreamId } from '../../../commands/payments/payment-operations.js';
import { streamPosition } from '../read-model-queries.js';

export const merchantOrderNo = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/)
  .describe("The merchant's order number: unique per merchant; it pays once");

export const payBody = z
  .strictObject({
    payerAccountId: accountIdString.describe('Wallet the money comes from'),
    payeeAccountId: accountIdString.describe("The merchant's own account the money goes to"),
    amount: amountString,
    currency: currencyString,
    merchantOrderNo,
    description: z.string().max(200).default(''),
    payer: z
      .strictObject({ ip: z.string().max(64).optional(), platform: z.string().max(40).optional() })
      .optional()
      .describe('Where the payer paid from, kept as a snapshot'),
    payerPassword: payerPasswordField,
  })
  .meta({
    example: {
      payerAccountId: '1015550123456782',
      payeeAccountId: '2014440123456787',
      amount: '12.50',
      currency: 'CNY',
      merchantOrderNo: 'SO-20261121-0001',
      description: 'coffee',
    },
  });

const refundView = z.object({
  refundId: z.uuid(),
  refundNo: z.string(),
  amount: amountString,
  status: z.enum(['requested', 'completed', 'failed']),
});

export const paymentView = z
  .object({
    paymentId: z.uuid(),
    merchantId: z.string(),
    merchantOrderNo: z.string(),
    status: z.enum(['initiated', 'completed', 'failed', 'cancelling', 'cancelled']),
    amount: amountString,
    currency: currencyString,
    payerAccountId: accountIdString,
    payeeAccountId: accountIdString,
    description: z.string(),
    initiatedAt: z.string(),
    accountingDate: z.string(),
    refundedAmount: amountString,
    refunds: z.array(refundView),
    failure: z.object({ code: z.string(), reason: z.string() }).nullable(),
    position: positionString.optional().describe('Pass as minPosition to read the effects back from the read models'),
  })
  .meta({ id: 'Payment' });

export const cancelPaymentBody = z.strictObject({ reason: z.string().max(200).default('') }).nullish();

export const refundBody = z
  .strictObject({
    refundNo: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.:-]+$/),
    amount: amountString,
    currency: currencyString,
    reason: z.string().max(200).default(''),
  })
  .meta({ example: { refundNo: 'RF-0001', amount: '2.50', currency: 'CNY', reason: 'damaged item' } });

export const refundedPaymentView = paymentView.extend({ refundId: z.uuid() });

export function toPaymentView(payment: ExistingPayment, position?: bigint): z.output<typeof paymentView> {
  const o = payment.order;
  return {
    paymentId: o.paymentId,
    merchantId: o.merchantId,
    merchantOrderNo: o.merchantOrderNo,
    status: payment.status,
    amount: formatAmount(o.amountMinor, o.currency),
    currency: o.currency,
    payerAccountId: o.payerAccountId,
    payeeAccountId: o.payeeAccountId,
    description: o.description,
    initiatedAt: o.initiatedAt,
    accountingDate: o.accountingDate,
    refundedAmount: formatAmount(payment.refundedMinor, o.currency),
    refunds: [...payment.refunds.values()].map((r) => ({
      refundId: r.refundId,
      refundNo: r.refundNo,
      amount: formatAmount(r.amountMinor, o.currency),
      status: r.status,
    })),
    failure: payment.failure ? { code: payment.failure.reasonCode, reason: payment.failure.reason } : null,
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

const paymentParams = z.object({ paymentId: z.uuid() });

export function paymentRoutes(service: LedgerService): FastifyPluginAsyncZod {
  /** A merchant sees its own payments only: another's is "not found", not "forbidden" (no probing). */
  async function visiblePayment(
    request: Parameters<typeof principalOf>[0],
    paymentId: string,
  ): Promise<ExistingPayment> {
    const payment = await service.commands.getPayment(paymentId);
    const principal = principalOf(request);
    if (principal.kind !== 'operator' && payment.order.merchantId !== principal.entityId) {
      throw new DomainError('operation_not_found', `payment ${paymentId} does not exist`, { paymentId });
    }
    return payment;
  }

  return async (app) => {
    app.post(
      '/v1/payments',
      {
        schema: {
          tags: ['payments'],
          summary: 'Pay: a balance payment from a wallet to the merchant',
          description:
            "Debits the payer wallet and credits the merchant account, as one operation with its own record. A merchant pays only into an account it owns, and takes money from another owner's wallet only with that owner's payment password (payerPassword; 403 payer_consent_required / payer_password_invalid). The merchant order number is unique per merchant: the same order again returns the first result, different terms are refused (409 duplicate_order_no). Refusals (insufficient_funds, account_not_active, account_flag_denies, currency_mismatch) record nothing.",
          headers: idempotencyHeaders,
          body: payBody,
          response: {
            201: paymentView,
            ...problemResponses(...MONEY_MOVEMENT_CODES, 'same_account', 'duplicate_order_no', 'insufficient_funds'),
          },
        },
      },
      async (request, reply) => {
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        const parties = await authoriseCharge(service, request, request.body);
        const payRequest = {
          merchantId: parties.payee.ownerId,
          merchantOrderNo: request.body.merchantOrderNo,
          description: request.body.description,
          payerAccountId: request.body.payerAccountId,
          payeeAccountId: request.body.payeeAccountId,
          amount,
          payerIp: request.body.payer?.ip ?? null,
          payerPlatform: request.body.payer?.platform ?? null,
        };
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            // Loaded for the consent check just before: not loaded again.
            const { payment, position } = await service.commands.pay(payRequest, context, parties);
            if (payment.status === 'failed' && payment.failure) {
              throw new HttpProblem(422, payment.failure.reasonCode, 'Payment failed', payment.failure.reason, {
                details: { paymentId: payment.order.paymentId },
              });
            }
            return { statusCode: 201, body: toPaymentView(payment, position) };
          },
          (context) => answeredInOneCommit(service.commands.payInOneCommit(payRequest, context), 201, toPaymentView),
        );
      },
    );

    app.get(
      '/v1/payments/:paymentId',
      {
        schema: {
          tags: ['payments'],
          summary: 'Query a payment (order status) by id',
          params: paymentParams,
          response: { 200: paymentView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const payment = await visiblePayment(request, request.params.paymentId);
        return toPaymentView(payment, await streamPosition(service, paymentStreamId(request.params.paymentId)));
      },
    );

    app.post(
      '/v1/payments/:paymentId/cancel',
      {
        schema: {
          tags: ['payments'],
          summary: 'Cancel (void) a same-day payment in full',
          description:
            'Only before the accounting day of the payment ends (cut at midnight in the accounting time zone) and before any refund; afterwards use a refund (422 cancel_window_closed).',
          headers: idempotencyHeaders,
          params: paymentParams,
          body: cancelPaymentBody,
          response: {
            200: paymentView,
            ...problemResponses(
              'operation_not_found',
              'operation_state_conflict',
              'cancel_window_closed',
              'account_not_active',
              'account_flag_denies',
            ),
          },
        },
      },
      async (request, reply) => {
        const visible = await visiblePayment(request, request.params.paymentId);
        const reason = request.body?.reason ?? '';
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { payment, position } = await service.commands.cancelPayment(
              request.params.paymentId,
              reason,
              context,
            );
            return { statusCode: 200, body: toPaymentView(payment, position) };
          },
          (context) =>
            answeredInOneCommit(
              service.commands.cancelInOneCommit(request.params.paymentId, reason, context, visible),
              200,
              toPaymentView,
            ),
        );
      },
    );

    app.post(
      '/v1/payments/:paymentId/refunds',
      {
        schema: {
          tags: ['payments'],
          summary: 'Refund a payment, in part or in full',
          description:
            'Several refunds may be made, each with its own refund number; their total never exceeds the payment (422 refund_exceeds_payment). The same refund number again returns the first result.',
          headers: idempotencyHeaders,
          params: paymentParams,
          body: refundBody,
          response: {
            201: refundedPaymentView,
            ...problemResponses(
              'invalid_amount',
              'currency_mismatch',
              'operation_not_found',
              'duplicate_refund_no',
              'operation_state_conflict',
              'refund_exceeds_payment',
              'insufficient_funds',
              'account_not_active',
              'account_flag_denies',
            ),
          },
        },
      },
      async (request, reply) => {
        const visible = await visiblePayment(request, request.params.paymentId);
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        const refundRequest = {
          paymentId: request.params.paymentId,
          refundNo: request.body.refundNo,
          amount,
          reason: request.body.reason,
        };
        const refundedView = (refunded: { payment: ExistingPayment; refundId: string }, position: bigint) => ({
          ...toPaymentView(refunded.payment, position),
          refundId: refunded.refundId,
        });
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { position, ...refunded } = await service.commands.refundPayment(refundRequest, context);
            return { statusCode: 201, body: refundedView(refunded, position) };
          },
          (context) =>
            answeredInOneCommit(service.commands.refundInOneCommit(refundRequest, context, visible), 201, refundedView),
        );
      },
    );
  };
}

import { LEARNT_BY } from '../../../domain/channel-payments/channel-payment-events.js';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deriveId, type CommandContext } from '../../../commands/command-context.js';
import type { ExistingChannelPayment } from '../../../domain/channel-payments/channel-payment-decider.js';
import type { ChannelPaymentRequest } from '../../../commands/channel-payments/channel-payment-process.js';
import { resolvePayerInstrument } from '../../../commands/contracts/contract-instruments.js';
import { payerInstrumentRequestJson } from '../../../domain/channels/payer-instrument.js';
import { CONTRACT_INSTRUMENT_CODES, namedPayer } from '../contract-payers.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import { phoneNumber, secretText } from '../../../domain/shared/sensitive-text.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf, requireAccountOwnerOrOperator } from '../authorization.js';
import { runCommand } from '../idempotent-command.js';
import { HttpProblem } from '../problem-details.js';
import { MONEY_MOVEMENT_CODES, problemResponses, type ProblemCode } from '../problem-responses.js';
import { OPERATION_STATUSES } from './operation-views.js';
import { merchantOrderNo } from './payments.js';

export const channelPaymentBody = z
  .strictObject({
    payeeAccountId: accountIdString.describe("The merchant's own account the money goes to"),
    amount: amountString,
    currency: currencyString,
    merchantOrderNo,
    description: z.string().max(200).default(''),
    instrument: payerInstrumentRequestJson.describe(
      "quick_pay with a bound card (by its contract id, the payer's and bound; or by hand: its contract per channel), online_banking (bank code, return URL) or platform_pay",
    ),
    payer: z
      .strictObject({
        ip: z.string().min(1).max(64),
        deviceId: z.string().min(1).max(128),
        payerId: z
          .string()
          .min(1)
          .max(64)
          .optional()
          .describe(
            "The merchant's id of its customer (risk limits); with a contract, required: the ledger user paying, whose contract it must be",
          ),
        phone: z
          .string()
          .regex(/^\+?[0-9]{6,20}$/)
          .optional()
          .describe('Where a step-up code is texted; recorded masked only'),
      })
      .describe('Who pays, as the merchant saw them'),
  })
  .meta({
    example: {
      payeeAccountId: '2014440123456787',
      amount: '88.00',
      currency: 'CNY',
      merchantOrderNo: 'SO-20261201-0042',
      description: 'headphones',
      instrument: { method: 'quick_pay', contractId: '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01' },
      payer: { ip: '198.51.100.7', deviceId: 'dev-phone-1', payerId: 'usr_9f1c2d3e4b5a', phone: '13800138000' },
    },
  });

/** As the operations read model names them (the decider's statuses). */
export const CHANNEL_PAYMENT_STATUSES = OPERATION_STATUSES.channel_payment;

export const channelPaymentView = z
  .object({
    paymentId: z.uuid(),
    merchantId: z.string(),
    merchantOrderNo: z.string(),
    status: z
      .enum(CHANNEL_PAYMENT_STATUSES)
      .describe(
        "awaiting_verification: POST the payer's SMS code to .../verification; pending: the payer acts at payerActionUrl, the result comes by callback or query; unknown: the channel is asked until it says; completed: the payee is credited; cancelled: voided the same day (the whole amount back to the payer)",
      ),
    amount: amountString,
    currency: currencyString,
    payeeAccountId: accountIdString,
    description: z.string(),
    method: z.enum(['quick_pay', 'online_banking', 'platform_pay']),
    channel: z.string().describe('The channel the router chose (or rerouted to)'),
    channelOrderNo: z.string().nullable(),
    payerActionUrl: z.string().nullable().describe('Pending: where to send the payer (a bank page, a pay page or QR)'),
    channelFee: amountString.nullable().describe("The channel's fee, once it succeeded (the platform's expense)"),
    refundedAmount: amountString.describe('Refunded (or cancelled) so far: what the channel confirmed'),
    learntBy: z.enum(LEARNT_BY).nullable().describe('How the outcome was learnt'),
    feeAnomaly: z
      .object({ reportedFee: amountString, scheduledFee: amountString.nullable() })
      .nullable()
      .describe(
        'The channel reported a fee above the amount (against its schedule): the payment completed all the same; an operator reviews it with the channel',
      ),
    verification: z
      .object({
        maskedPhone: z.string(),
        status: z.enum(['pending', 'verified', 'failed']),
        attemptsLeft: z.int(),
        sendsLeft: z.int(),
      })
      .nullable(),
    failure: z
      .object({
        code: z.string(),
        reason: z.string(),
        declineCode: z.string().nullable().describe("Our code for the channel's refusal"),
        channelCode: z.string().nullable().describe("The channel's own code"),
      })
      .nullable(),
    createdAt: z.string(),
    accountingDate: z.string(),
    position: positionString.optional().describe('Pass as minPosition to read the effects back from the read models'),
  })
  .meta({ id: 'ChannelPayment' });

export function toChannelPaymentView(
  payment: ExistingChannelPayment,
  position?: bigint,
): z.output<typeof channelPaymentView> {
  const o = payment.order;
  const challenge = payment.stepUp.status === 'none' ? null : payment.stepUp;
  return {
    paymentId: o.paymentId,
    merchantId: o.merchantId,
    merchantOrderNo: o.merchantOrderNo,
    status: payment.status,
    amount: formatAmount(o.amountMinor, o.currency),
    currency: o.currency,
    payeeAccountId: o.payeeAccountId,
    description: o.description,
    method: o.instrument.method,
    channel: payment.channel,
    channelOrderNo: payment.channelOrderNo,
    payerActionUrl: payment.payerActionUrl,
    channelFee: payment.feeMinor === null ? null : formatAmount(payment.feeMinor, o.currency),
    refundedAmount: formatAmount(payment.refundedMinor, o.currency),
    learntBy: payment.learntBy,
    feeAnomaly: payment.feeAnomaly && {
      reportedFee: formatAmount(payment.feeAnomaly.reportedFeeMinor, o.currency),
      scheduledFee:
        payment.feeAnomaly.scheduledFeeMinor === null
          ? null
          : formatAmount(payment.feeAnomaly.scheduledFeeMinor, o.currency),
    },
    verification: challenge && {
      maskedPhone: o.payer.maskedPhone ?? '',
      status: challenge.status,
      attemptsLeft: challenge.policy.maxAttempts - challenge.attemptsUsed,
      sendsLeft: challenge.policy.maxSends - challenge.sendsUsed,
    },
    failure: payment.failure && {
      code: payment.failure.reasonCode,
      reason: payment.failure.reason,
      declineCode: payment.failure.declineCode,
      channelCode: payment.failure.channelCode,
    },
    createdAt: o.createdAt,
    accountingDate: o.accountingDate,
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

/** The codes a failed channel payment answers with (its recorded reason code). */
export const CHANNEL_PAYMENT_FAILURE_CODES = [
  'risk_blocked',
  'verification_failed',
  'verification_code_expired',
  'verification_unavailable',
  'channel_declined',
  'channel_unavailable',
] as const satisfies readonly ProblemCode[];

function failureProblem(payment: ExistingChannelPayment): HttpProblem {
  const failure = payment.failure!;
  const code =
    CHANNEL_PAYMENT_FAILURE_CODES.find((known) => known === failure.reasonCode) ?? ('channel_declined' as const);
  const status = code === 'channel_unavailable' ? 503 : 422;
  return new HttpProblem(status, code, 'Channel payment failed', failure.reason, {
    details: {
      paymentId: payment.order.paymentId,
      ...(failure.declineCode ? { declineCode: failure.declineCode } : {}),
      ...(failure.channelCode ? { channelCode: failure.channelCode } : {}),
    },
  });
}

const paymentParams = z.object({ paymentId: z.uuid() });
export const verificationBody = z
  .strictObject({
    code: z
      .string()
      .regex(/^[0-9]{4,8}$/)
      .describe('The code the payer received by SMS'),
  })
  .meta({ example: { code: '493817' } });
export const resendBody = z
  .strictObject({
    phone: z
      .string()
      .regex(/^\+?[0-9]{6,20}$/)
      .describe('The phone the payment named'),
  })
  .meta({ example: { phone: '13800138000' } });

/** A merchant sees its own channel payments only: another's is "not found", not "forbidden". */
export async function visibleChannelPayment(service: LedgerService, request: FastifyRequest, paymentId: string) {
  const found = await service.channelPayments.get(paymentId);
  const principal = principalOf(request);
  if (principal.kind !== 'operator' && found.payment.order.merchantId !== principal.entityId)
    throw new DomainError('operation_not_found', `channel payment ${paymentId} does not exist`, { paymentId });
  return found;
}

/** The context of a status read that asks the channel once and records what it says. */
export function statusReadContext(service: LedgerService, request: FastifyRequest, id: string): CommandContext {
  const now = service.clock.now().toISO()!;
  return {
    actor: request.actor ?? 'anonymous',
    correlationId: request.id,
    causationId: null,
    idempotencyKey: null,
    operationKey: deriveId(id, `status\u0000${request.id}\u0000${now}`),
    occurredAt: now,
  };
}

/**
 * A channel payment request from its body, all but its instrument: the payee account's owner (the caller,
 * or an operator acting) as the merchant. Also bind-and-pay's payment, whose instrument is the new contract.
 */
export async function channelPaymentRequestOf(
  service: LedgerService,
  request: FastifyRequest,
  body: Omit<z.output<typeof channelPaymentBody>, 'instrument'>,
): Promise<Omit<ChannelPaymentRequest, 'instrument'>> {
  await requireAccountOwnerOrOperator(request, service.accountOwners, body.payeeAccountId);
  const merchantId = await service.accountOwners.ownerOf(body.payeeAccountId);
  if (merchantId === undefined)
    throw new DomainError('account_not_found', `account ${body.payeeAccountId} does not exist`, {
      accountId: body.payeeAccountId,
    });
  return {
    merchantId,
    payeeAccountId: body.payeeAccountId,
    merchantOrderNo: body.merchantOrderNo,
    amount: parseAmount(body.amount, parseCurrency(body.currency)),
    description: body.description,
    payer: {
      ip: body.payer.ip,
      deviceId: body.payer.deviceId,
      payerId: body.payer.payerId ?? null,
      phone: body.payer.phone === undefined ? null : phoneNumber(body.payer.phone),
    },
  };
}

export function channelPaymentRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const payments = service.channelPayments;
  const visible = (request: FastifyRequest, paymentId: string) => visibleChannelPayment(service, request, paymentId);
  const readContext = (request: FastifyRequest, paymentId: string) => statusReadContext(service, request, paymentId);

  return async (app) => {
    app.post(
      '/v1/channel-payments',
      {
        schema: {
          tags: ['channel payments'],
          summary: 'Pay through a payment channel (quick pay, online banking, platform pay)',
          description:
            "Validates the payee (the merchant's own account, open, taking the currency), routes among the channels that can carry the instrument (no_channel_available: nothing recorded), records the order, assesses risk (risk_blocked: failed; a step-up texts a code to payer.phone and answers `awaiting_verification`), then calls the channel under the payment id and answers its word: `completed` (the payee credited), `pending` (send the payer to payerActionUrl; the result arrives by callback or query), `unknown` (asked again until the channel says), or a failure (channel_declined with declineCode and channelCode; channel_unavailable once no channel could take it). The merchant order number pays once: the same order again answers the first payment, other terms 409 duplicate_order_no.",
          headers: idempotencyHeaders,
          body: channelPaymentBody,
          response: {
            201: channelPaymentView,
            ...problemResponses(
              ...MONEY_MOVEMENT_CODES,
              ...CHANNEL_PAYMENT_FAILURE_CODES,
              ...CONTRACT_INSTRUMENT_CODES,
              'no_channel_available',
              'duplicate_order_no',
            ),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const paymentRequest = {
          ...(await channelPaymentRequestOf(service, request, body)),
          instrument: await resolvePayerInstrument(service.cardBindings, body.instrument, async () =>
            namedPayer(request, body.payer.payerId),
          ),
        };
        await runCommand(request, reply, service, async (context) => {
          const { payment, position } = await payments.create(paymentRequest, context);
          if (payment.status === 'failed') throw failureProblem(payment);
          return { statusCode: 201, body: toChannelPaymentView(payment, position) };
        });
      },
    );

    app.get(
      '/v1/channel-payments/:paymentId',
      {
        schema: {
          tags: ['channel payments'],
          summary: 'Query a channel payment (order status)',
          description:
            "From the payment's own stream. While it is `pending` or `unknown`, the channel is asked once (within the channel call timeout) and what it says is recorded before the answer. A merchant sees its own; another's answers 404 like an unknown one.",
          params: paymentParams,
          response: { 200: channelPaymentView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const { paymentId } = request.params;
        const { payment, position } = await visible(request, paymentId);
        if (payment.status === 'pending' || payment.status === 'unknown') {
          const asked = await payments.askChannel(paymentId, readContext(request, paymentId));
          return toChannelPaymentView(asked.payment, asked.position);
        }
        return toChannelPaymentView(payment, position);
      },
    );

    app.post(
      '/v1/channel-payments/:paymentId/verification',
      {
        schema: {
          tags: ['channel payments'],
          summary: "Verify the payer's step-up code",
          description:
            "The code texted to the payer. Right: the payment goes on to the channel and is answered as POST /v1/channel-payments answers. Wrong: 422 verification_code_invalid (details.attemptsLeft); expired: 422 verification_code_expired (ask for a resend); the attempts used up or the challenge's time over: 422 verification_failed (the payment failed). A payment that asks for no code: 409 operation_state_conflict.",
          headers: idempotencyHeaders,
          params: paymentParams,
          body: verificationBody,
          response: {
            200: channelPaymentView,
            ...problemResponses(
              'operation_not_found',
              'operation_state_conflict',
              'verification_code_invalid',
              ...CHANNEL_PAYMENT_FAILURE_CODES,
            ),
          },
        },
      },
      async (request, reply) => {
        const { paymentId } = request.params;
        await visible(request, paymentId);
        const code = secretText(request.body.code);
        await runCommand(request, reply, service, async (context) => {
          const { payment, position } = await payments.verify(paymentId, code, context);
          if (payment.status === 'failed') throw failureProblem(payment);
          if (payment.status === 'awaiting_verification' && payment.stepUp.status === 'pending') {
            const expired = Date.parse(context.occurredAt) >= payment.stepUp.codeExpiresAtMs;
            const attemptsLeft = payment.stepUp.policy.maxAttempts - payment.stepUp.attemptsUsed;
            throw new HttpProblem(
              422,
              expired ? 'verification_code_expired' : 'verification_code_invalid',
              expired ? 'Verification code expired' : 'Verification code does not match',
              expired ? 'the code has expired: ask for a new one' : 'the code does not match',
              { details: { paymentId, attemptsLeft: String(attemptsLeft) } },
            );
          }
          return { statusCode: 200, body: toChannelPaymentView(payment, position) };
        });
      },
    );

    app.post(
      '/v1/channel-payments/:paymentId/verification/resend',
      {
        schema: {
          tags: ['channel payments'],
          summary: 'Text the payer a new step-up code',
          description:
            "To the phone the payment named (given again: only its masked form is recorded). Within the challenge's limits: 409 operation_state_conflict with reason resend_too_soon (and retryAt) or resend_limit_reached.",
          headers: idempotencyHeaders,
          params: paymentParams,
          body: resendBody,
          response: {
            200: channelPaymentView,
            ...problemResponses('operation_not_found', 'operation_state_conflict', 'forbidden'),
          },
        },
      },
      async (request, reply) => {
        const { paymentId } = request.params;
        await visible(request, paymentId);
        const phone = phoneNumber(request.body.phone);
        await runCommand(request, reply, service, async (context) => {
          const { payment, position } = await payments.resendCode(paymentId, phone, context);
          return { statusCode: 200, body: toChannelPaymentView(payment, position) };
        });
      },
    );
  };
}

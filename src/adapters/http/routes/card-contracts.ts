import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { confirmAndPay } from '../../../commands/contracts/bind-and-pay.js';
import type { ContractView } from '../../../commands/contracts/card-bindings.js';
import { bindingFailureReason } from '../../../domain/contracts/contract-events.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import { secretText } from '../../../domain/shared/sensitive-text.js';
import type { LedgerService } from '../../ledger-service.js';
import { idempotencyHeaders, optionalIdempotencyHeaders } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { commandContextOf } from '../idempotent-command.js';
import { CONTRACT_INSTRUMENT_CODES } from '../contract-payers.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import {
  CHANNEL_PAYMENT_FAILURE_CODES,
  channelPaymentBody,
  channelPaymentRequestOf,
  channelPaymentView,
  toChannelPaymentView,
} from './channel-payments.js';

/**
 * Bind-card contracts. Who may call what (least privilege): the merchant acting for its user starts a
 * binding (the user's payment password is the user's consent, as for payments) and only that merchant
 * (or an operator) sees and acts on the contract afterwards; another merchant is answered 404, no
 * existence oracle. The card number, ID number, name, phone, CVN2 and codes travel in bodies only, and
 * never through the recorded answers (whose request fingerprints would hash them): a start is idempotent
 * by its Idempotency-Key (the contract id derives from it), the rest by the contract's state.
 */
const contractParams = z.object({ contractId: z.uuid().describe('Contract id') });

export const startBindingBody = z
  .strictObject({
    userId: z.string().min(1).max(64).describe('The user binding the card'),
    paymentPassword: z.string().min(1).max(64).describe("The user's payment password (the user's consent)"),
    cardNumber: z.string().min(1).max(38).describe('As typed (spaces and dashes ignored); never logged'),
    holderName: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .describe('Real name: required while the user has no verified identity'),
    idNumber: z
      .string()
      .min(1)
      .max(32)
      .nullable()
      .describe('ID number: required while the user has no verified identity'),
    phone: z.string().min(5).max(20).describe('The phone reserved at the bank'),
    expiry: z.string().length(4).nullable().describe('Credit cards: MMYY'),
    cvn2: z.string().length(3).nullable().describe('Credit cards: used for the one channel call, kept nowhere'),
  })
  .meta({
    example: {
      userId: 'usr_9f1c2d3e4b5a',
      paymentPassword: '583920',
      cardNumber: '0000000001000004',
      holderName: 'Test Holder One',
      idNumber: 'TEST00000000000001',
      phone: '10000000001',
      expiry: null,
      cvn2: null,
    },
  });

export const contractView = z
  .object({
    contractId: z.uuid(),
    userId: z.string(),
    requestedBy: z.string(),
    status: z.enum(['verifying', 'awaiting_bank_code', 'pre_bound', 'bound', 'failed', 'terminated']),
    channelId: z.string(),
    signing: z.enum(['verify_then_sign', 'sign_at_verify']),
    maskedCard: z.string(),
    cardFingerprint: z.string(),
    bankCode: z.string().nullable(),
    cardKind: z.enum(['debit', 'credit', 'prepaid']),
    maskedPhone: z.string().nullable().describe('Where the code went'),
    contractNo: z.string().nullable().describe("The channel's contract number once signed"),
    failure: bindingFailureReason.nullable(),
    startedAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({
    id: 'CardContract',
    example: {
      contractId: '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01',
      userId: 'usr_9f1c2d3e4b5a',
      requestedBy: 'mch_2b3c4d5e6f70',
      status: 'awaiting_bank_code',
      channelId: 'sim-citybank',
      signing: 'verify_then_sign',
      maskedCard: '000000******0004',
      cardFingerprint: `cfp1_${'x'.repeat(43)}`,
      bankCode: 'CITY',
      cardKind: 'debit',
      maskedPhone: '100****0001',
      contractNo: null,
      failure: null,
      startedAt: '2026-12-01T02:00:00.000Z',
      expiresAt: '2026-12-01T02:15:00.000Z',
    },
  });

export const confirmBindingBody = z
  .strictObject({
    code: z
      .string()
      .regex(/^[0-9]{4,8}$/)
      .describe('The SMS code, as the user typed it'),
    payment: channelPaymentBody
      .omit({ instrument: true })
      .optional()
      .describe(
        "Bind-and-pay: the channel payment to make by quick pay with this contract once it is bound (as POST /v1/channel-payments, without `instrument`; `payer.payerId` defaults to the contract's user and must be it). None is made if the binding fails; its merchant order number pays once.",
      ),
  })
  .meta({
    example: {
      code: '123456',
      payment: {
        payeeAccountId: '2014440123456787',
        amount: '88.00',
        currency: 'CNY',
        merchantOrderNo: 'SO-20261201-0042',
        description: 'headphones',
        payer: { ip: '198.51.100.7', deviceId: 'dev-phone-1' },
      },
    },
  });

export const confirmedBindingView = contractView
  .extend({
    payment: channelPaymentView
      .optional()
      .describe('Bind-and-pay: the payment made with the new contract (its status: completed, pending, failed...)'),
  })
  .meta({ id: 'CardContractConfirmed' });

export const resendBindingCodeBody = z
  .strictObject({ phone: z.string().min(5).max(20).describe('The reserved phone, as typed again') })
  .meta({ example: { phone: '10000000001' } });

export const contractStatusView = z
  .object({
    contract: contractView,
    channel: z
      .object({ state: z.enum(['active', 'terminated', 'unknown']) })
      .nullable()
      .describe("The channel's answer (null before a contract number exists)"),
  })
  .meta({ id: 'CardContractStatus' });

export function cardContractRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const visible = async (request: FastifyRequest, contractId: string): Promise<ContractView> => {
    const principal = principalOf(request);
    const contract = await service.cardBindings.get(contractId);
    if (!contract || (principal.kind !== 'operator' && contract.requestedBy !== principal.entityId))
      throw new DomainError('operation_not_found', `contract ${contractId} not found`, { contractId });
    return contract;
  };
  const CONTRACT_CODES = ['operation_not_found', 'operation_state_conflict', 'channel_unavailable'] as const;
  return async (app) => {
    app.post(
      '/v1/card-contracts',
      {
        schema: {
          tags: ['cards'],
          summary: 'Start binding a card',
          description:
            "Checks the user (a phone, the payment password), identifies the card (BIN table), claims it (one contract per card: the same card again by the same user answers its bound contract, another user is refused `card_bound_to_another_user`), seals the card and identity data in the vault and asks the channel to verify the four elements. Bank channels text their code (`awaiting_bank_code`); card networks sign at once and we text our own code (`pre_bound`). The channel's refusals are distinct codes. Merchants (for their user) and operators.",
          headers: idempotencyHeaders,
          body: startBindingBody,
          response: {
            201: contractView,
            ...problemResponses(
              'forbidden',
              'entity_not_found',
              'entity_kind_denies',
              'entity_contact_missing',
              'payment_password_mismatch',
              'card_bound_to_another_user',
              'card_binding_in_progress',
              'card_elements_mismatch',
              'card_invalid',
              'card_not_supported',
              'card_restricted',
              'card_details_invalid',
              'card_identity_required',
              'channel_declined',
              'channel_unavailable',
            ),
          },
        },
      },
      async (request, reply) => {
        // Principals are merchants and operators: either may start a binding for a user.
        const principal = principalOf(request);
        const started = await service.cardBindings.start(
          { ...request.body, requestedBy: principal.entityId },
          commandContextOf(request, service.clock),
        );
        return reply.status(201).send(started);
      },
    );

    app.post(
      '/v1/card-contracts/:contractId/confirm',
      {
        schema: {
          tags: ['cards'],
          summary: 'Confirm a binding with the SMS code',
          description:
            "The bank's code (signed at the channel with it) or ours (the pre-binding becomes bound). A wrong code is counted: 422 `verification_code_invalid`; the limit fails the binding (`verification_failed`; a pre-binding is unsigned at the channel). With `payment` (bind-and-pay): once bound, the channel payment is made by quick pay with the contract and answered in `payment`; a binding that fails makes none, and the merchant order number pays once, so a retried confirm answers the same payment.",
          headers: optionalIdempotencyHeaders,
          params: contractParams,
          body: confirmBindingBody,
          response: {
            200: confirmedBindingView,
            ...problemResponses(
              ...CONTRACT_CODES,
              'verification_code_invalid',
              'verification_code_expired',
              'verification_failed',
              'card_elements_mismatch',
              ...MONEY_MOVEMENT_CODES,
              ...CHANNEL_PAYMENT_FAILURE_CODES,
              ...CONTRACT_INSTRUMENT_CODES,
              'no_channel_available',
              'duplicate_order_no',
            ),
          },
        },
      },
      async (request) => {
        const { contractId } = request.params;
        await visible(request, contractId);
        const code = secretText(request.body.code);
        const context = commandContextOf(request, service.clock);
        const payment = request.body.payment;
        if (payment === undefined) return service.cardBindings.confirm(contractId, code, context);
        const principal = principalOf(request);
        const paymentRequest = await channelPaymentRequestOf(service, request, payment);
        const made = await confirmAndPay(
          { bindings: service.cardBindings, payments: service.channelPayments },
          contractId,
          code,
          paymentRequest,
          principal.kind === 'operator' ? null : principal.entityId,
          context,
        );
        return { ...made.contract, payment: toChannelPaymentView(made.payment.payment, made.payment.position) };
      },
    );

    app.post(
      '/v1/card-contracts/:contractId/resend',
      {
        schema: {
          tags: ['cards'],
          summary: 'Resend our SMS code (card networks)',
          description:
            'A new code of ours to the reserved phone (typed again: it must be the one given at the start), within the resend limits (`operation_state_conflict` with `resend_limit_reached` or `resend_too_soon`). A bank texts its own code: starting again resends it.',
          headers: optionalIdempotencyHeaders,
          params: contractParams,
          body: resendBindingCodeBody,
          response: { 200: contractView, ...problemResponses(...CONTRACT_CODES, 'entity_contact_missing') },
        },
      },
      async (request) => {
        await visible(request, request.params.contractId);
        return service.cardBindings.resend(
          request.params.contractId,
          request.body.phone,
          commandContextOf(request, service.clock),
        );
      },
    );

    for (const [action, summary] of [
      ['cancel', 'Cancel a binding in progress (a pre-binding is unsigned at the channel)'],
      ['unbind', 'Unbind a bound card (unsigned at the channel, then terminated)'],
    ] as const)
      app.post(
        `/v1/card-contracts/:contractId/${action}`,
        {
          schema: {
            tags: ['cards'],
            summary,
            description: `${summary}. The card is free to bind again afterwards.`,
            headers: optionalIdempotencyHeaders,
            params: contractParams,
            response: { 200: contractView, ...problemResponses(...CONTRACT_CODES) },
          },
        },
        async (request) => {
          await visible(request, request.params.contractId);
          const context = commandContextOf(request, service.clock);
          return action === 'cancel'
            ? service.cardBindings.cancel(request.params.contractId, context)
            : service.cardBindings.unbind(request.params.contractId, 'unbound', context);
        },
      );

    app.get(
      '/v1/card-contracts/:contractId',
      {
        schema: {
          tags: ['cards'],
          summary: 'A contract, as we hold it and as the channel says',
          description: "Masked card, status, the contract number, and the channel's contract status (asked now).",
          params: contractParams,
          response: { 200: contractStatusView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        await visible(request, request.params.contractId);
        return service.cardBindings.status(request.params.contractId);
      },
    );
  };
}

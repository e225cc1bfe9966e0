import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { preauthStreamId, type ExistingPreauth } from '../../../commands/preauths/preauth-operations.js';
import type { PreauthInOneCommit } from '../../../commands/preauths/preauth-one-commit.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { authoriseCharge, payerPasswordField } from '../payer-consent.js';
import { answeredInOneCommit, runCommand } from '../idempotent-command.js';
import type { CommandContext } from '../../../commands/command-context.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import { streamPosition } from '../read-model-queries.js';

/** Longest hold a pre-authorisation may ask for; card schemes use days to weeks. */
const MAX_HOLD_DAYS = 30;

export const preauthView = z
  .object({
    preauthId: z.uuid(),
    merchantId: z.string(),
    merchantOrderNo: z.string(),
    status: z.enum([
      'requested',
      'authorised',
      'declined',
      'cancelled',
      'completing',
      'completed',
      'cancelling_completion',
    ]),
    amount: amountString.describe('Authorised (held) amount'),
    captured: amountString.nullable().describe('Captured by the completion, while completed'),
    currency: currencyString,
    payerAccountId: accountIdString,
    payeeAccountId: accountIdString,
    expiresAt: z.string(),
    cancelReason: z.enum(['merchant', 'expired']).nullable(),
    position: positionString.optional(),
  })
  .meta({ id: 'PreAuthorisation' });

export const authorisePreauthBody = z
  .strictObject({
    payerAccountId: accountIdString,
    payeeAccountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    merchantOrderNo: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.:-]+$/),
    expiresInSeconds: z
      .int()
      .min(60)
      .max(MAX_HOLD_DAYS * 86_400)
      .optional(),
    payerPassword: payerPasswordField,
  })
  .meta({
    example: {
      payerAccountId: '1015550123456782',
      payeeAccountId: '2014440123456787',
      amount: '300.00',
      currency: 'CNY',
      merchantOrderNo: 'HOTEL-7781',
    },
  });

export const completePreauthBody = z.strictObject({ amount: amountString, currency: currencyString });

function toPreauthView(preauth: ExistingPreauth, position?: bigint): z.output<typeof preauthView> {
  const r = preauth.request;
  const currency = r.currency;
  return {
    preauthId: r.preauthId,
    merchantId: r.merchantId,
    merchantOrderNo: r.merchantOrderNo,
    status: preauth.status,
    amount: formatAmount(r.amountMinor, currency),
    captured: preauth.completion ? formatAmount(preauth.completion.capturedMinor, currency) : null,
    currency: r.currency,
    payerAccountId: r.payerAccountId,
    payeeAccountId: r.payeeAccountId,
    expiresAt: r.expiresAt,
    cancelReason: preauth.cancelReason,
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

const preauthParams = z.object({ preauthId: z.uuid() });

export function preauthRoutes(service: LedgerService): FastifyPluginAsyncZod {
  async function ownPreauth(request: Parameters<typeof principalOf>[0], preauthId: string): Promise<ExistingPreauth> {
    const preauth = await service.commands.getPreauth(preauthId);
    const principal = principalOf(request);
    if (principal.kind !== 'operator' && preauth.request.merchantId !== principal.entityId) {
      throw new DomainError('operation_not_found', `pre-authorisation ${preauthId} does not exist`, { preauthId });
    }
    return preauth;
  }

  /**
   * A command on an existing pre-authorisation, answered 200 with its view: by its process (`process`),
   * or decided whole in one commit (`whole`) where the engine can.
   */
  function onPreauth(
    request: FastifyRequest,
    reply: FastifyReply,
    process: (context: CommandContext) => Promise<{ preauth: ExistingPreauth; position: bigint }>,
    whole: (context: CommandContext) => PreauthInOneCommit,
  ): Promise<void> {
    return runCommand(
      request,
      reply,
      service,
      async (context) => {
        const { preauth, position } = await process(context);
        return { statusCode: 200, body: toPreauthView(preauth, position) };
      },
      (context) => answeredInOneCommit(whole(context), 200, toPreauthView),
    );
  }

  return async (app) => {
    app.post(
      '/v1/preauths',
      {
        schema: {
          tags: ['pre-authorisations'],
          summary: 'Pre-authorise: hold an estimated amount on the payer',
          description: `Holds the amount on the payer wallet (available down, frozen up) for the merchant's order, until completed, cancelled, or expired (at most ${MAX_HOLD_DAYS} days; default from the service configuration).`,
          headers: idempotencyHeaders,
          body: authorisePreauthBody,
          response: {
            201: preauthView,
            ...problemResponses(...MONEY_MOVEMENT_CODES, 'same_account', 'duplicate_order_no', 'insufficient_funds'),
          },
        },
      },
      async (request, reply) => {
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        const parties = await authoriseCharge(service, request, request.body);
        const { payee } = parties;
        // The hold's expiry is judged from the command's time, as every deadline is.
        const authoriseRequest = (context: CommandContext) => {
          const holdSeconds = request.body.expiresInSeconds ?? service.config.preauthHoldSeconds;
          const expiresAt = DateTime.fromISO(context.occurredAt, { zone: 'utc' })
            .plus({ seconds: holdSeconds })
            .toISO()!;
          return {
            merchantId: payee.ownerId,
            merchantOrderNo: request.body.merchantOrderNo,
            payerAccountId: request.body.payerAccountId,
            payeeAccountId: request.body.payeeAccountId,
            amount,
            expiresAt,
          };
        };
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { preauth, position } = await service.commands.authorisePreauth(
              authoriseRequest(context),
              context,
              // Loaded for the consent check just before: not loaded again.
              parties,
            );
            return { statusCode: 201, body: toPreauthView(preauth, position) };
          },
          (context) =>
            answeredInOneCommit(
              service.commands.authoriseInOneCommit(authoriseRequest(context), context),
              201,
              toPreauthView,
            ),
        );
      },
    );

    app.get(
      '/v1/preauths/:preauthId',
      {
        schema: {
          tags: ['pre-authorisations'],
          summary: 'Get a pre-authorisation',
          params: preauthParams,
          response: { 200: preauthView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const preauth = await ownPreauth(request, request.params.preauthId);
        return toPreauthView(preauth, await streamPosition(service, preauthStreamId(request.params.preauthId)));
      },
    );

    app.post(
      '/v1/preauths/:preauthId/cancel',
      {
        schema: {
          tags: ['pre-authorisations'],
          summary: 'Cancel a pre-authorisation (always the full held amount)',
          headers: idempotencyHeaders,
          params: preauthParams,
          response: { 200: preauthView, ...problemResponses('operation_not_found', 'operation_state_conflict') },
        },
      },
      async (request, reply) => {
        const visible = await ownPreauth(request, request.params.preauthId);
        await onPreauth(
          request,
          reply,
          (context) => service.commands.cancelPreauth(request.params.preauthId, 'merchant', context),
          (context) => service.commands.cancelPreauthInOneCommit(visible, context),
        );
      },
    );

    app.post(
      '/v1/preauths/:preauthId/complete',
      {
        schema: {
          tags: ['pre-authorisations'],
          summary: 'Complete (capture) at most the authorised amount, once',
          description:
            'Pays the payee the captured amount out of the hold and releases the rest. 422 capture_exceeds_authorisation above the hold; 409 when already completed.',
          headers: idempotencyHeaders,
          params: preauthParams,
          body: completePreauthBody,
          response: {
            200: preauthView,
            ...problemResponses(
              'invalid_amount',
              'currency_mismatch',
              'operation_not_found',
              'operation_state_conflict',
              'capture_exceeds_authorisation',
              'preauth_expired',
              'account_not_active',
              'account_flag_denies',
            ),
          },
        },
      },
      async (request, reply) => {
        const visible = await ownPreauth(request, request.params.preauthId);
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        await onPreauth(
          request,
          reply,
          (context) => service.commands.completePreauth(request.params.preauthId, amount, context),
          (context) => service.commands.completeInOneCommit(visible, amount, context),
        );
      },
    );

    app.post(
      '/v1/preauths/:preauthId/completion/cancel',
      {
        schema: {
          tags: ['pre-authorisations'],
          summary: 'Cancel the completion (always the full captured amount)',
          description:
            'The payee returns the captured amount, the payer gets it back and the full authorised amount is held again: the authorisation is valid again.',
          headers: idempotencyHeaders,
          params: preauthParams,
          response: {
            200: preauthView,
            ...problemResponses(
              'operation_not_found',
              'operation_state_conflict',
              'insufficient_funds',
              'account_not_active',
              'account_flag_denies',
            ),
          },
        },
      },
      async (request, reply) => {
        const visible = await ownPreauth(request, request.params.preauthId);
        await onPreauth(
          request,
          reply,
          (context) => service.commands.cancelPreauthCompletion(request.params.preauthId, context),
          (context) => service.commands.cancelCompletionInOneCommit(visible, context),
        );
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { type ExistingRecharge, rechargeStreamId } from '../../../commands/recharges/recharge-handler.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import { operationsProjection } from '../../../projections/operations.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf, requireAccountOwnerOrOperator } from '../authorization.js';
import { answeredInTwoCommits, runCommand } from '../idempotent-command.js';
import { HttpProblem, failureStatus } from '../problem-details.js';
import { CHANNEL_CODES, MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import { awaitReadModel, streamPosition } from '../read-model-queries.js';
import { payerInstrumentRequestJson } from '../../../domain/channels/payer-instrument.js';
import { resolvePayerInstrument } from '../../../commands/contracts/contract-instruments.js';
import { accountHolderAsPayer, CONTRACT_INSTRUMENT_CODES } from '../contract-payers.js';
import { lookupContext, routingFields, routingFieldsOf } from './channel-answer-view.js';
import { OPERATION_STATUSES, rechargeLookupQuery } from './operation-views.js';

export const rechargeBody = z
  .strictObject({
    accountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    payer: payerInstrumentRequestJson.describe(
      "How the payer pays: quick pay with a bound card (by its contract id: it must be the account holder's, bound; or by hand: its contract at each channel holding it), online banking, or platform pay. The router chooses the channel.",
    ),
  })
  .meta({
    example: {
      accountId: '1015550123456782',
      amount: '100.00',
      currency: 'CNY',
      payer: {
        method: 'quick_pay',
        card: {
          bankCode: 'CITY',
          cardKind: 'debit',
          contracts: [{ channelId: 'sim-citybank', contractNo: 'CT0123456789' }],
        },
      },
    },
  });

/**
 * One view of a recharge wherever it is answered (POST, GET by id), with the status words of the domain
 * and of the list's `status` filter (`requested`, `completed`, `failed`).
 */
export const rechargeView = z
  .object({
    rechargeId: z.uuid(),
    accountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    channel: z.string().describe('The channel charged, as routed'),
    channelOrderNo: z.string().nullable().describe("The channel's reference, once completed"),
    channelFee: amountString.nullable().describe("The channel's fee, once completed"),
    ...routingFields,
    status: z.enum(OPERATION_STATUSES.recharge),
    failure: z.object({ code: z.string(), reason: z.string() }).nullable(),
    position: positionString.describe(
      'Global position of the last event of the recharge: pass as minPosition to read the new balance',
    ),
  })
  .meta({ id: 'Recharge' });

export function toRechargeView(recharge: ExistingRecharge, position: bigint): z.output<typeof rechargeView> {
  const r = recharge.request;
  return {
    rechargeId: r.rechargeId,
    accountId: r.accountId,
    amount: formatAmount(r.amountMinor, r.currency),
    currency: r.currency,
    channel: recharge.channel,
    channelOrderNo: recharge.charge?.channelOrderNo ?? null,
    channelFee: recharge.charge ? formatAmount(recharge.charge.channelFeeMinor, r.currency) : null,
    ...routingFieldsOf(recharge.routing ?? undefined, recharge.awaiting),
    status: recharge.status,
    failure: recharge.failure ? { code: recharge.failure.reasonCode, reason: recharge.failure.reason } : null,
    position: position.toString(),
  };
}

export function rechargeRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/recharges',
      {
        schema: {
          tags: ['recharges'],
          summary: 'Recharge (top up) an account',
          description:
            "Routes the charge (the cheapest healthy channel that can carry the payer's instrument; the decision is recorded with its inputs), charges the payer there and credits the account: 201. When the channel's answer is not final (pending: online banking or platform pay, the payer completes it at `channelAnswer.payerActionUrl`; unknown: a timeout), 202 with the recharge `requested`: the service asks the channel for the order (never charges again) and completes it; GET shows it. A channel that accepts nothing is routed away from; none left answers 503 channel_unavailable. Requires an Idempotency-Key: a retry with the same key and body returns the first response and moves no money; the same key with another body is refused (422 idempotency_key_reused). An operator, or a merchant on an account it owns.",
          headers: idempotencyHeaders,
          body: rechargeBody,
          response: {
            201: rechargeView,
            202: rechargeView,
            ...problemResponses(...MONEY_MOVEMENT_CODES, ...CHANNEL_CODES, ...CONTRACT_INSTRUMENT_CODES),
          },
        },
      },
      async (request, reply) => {
        await requireAccountOwnerOrOperator(request, service.accountOwners, request.body.accountId);
        const currency = parseCurrency(request.body.currency);
        const amount = parseAmount(request.body.amount, currency);
        const accountId = request.body.accountId;
        const payer = await resolvePayerInstrument(service.cardBindings, request.body.payer, () =>
          accountHolderAsPayer(request, service.accountOwners, accountId),
        );
        const rechargeRequest = { accountId, amount, payer };
        const answer = (recharge: ExistingRecharge, position: bigint) => {
          const r = recharge.request;
          if (recharge.status === 'requested' && recharge.awaiting)
            return { statusCode: 202, body: toRechargeView(recharge, position) };
          if (recharge.status !== 'completed' || !recharge.charge) {
            // A retry of a recharge that failed, or one still in flight: answer as its outcome says.
            const failure = recharge.failure ?? {
              reasonCode: 'operation_state_conflict',
              reason: `recharge ${r.rechargeId} is ${recharge.status}`,
            };
            throw new HttpProblem(
              failureStatus(failure.reasonCode),
              failure.reasonCode,
              'Recharge not completed',
              failure.reason,
              { details: { rechargeId: r.rechargeId } },
            );
          }
          return { statusCode: 201, body: toRechargeView(recharge, position) };
        };
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { recharge, position } = await service.commands.recharge(rechargeRequest, context);
            return answer(recharge, position);
          },
          (context) => answeredInTwoCommits(service.commands.rechargeInTwoCommits(rechargeRequest, context), answer),
        );
      },
    );

    app.get(
      '/v1/recharges/:rechargeId',
      {
        schema: {
          tags: ['recharges'],
          summary: 'Get a recharge',
          description:
            "The recharge as POST /v1/recharges answers it, from its own stream: also one completed by the recovery sweep after a crash, or one that failed. One whose channel answer is not final is asked about at its channel once first. `minPosition` is accepted (the answer is always current). The account's owner or an operator; another's recharge answers 404 like an unknown one.",
          params: z.object({ rechargeId: z.uuid() }),
          querystring: rechargeLookupQuery,
          response: { 200: rechargeView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const { rechargeId } = request.params;
        await awaitReadModel(service, operationsProjection.name, request.query.minPosition);
        const found = await service.commands.getRecharge(rechargeId);
        const principal = principalOf(request);
        if (
          principal.kind !== 'operator' &&
          (await service.accountOwners.ownerOf(found.request.accountId)) !== principal.entityId
        )
          throw new DomainError('operation_not_found', `recharge ${rechargeId} does not exist`, { rechargeId });
        const recharge = await service.commands.resolveRecharge(
          rechargeId,
          lookupContext(request, service.clock, rechargeId),
        );
        return toRechargeView(recharge, await streamPosition(service, rechargeStreamId(rechargeId)));
      },
    );
  };
}

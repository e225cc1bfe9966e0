import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { requireAccountOwnerOrOperator } from '../authorization.js';
import { runCommand } from '../idempotent-command.js';
import { HttpProblem, problemResponses } from '../problem-details.js';

export const rechargeBody = z
  .strictObject({
    accountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    channel: z.string().min(1).max(40).describe('Payment channel the money comes through, e.g. "sim-bank"'),
  })
  .meta({ example: { accountId: '1015550123456782', amount: '100.00', currency: 'CNY', channel: 'sim-bank' } });

export const rechargeView = z
  .object({
    rechargeId: z.uuid(),
    accountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    channel: z.string(),
    channelOrderNo: z.string(),
    channelFee: z.string(),
    status: z.literal('succeeded'),
    position: positionString.describe('Position of the recharge event: pass as minPosition to read the new balance'),
  })
  .meta({ id: 'Recharge' });

export function rechargeRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/recharges',
      {
        schema: {
          tags: ['recharges'],
          summary: 'Recharge (top up) an account',
          description:
            'Charges the payer through the payment channel and credits the account. Requires an Idempotency-Key: a retry with the same key and body returns the first response and moves no money; the same key with another body is refused (422 idempotency_key_reused). An operator, or a merchant on an account it owns.',
          headers: idempotencyHeaders,
          body: rechargeBody,
          response: { 201: rechargeView, ...problemResponses(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        await requireAccountOwnerOrOperator(request, service.accountOwners, request.body.accountId);
        const currency = parseCurrency(request.body.currency);
        const amount = parseAmount(request.body.amount, currency);
        await runCommand(request, reply, service, async (context) => {
          const { recharge, position } = await service.commands.recharge(
            { accountId: request.body.accountId, amount, channelId: request.body.channel },
            context,
          );
          const r = recharge.request;
          if (recharge.status !== 'completed' || !recharge.charge) {
            // A retry of a recharge that failed, or one still in flight: answer as its outcome says.
            const failure = recharge.failure ?? {
              reasonCode: 'operation_state_conflict',
              reason: `recharge ${r.rechargeId} is ${recharge.status}`,
            };
            throw new HttpProblem(
              failure.reasonCode === 'operation_state_conflict' ? 409 : 422,
              failure.reasonCode,
              'Recharge not completed',
              failure.reason,
              { details: { rechargeId: r.rechargeId } },
            );
          }
          return {
            statusCode: 201,
            body: {
              rechargeId: r.rechargeId,
              accountId: r.accountId,
              amount: formatAmount(r.amountMinor, r.currency),
              currency: r.currency,
              channel: r.channel,
              channelOrderNo: recharge.charge.channelOrderNo,
              channelFee: formatAmount(recharge.charge.channelFeeMinor, r.currency),
              status: 'succeeded',
              position: position.toString(),
            },
          };
        });
      },
    );
  };
}

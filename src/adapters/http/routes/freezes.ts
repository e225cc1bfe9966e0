import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { freezeStreamId, type ExistingFreeze } from '../../../commands/freezes/freeze-operations.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { accountNotFound, principalOf, requireAccountOwner } from '../authorization.js';
import { payerPasswordField, requirePayerConsent, takePayerPassword } from '../payer-consent.js';
import { answeredInOneCommit, runCommand } from '../idempotent-command.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import { streamPosition } from '../read-model-queries.js';

export const freezeView = z
  .object({
    freezeId: z.uuid(),
    accountId: accountIdString,
    status: z.enum(['requested', 'placed', 'refused']),
    amount: amountString.describe('Amount frozen when placed'),
    remaining: amountString.describe('Still frozen under this freeze'),
    released: amountString,
    currency: currencyString,
    reason: z.string(),
    placedBy: z.string(),
    deductions: z.array(
      z.object({
        deductionId: z.uuid(),
        amount: amountString,
        payeeAccountId: accountIdString,
        status: z.enum(['requested', 'completed', 'failed']),
      }),
    ),
    position: positionString.optional(),
  })
  .meta({ id: 'Freeze' });

export const placeFreezeBody = z
  .strictObject({
    amount: amountString,
    currency: currencyString,
    reason: z.string().max(200).default(''),
    payerPassword: payerPasswordField,
  })
  .meta({ example: { amount: '60.00', currency: 'CNY', reason: 'order SO-42 awaiting shipment' } });

export const releaseFreezeBody = z
  .strictObject({
    amount: amountString.optional(),
    currency: currencyString.optional(),
    reason: z.string().max(200).default(''),
  })
  .nullish();

export const deductFreezeBody = z.strictObject({
  amount: amountString,
  currency: currencyString,
  payeeAccountId: accountIdString,
  memo: z.string().max(200).default(''),
});

export const deductedFreezeView = freezeView.extend({ deductionId: z.uuid() });

function toFreezeView(freeze: ExistingFreeze, position?: bigint): z.output<typeof freezeView> {
  const r = freeze.request;
  const currency = r.currency;
  return {
    freezeId: r.freezeId,
    accountId: r.accountId,
    status: freeze.status,
    amount: formatAmount(r.amountMinor, currency),
    remaining: formatAmount(freeze.remainingMinor, currency),
    released: formatAmount(freeze.releasedMinor, currency),
    currency: r.currency,
    reason: r.reason,
    placedBy: r.placedBy,
    deductions: [...freeze.deductions.values()].map((d) => ({
      deductionId: d.deductionId,
      amount: formatAmount(d.amountMinor, currency),
      payeeAccountId: d.payeeAccountId,
      status: d.status,
    })),
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

const freezeParams = z.object({ freezeId: z.uuid() });

export function freezeRoutes(service: LedgerService): FastifyPluginAsyncZod {
  /** Only who placed a freeze (or an operator) sees and moves it; to others it does not exist. */
  async function ownFreeze(request: Parameters<typeof principalOf>[0], freezeId: string): Promise<ExistingFreeze> {
    const freeze = await service.commands.getFreeze(freezeId);
    const principal = principalOf(request);
    if (principal.kind !== 'operator' && freeze.request.placedBy !== principal.entityId) {
      throw new DomainError('freeze_not_found', `freeze ${freezeId} does not exist`, { freezeId });
    }
    return freeze;
  }

  return async (app) => {
    app.post(
      '/v1/accounts/:accountId/freezes',
      {
        schema: {
          tags: ['freezes'],
          summary: "Freeze part of an account's available funds",
          description:
            '"Freeze first, deduct when the goods ship": moves the amount from available to frozen; the balance is unchanged. Refused beyond the available funds (422 insufficient_funds). A merchant freezes another owner\'s account only with that owner\'s payment password (payerPassword).',
          headers: idempotencyHeaders,
          params: z.object({ accountId: accountIdString }),
          body: placeFreezeBody,
          response: {
            201: freezeView,
            ...problemResponses(...MONEY_MOVEMENT_CODES, 'freeze_exists', 'insufficient_funds'),
          },
        },
      },
      async (request, reply) => {
        const payerPassword = takePayerPassword(request.body);
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        const account = await service.commands.getAccountState(request.params.accountId);
        if (!account.exists)
          throw new DomainError('account_not_found', `account ${request.params.accountId} does not exist`, {
            accountId: request.params.accountId,
          });
        await requirePayerConsent(service, request, account.ownerId, payerPassword);
        const freezeRequest = { accountId: request.params.accountId, amount, reason: request.body.reason };
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { freeze, position } = await service.commands.placeFreeze(freezeRequest, context);
            return { statusCode: 201, body: toFreezeView(freeze, position) };
          },
          (context) =>
            answeredInOneCommit(service.commands.placeFreezeInOneCommit(freezeRequest, context), 201, toFreezeView),
        );
      },
    );

    app.get(
      '/v1/freezes/:freezeId',
      {
        schema: {
          tags: ['freezes'],
          summary: 'Get a freeze',
          params: freezeParams,
          response: { 200: freezeView, ...problemResponses('freeze_not_found') },
        },
      },
      async (request) => {
        const freeze = await ownFreeze(request, request.params.freezeId);
        return toFreezeView(freeze, await streamPosition(service, freezeStreamId(request.params.freezeId)));
      },
    );

    app.post(
      '/v1/freezes/:freezeId/release',
      {
        schema: {
          tags: ['freezes'],
          summary: 'Release frozen funds back to available',
          description: 'Releases `amount`, or everything the freeze still holds when no amount is given.',
          headers: idempotencyHeaders,
          params: freezeParams,
          body: releaseFreezeBody,
          response: {
            200: freezeView,
            ...problemResponses(
              'invalid_amount',
              'currency_mismatch',
              'freeze_not_found',
              'operation_state_conflict',
              'release_exceeds_frozen',
            ),
          },
        },
      },
      async (request, reply) => {
        const freeze = await ownFreeze(request, request.params.freezeId);
        const body = request.body;
        const amountMinor =
          body?.amount !== undefined
            ? parseAmount(body.amount, parseCurrency(body.currency ?? freeze.request.currency)).amountMinor
            : null;
        if (body?.currency !== undefined && body.currency !== freeze.request.currency) {
          throw new DomainError(
            'currency_mismatch',
            `freeze ${freeze.request.freezeId} is in ${freeze.request.currency}`,
            { currency: body.currency },
          );
        }
        const reason = body?.reason ?? '';
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const result = await service.commands.releaseFreeze(request.params.freezeId, amountMinor, reason, context);
            return { statusCode: 200, body: toFreezeView(result.freeze, result.position) };
          },
          (context) =>
            answeredInOneCommit(
              service.commands.releaseInOneCommit(freeze, amountMinor, reason, context),
              200,
              toFreezeView,
            ),
        );
      },
    );

    app.post(
      '/v1/freezes/:freezeId/deduct',
      {
        schema: {
          tags: ['freezes'],
          summary: 'Deduct from frozen funds to pay a payee',
          description:
            'Takes `amount` out of the frozen funds (balance down) and credits the payee. A merchant deducts only to an account it owns. Refused beyond what the freeze holds (422 deduction_exceeds_frozen).',
          headers: idempotencyHeaders,
          params: freezeParams,
          body: deductFreezeBody,
          response: {
            201: deductedFreezeView,
            ...problemResponses(...MONEY_MOVEMENT_CODES, 'freeze_not_found', 'deduction_exceeds_frozen'),
          },
        },
      },
      async (request, reply) => {
        const freeze = await ownFreeze(request, request.params.freezeId);
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        if (amount.currency !== freeze.request.currency)
          throw new DomainError(
            'currency_mismatch',
            `freeze ${freeze.request.freezeId} is in ${freeze.request.currency}`,
            { currency: amount.currency },
          );
        const payee = await service.commands.getAccountState(request.body.payeeAccountId);
        if (!payee.exists) throw accountNotFound(request.body.payeeAccountId);
        requireAccountOwner(request, request.body.payeeAccountId, payee.ownerId);
        const deductRequest = {
          freezeId: request.params.freezeId,
          amountMinor: amount.amountMinor,
          payeeAccountId: request.body.payeeAccountId,
          memo: request.body.memo,
        };
        const deductedView = (deducted: { freeze: ExistingFreeze; deductionId: string }, position: bigint) => ({
          ...toFreezeView(deducted.freeze, position),
          deductionId: deducted.deductionId,
        });
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { position, ...deducted } = await service.commands.deductFromFreeze(deductRequest, context);
            return { statusCode: 201, body: deductedView(deducted, position) };
          },
          (context) =>
            answeredInOneCommit(service.commands.deductInOneCommit(freeze, deductRequest, context), 201, deductedView),
        );
      },
    );
  };
}

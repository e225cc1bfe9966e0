import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ExistingTransfer } from '../../../commands/transfers/transfer-operations.js';
import type { ExistingWithdrawal } from '../../../commands/withdrawals/withdrawal-operations.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { accountNotFound, principalOf, requireAccountOwner } from '../authorization.js';
import { answeredInOneCommit, answeredInTwoCommits, runCommand } from '../idempotent-command.js';
import { HttpProblem, failureStatus } from '../problem-details.js';
import { CHANNEL_CODES, MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import { transferStreamId } from '../../../commands/transfers/transfer-operations.js';
import { withdrawalStreamId } from '../../../commands/withdrawals/withdrawal-operations.js';
import { payeeCardRequestJson } from '../../../domain/channels/payer-instrument.js';
import { resolvePayeeCard } from '../../../commands/contracts/contract-instruments.js';
import { accountHolderAsPayer, CONTRACT_INSTRUMENT_CODES } from '../contract-payers.js';
import { lookupContext, routingFields, routingFieldsOf } from './channel-answer-view.js';
import { streamPosition } from '../read-model-queries.js';

const outcome = {
  status: z.enum(['requested', 'completed', 'failed']),
  failure: z.object({ code: z.string(), reason: z.string() }).nullable(),
  position: positionString.optional(),
};

export const transferView = z
  .object({
    transferId: z.uuid(),
    fromAccountId: accountIdString,
    toAccountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    memo: z.string(),
    ...outcome,
  })
  .meta({ id: 'Transfer' });

export const withdrawalView = z
  .object({
    withdrawalId: z.uuid(),
    accountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    channel: z.string().describe('The channel paying out, as routed'),
    payeeReference: z.string().describe("The payee card's contract number at that channel"),
    channelOrderNo: z.string().nullable(),
    channelFee: amountString.nullable(),
    ...routingFields,
    ...outcome,
  })
  .meta({ id: 'Withdrawal' });

export const transferBody = z.strictObject({
  fromAccountId: accountIdString,
  toAccountId: accountIdString,
  amount: amountString,
  currency: currencyString,
  memo: z.string().max(200).default(''),
});

export const withdrawalBody = z
  .strictObject({
    accountId: accountIdString,
    amount: amountString,
    currency: currencyString,
    payee: payeeCardRequestJson.describe(
      "The payee's bound card: by its contract id (the account holder's, bound), or by hand: its bank, kind and contract at each channel holding it (contract numbers, never a card number). The router chooses the channel among those.",
    ),
  })
  .meta({
    example: {
      accountId: '1015550123456782',
      amount: '50.00',
      currency: 'CNY',
      payee: { contractId: '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01' },
    },
  });

function positionField(position?: bigint) {
  return position !== undefined && position >= 0n ? { position: position.toString() } : {};
}

function toTransferView(t: ExistingTransfer, position?: bigint): z.output<typeof transferView> {
  const r = t.request;
  return {
    transferId: r.transferId,
    fromAccountId: r.fromAccountId,
    toAccountId: r.toAccountId,
    amount: formatAmount(r.amountMinor, r.currency),
    currency: r.currency,
    memo: r.memo,
    status: t.status,
    failure: t.failure ? { code: t.failure.reasonCode, reason: t.failure.reason } : null,
    ...positionField(position),
  };
}

function toWithdrawalView(w: ExistingWithdrawal, position?: bigint): z.output<typeof withdrawalView> {
  const r = w.request;
  return {
    withdrawalId: r.withdrawalId,
    accountId: r.accountId,
    amount: formatAmount(r.amountMinor, r.currency),
    currency: r.currency,
    channel: r.channel,
    payeeReference: r.payeeReference,
    channelOrderNo: w.payout?.channelOrderNo ?? null,
    channelFee: w.payout ? formatAmount(w.payout.channelFeeMinor, r.currency) : null,
    ...routingFieldsOf(r.routing, w.awaiting),
    status: w.status,
    failure: w.failure ? { code: w.failure.reasonCode, reason: w.failure.reason } : null,
    ...positionField(position),
  };
}

/** Moving money out of an account is for its owner (a merchant's own account) or an operator. */
async function requireSourceOwner(
  service: LedgerService,
  request: Parameters<typeof principalOf>[0],
  accountId: string,
): Promise<void> {
  const account = await service.commands.getAccountState(accountId);
  if (!account.exists) throw accountNotFound(accountId);
  requireAccountOwner(request, accountId, account.ownerId);
}

function failedProblem(
  failure: { reasonCode: string; reason: string } | null,
  id: Record<string, string>,
): HttpProblem | null {
  return failure
    ? new HttpProblem(failureStatus(failure.reasonCode), failure.reasonCode, 'Operation failed', failure.reason, {
        details: id,
      })
    : null;
}

export function transferAndWithdrawalRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/transfers',
      {
        schema: {
          tags: ['transfers'],
          summary: 'Transfer between two accounts',
          description:
            'Debits the sender (needs maySendTransfers) and credits the receiver (needs mayReceiveTransfers).',
          headers: idempotencyHeaders,
          body: transferBody,
          response: {
            201: transferView,
            ...problemResponses(...MONEY_MOVEMENT_CODES, 'same_account', 'insufficient_funds'),
          },
        },
      },
      async (request, reply) => {
        await requireSourceOwner(service, request, request.body.fromAccountId);
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        const transferRequest = {
          fromAccountId: request.body.fromAccountId,
          toAccountId: request.body.toAccountId,
          amount,
          memo: request.body.memo,
        };
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { transfer, position } = await service.commands.transfer(transferRequest, context);
            const problem = failedProblem(transfer.failure, { transferId: transfer.request.transferId });
            if (problem) throw problem;
            return { statusCode: 201, body: toTransferView(transfer, position) };
          },
          (context) =>
            answeredInOneCommit(service.commands.transferInOneCommit(transferRequest, context), 201, toTransferView),
        );
      },
    );

    app.get(
      '/v1/transfers/:transferId',
      {
        schema: {
          tags: ['transfers'],
          summary: 'Get a transfer',
          params: z.object({ transferId: z.uuid() }),
          response: { 200: transferView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const transfer = await service.commands.getTransfer(request.params.transferId);
        const principal = principalOf(request);
        if (
          principal.kind !== 'operator' &&
          transfer.request.from.ownerId !== principal.entityId &&
          transfer.request.to.ownerId !== principal.entityId
        ) {
          throw new DomainError('operation_not_found', `transfer ${request.params.transferId} does not exist`, {
            transferId: request.params.transferId,
          });
        }
        return toTransferView(transfer, await streamPosition(service, transferStreamId(request.params.transferId)));
      },
    );

    app.post(
      '/v1/withdrawals',
      {
        schema: {
          tags: ['withdrawals'],
          summary: 'Withdraw to an external card through a channel',
          description:
            "Routes the payout among the channels holding the payee card's contract (the decision recorded with its inputs), debits the account, then pays out there: 201. A declined payout credits the account back and answers 422 channel_declined; a channel that accepted nothing, 503 channel_unavailable (credited back too). When the payout's answer is not final (pending, or unknown: a timeout), 202 with the withdrawal `requested` and the account debited: the service asks the channel for the order (never pays out again) and finishes it; GET shows it.",
          headers: idempotencyHeaders,
          body: withdrawalBody,
          response: {
            201: withdrawalView,
            202: withdrawalView,
            ...problemResponses(
              ...MONEY_MOVEMENT_CODES,
              ...CHANNEL_CODES,
              ...CONTRACT_INSTRUMENT_CODES,
              'insufficient_funds',
            ),
          },
        },
      },
      async (request, reply) => {
        await requireSourceOwner(service, request, request.body.accountId);
        const amount = parseAmount(request.body.amount, parseCurrency(request.body.currency));
        const accountId = request.body.accountId;
        const payee = await resolvePayeeCard(service.cardBindings, request.body.payee, () =>
          accountHolderAsPayer(request, service.accountOwners, accountId),
        );
        const withdrawalRequest = { accountId, amount, payee };
        const answer = (withdrawal: ExistingWithdrawal, position: bigint) => {
          const problem = failedProblem(withdrawal.failure, { withdrawalId: withdrawal.request.withdrawalId });
          if (problem) throw problem;
          if (withdrawal.status === 'requested' && withdrawal.awaiting)
            return { statusCode: 202, body: toWithdrawalView(withdrawal, position) };
          return { statusCode: 201, body: toWithdrawalView(withdrawal, position) };
        };
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { withdrawal, position } = await service.commands.withdraw(withdrawalRequest, context);
            return answer(withdrawal, position);
          },
          (context) =>
            answeredInTwoCommits(service.commands.withdrawalInTwoCommits(withdrawalRequest, context), answer),
        );
      },
    );

    app.get(
      '/v1/withdrawals/:withdrawalId',
      {
        schema: {
          tags: ['withdrawals'],
          summary: 'Get a withdrawal',
          params: z.object({ withdrawalId: z.uuid() }),
          response: { 200: withdrawalView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const found = await service.commands.getWithdrawal(request.params.withdrawalId);
        const account = await service.commands.getAccountState(found.request.accountId);
        const principal = principalOf(request);
        if (principal.kind !== 'operator' && (!account.exists || account.ownerId !== principal.entityId)) {
          throw new DomainError('operation_not_found', `withdrawal ${request.params.withdrawalId} does not exist`, {
            withdrawalId: request.params.withdrawalId,
          });
        }
        const withdrawal = await service.commands.resolveWithdrawal(
          request.params.withdrawalId,
          lookupContext(request, service.clock, request.params.withdrawalId),
        );
        return toWithdrawalView(
          withdrawal,
          await streamPosition(service, withdrawalStreamId(request.params.withdrawalId)),
        );
      },
    );
  };
}

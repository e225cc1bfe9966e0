import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RecordedTransferBatch } from '../../../commands/transfers/transfer-batch.js';
import { transferBatchStreamId } from '../../../commands/transfers/transfer-batch.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import { MAX_TRANSFER_BATCH_ITEMS } from '../../../domain/transfers/transfer-batch-decider.js';
import { transferBatchItemStatuses, transferBatchModes } from '../../../domain/transfers/transfer-batch-events.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { answeredInOneCommit, runCommand } from '../idempotent-command.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import { streamPosition } from '../read-model-queries.js';
import { transferBody } from './transfers-and-withdrawals.js';

/**
 * Largest batch request body: MAX_TRANSFER_BATCH_ITEMS items at their largest (a 200-character memo of
 * 4-byte characters, a 64-character reference: about 1.3 KiB each) fit; the server's own limit (64 KiB)
 * stays for every other route.
 */
export const MAX_TRANSFER_BATCH_BODY_BYTES = 2 * 1024 * 1024;

export const transferBatchBody = z.strictObject({
  mode: z.enum(transferBatchModes),
  items: z
    .array(
      transferBody.extend({
        reference: z
          .string()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9_.:-]+$/)
          .optional()
          .describe("The caller's own reference for this item, echoed in the results"),
      }),
    )
    .min(1)
    .max(MAX_TRANSFER_BATCH_ITEMS)
    .describe(`1 to ${MAX_TRANSFER_BATCH_ITEMS} transfers, decided in this order`),
});

export const transferBatchView = z
  .object({
    batchId: z.uuid(),
    mode: z.enum(transferBatchModes),
    status: z
      .enum(['applied', 'partially_applied', 'refused'])
      .describe('applied: every item moved; refused: none did (all_or_nothing: one item was refused)'),
    appliedCount: z.int(),
    items: z.array(
      z.object({
        index: z.int(),
        transferId: z.uuid().describe('GET /v1/transfers/{transferId} shows an applied item'),
        reference: z.string().nullable(),
        fromAccountId: accountIdString,
        toAccountId: accountIdString,
        amount: amountString,
        currency: currencyString,
        memo: z.string(),
        status: z
          .enum(transferBatchItemStatuses)
          .describe(
            'completed; refused (failure says why); not_applied (all_or_nothing, another item was refused); compensated (fallback engine only: ran, then reversed)',
          ),
        failure: z.object({ code: z.string(), reason: z.string() }).nullable(),
      }),
    ),
    position: positionString.optional(),
  })
  .meta({ id: 'TransferBatch' });

function toBatchView(batch: RecordedTransferBatch, position?: bigint): z.output<typeof transferBatchView> {
  const applied = batch.items.filter((item) => item.status === 'completed').length;
  return {
    batchId: batch.batchId,
    mode: batch.mode,
    status: applied === batch.items.length ? 'applied' : applied === 0 ? 'refused' : 'partially_applied',
    appliedCount: applied,
    items: batch.items.map((item, index) => ({
      index,
      transferId: item.transferId,
      reference: item.reference,
      fromAccountId: item.fromAccountId,
      toAccountId: item.toAccountId,
      amount: formatAmount(item.amountMinor, item.currency),
      currency: item.currency,
      memo: item.memo,
      status: item.status,
      failure: item.failure,
    })),
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

/** Bad amounts are refused before anything runs, naming the item. */
function parseItems(items: z.output<typeof transferBatchBody>['items']) {
  return items.map((item, index) => {
    try {
      return {
        fromAccountId: item.fromAccountId,
        toAccountId: item.toAccountId,
        amount: parseAmount(item.amount, parseCurrency(item.currency)),
        memo: item.memo,
        reference: item.reference ?? null,
      };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw new DomainError(error.code, `item ${index}: ${error.message}`, { ...error.details, item: String(index) });
    }
  });
}

export function transferBatchRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/transfer-batches',
      {
        bodyLimit: MAX_TRANSFER_BATCH_BODY_BYTES,
        schema: {
          tags: ['transfers'],
          summary: 'Transfer in a batch',
          description: `Up to ${MAX_TRANSFER_BATCH_ITEMS} transfers under one signature and Idempotency-Key, each decided as a single transfer (the caller must own each from-account). all_or_nothing: one refused item and nothing moves; independent: the accepted items move. The answer gives each item's result; a refused item does not fail the request.`,
          headers: idempotencyHeaders,
          body: transferBatchBody,
          response: { 201: transferBatchView, ...problemResponses(...MONEY_MOVEMENT_CODES) },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const batchRequest = {
          mode: request.body.mode,
          items: parseItems(request.body.items),
          callerId: principal.kind === 'operator' ? null : principal.entityId,
        };
        await runCommand(
          request,
          reply,
          service,
          async (context) => {
            const { batch, position } = await service.commands.transferBatch(batchRequest, context);
            return { statusCode: 201, body: toBatchView(batch, position) };
          },
          (context) =>
            answeredInOneCommit(service.commands.transferBatchInOneCommit(batchRequest, context), 201, toBatchView),
        );
      },
    );

    app.get(
      '/v1/transfer-batches/:batchId',
      {
        schema: {
          tags: ['transfers'],
          summary: 'Get a transfer batch',
          description: "Its items and their results; another caller's batch answers as an unknown one.",
          params: z.object({ batchId: z.uuid() }),
          response: { 200: transferBatchView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const { batchId } = request.params;
        const notFound = new DomainError('operation_not_found', `transfer batch ${batchId} does not exist`, {
          batchId,
        });
        const batch = await service.commands.getTransferBatch(batchId);
        const principal = principalOf(request);
        if (principal.kind !== 'operator' && batch.ownerId !== principal.entityId) throw notFound;
        return toBatchView(batch, await streamPosition(service, transferBatchStreamId(batchId)));
      },
    );
  };
}

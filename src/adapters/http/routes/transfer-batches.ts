import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RecordedTransferBatch } from '../../../commands/transfers/transfer-batch.js';
import { transferBatchStreamId } from '../../../commands/transfers/transfer-batch.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import { MAX_TRANSFER_BATCH_ITEMS } from '../../../domain/transfers/transfer-batch-decider.js';
import {
  transferBatchItemStatuses,
  transferBatchModes,
  transferBatchStatus,
  transferBatchStatuses,
} from '../../../domain/transfers/transfer-batch-events.js';
import type { StoredDocument } from '../../../ports/read-model-store.js';
import {
  TRANSFER_BATCHES_COLLECTION,
  TRANSFER_BATCHES_PROJECTION,
  type TransferBatchDocument,
} from '../../../projections/transfer-batches.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { answeredInOneCommit, runCommand } from '../idempotent-command.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import {
  awaitReadModel,
  groupInstantRange,
  instantRange,
  instantRangeFields,
  listPageView,
  listQueryFields,
  pageOf,
  streamPosition,
  whereOf,
} from '../read-model-queries.js';
import { entityIdFilter } from './operation-views.js';
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

const batchStatus = z
  .enum(transferBatchStatuses)
  .describe('applied: every item moved; refused: none did (all_or_nothing: one item was refused)');

export const transferBatchView = z
  .object({
    batchId: z.uuid(),
    mode: z.enum(transferBatchModes),
    status: batchStatus,
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
    status: transferBatchStatus(applied, batch.items.length),
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

export const transferBatchSummaryView = z
  .object({
    batchId: z.uuid().describe('GET /v1/transfer-batches/{batchId} gives its items'),
    ownerId: z.string().nullable().describe("The merchant whose request it was; null: an operator's"),
    mode: z.enum(transferBatchModes),
    status: batchStatus,
    itemCount: z.int(),
    appliedCount: z.int(),
    createdAt: z.string().describe('UTC'),
    position: positionString.describe('Global position of the event that recorded it'),
  })
  .meta({ id: 'TransferBatchSummary' });

export const transferBatchPageView = listPageView(transferBatchSummaryView).meta({ id: 'TransferBatchPage' });

export const transferBatchListQuery = z.strictObject({
  ...listQueryFields,
  ...instantRangeFields,
  status: batchStatus.optional(),
  merchantId: entityIdFilter.optional().describe("Operators: one merchant's (a merchant sees its own)"),
});

function toBatchSummary(doc: StoredDocument<TransferBatchDocument>): z.output<typeof transferBatchSummaryView> {
  const d = doc.data;
  return {
    batchId: d.batchId,
    ownerId: d.ownerId,
    mode: d.mode as z.output<typeof transferBatchSummaryView>['mode'],
    status: d.status as z.output<typeof transferBatchSummaryView>['status'],
    itemCount: d.itemCount,
    appliedCount: d.appliedCount,
    createdAt: d.createdAt,
    position: doc.position.toString(),
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
      '/v1/transfer-batches',
      {
        schema: {
          tags: ['transfers'],
          summary: 'List transfer batches',
          description:
            "Batches by status and creation instant, each as a whole (GET /v1/transfer-batches/{batchId} for its items). A merchant sees its own; an operator all (its own batches too), or one merchant's with `merchantId`. Newest first by default. Pass `minPosition` (a command's `position`) to read your own writes.",
          querystring: transferBatchListQuery,
          response: { 200: transferBatchPageView, ...problemResponses('invalid_query', 'cursor_mismatch') },
        },
      },
      async (request) => {
        const q = request.query;
        const principal = principalOf(request);
        await awaitReadModel(service, TRANSFER_BATCHES_PROJECTION, q.minPosition);
        // A merchant's list is its own: naming another merchant gets an empty page, as an unknown one would.
        const owner = principal.kind === 'operator' ? q.merchantId : principal.entityId;
        if (principal.kind !== 'operator' && q.merchantId !== undefined && q.merchantId !== owner)
          return { items: [], nextCursor: null };
        const range =
          owner === undefined
            ? instantRange('createdAt', q.from, q.to)
            : groupInstantRange('ownerTimeKey', owner, q.from, q.to);
        // The owner is bound too: a merchant's cursor does not page an operator's list.
        const paging = pageOf(q, owner === undefined ? 'createdAt' : 'ownerTimeKey', JSON.stringify([owner ?? null]));
        const page = await service.readModels.find<TransferBatchDocument>(TRANSFER_BATCHES_COLLECTION, {
          where: whereOf({ status: q.status }),
          ...(range ? { range } : {}),
          ...paging.find,
        });
        return { items: page.items.map(toBatchSummary), nextCursor: paging.next(page.nextCursor) };
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

import { z } from 'zod';
import { currencyCode, minorUnits } from '../shared/codecs.js';

/**
 * A batch of transfers (`transferbatch-<batchId>`): what was asked, item by item, and what became of each.
 * The items are recorded in chunks (a stored event stays well under an append's byte limit on every
 * engine), then the batch itself, which closes the record. Each applied item is a transfer of its own
 * (`transfer-<transferId>`), recorded beside the batch.
 */
export const MAX_BATCH_ITEMS_PER_EVENT = 100;

const batchId = z.uuid();
export const transferBatchModes = ['all_or_nothing', 'independent'] as const;
export const transferBatchItemStatuses = ['completed', 'refused', 'not_applied', 'compensated'] as const;

export const transferBatchItem = z.strictObject({
  transferId: z.uuid(),
  fromAccountId: z.string(),
  toAccountId: z.string(),
  amountMinor: minorUnits,
  currency: currencyCode,
  memo: z.string().max(200),
  reference: z.string().max(64).nullable(),
  status: z.enum(transferBatchItemStatuses),
  failure: z.strictObject({ code: z.string(), reason: z.string().max(300) }).nullable(),
});

export const transferBatchItemsRecorded = z.strictObject({
  type: z.literal('TransferBatchItemsRecorded'),
  data: z.strictObject({
    batchId,
    firstIndex: z.int().min(0),
    items: z.array(transferBatchItem).min(1).max(MAX_BATCH_ITEMS_PER_EVENT),
  }),
});
export const transferBatchRecorded = z.strictObject({
  type: z.literal('TransferBatchRecorded'),
  data: z.strictObject({
    batchId,
    /** The entity whose request it was (null: an operator's): only it may read the batch back. */
    ownerId: z.string().nullable(),
    mode: z.enum(transferBatchModes),
    itemCount: z.int().min(1),
    appliedCount: z.int().min(0),
  }),
});

/** A recorded batch as a whole: every item moved (applied), none did (refused), or some. */
export const transferBatchStatuses = ['applied', 'partially_applied', 'refused'] as const;
export type TransferBatchStatus = (typeof transferBatchStatuses)[number];

export function transferBatchStatus(appliedCount: number, itemCount: number): TransferBatchStatus {
  return appliedCount === itemCount ? 'applied' : appliedCount === 0 ? 'refused' : 'partially_applied';
}

export const transferBatchEventSchemas = [transferBatchItemsRecorded, transferBatchRecorded] as const;
export type TransferBatchEvent = z.output<(typeof transferBatchEventSchemas)[number]>;
export type TransferBatchItem = z.output<typeof transferBatchItem>;
export type TransferBatchMode = (typeof transferBatchModes)[number];

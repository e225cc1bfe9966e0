import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import { transferBatchStatus } from '../domain/transfers/transfer-batch-events.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Transfer batches: one document per recorded batch, so a caller can find the batches it made
 * (GET /v1/transfer-batches). Only the batch as a whole (mode, counts, status): its items stay on its
 * stream (GET /v1/transfer-batches/{id}), and each applied item is a transfer in the operations read model.
 * A batch is recorded once (TransferBatchRecorded closes its record), so each document is written once.
 */
export const TRANSFER_BATCHES_PROJECTION = 'transfer-batches';
export const TRANSFER_BATCHES_COLLECTION = 'transfer_batches';

export interface TransferBatchDocument extends JsonObject {
  batchId: string;
  /** The entity whose request it was; null: an operator's. */
  ownerId: string | null;
  mode: string;
  status: string;
  itemCount: number;
  appliedCount: number;
  createdAt: string;
  /** `<ownerId>|<createdAt>`: one owner's batches in creation order, as one index range; null for an operator's. */
  ownerTimeKey: string | null;
}

export const transferBatchesProjection: Projection = {
  name: TRANSFER_BATCHES_PROJECTION,
  version: 1,
  collections: [
    { name: TRANSFER_BATCHES_COLLECTION, indexes: ['createdAt', 'ownerTimeKey', 'status'], writeOnce: true },
  ],
  eventTypes: ['TransferBatchRecorded'],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    if (event.type !== 'TransferBatchRecorded') return [];
    const d = event.data;
    const createdAt = utcInstantKey(envelope.metadata.occurredAt);
    const doc: TransferBatchDocument = {
      batchId: d.batchId,
      ownerId: d.ownerId,
      mode: d.mode,
      status: transferBatchStatus(d.appliedCount, d.itemCount),
      itemCount: d.itemCount,
      appliedCount: d.appliedCount,
      createdAt,
      ownerTimeKey: d.ownerId === null ? null : compositeKey(d.ownerId, createdAt),
    };
    return [{ collection: TRANSFER_BATCHES_COLLECTION, id: d.batchId, apply: () => doc }];
  },
};

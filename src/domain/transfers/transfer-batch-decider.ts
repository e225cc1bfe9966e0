import { assert } from '../shared/domain-error.js';
import {
  MAX_BATCH_ITEMS_PER_EVENT,
  type TransferBatchEvent,
  type TransferBatchItem,
  type TransferBatchMode,
} from './transfer-batch-events.js';

/** Most transfers one batch may carry: one SQLite commit holds a whole batch (see transfer-batch.ts). */
export const MAX_TRANSFER_BATCH_ITEMS = 1_000;

export interface TransferBatchRecord {
  readonly batchId: string;
  readonly ownerId: string | null;
  readonly mode: TransferBatchMode;
  readonly items: readonly TransferBatchItem[];
}

export type TransferBatchState =
  | { readonly recorded: false; readonly items: readonly TransferBatchItem[] }
  | ({ readonly recorded: true; readonly appliedCount: number } & TransferBatchRecord);

/**
 * RecordTransferBatch records what is left of the batch at once (one commit); RecordTransferBatchItems
 * only its next chunk of items, for engines whose single appends are smaller than a whole batch.
 */
export type TransferBatchCommand = {
  readonly type: 'RecordTransferBatch' | 'RecordTransferBatchItems';
} & TransferBatchRecord;

export function evolveTransferBatch(state: TransferBatchState, event: TransferBatchEvent): TransferBatchState {
  switch (event.type) {
    case 'TransferBatchItemsRecorded':
      return state.recorded ? state : { recorded: false, items: [...state.items, ...event.data.items] };
    case 'TransferBatchRecorded':
      return {
        recorded: true,
        batchId: event.data.batchId,
        ownerId: event.data.ownerId,
        mode: event.data.mode,
        items: state.items,
        appliedCount: event.data.appliedCount,
      };
  }
}

/** Records a decided batch once: its items in chunks, then the batch. Recording it again records nothing. */
export function decideTransferBatch(command: TransferBatchCommand, state: TransferBatchState): TransferBatchEvent[] {
  if (state.recorded) return [];
  const { batchId, ownerId, mode, items } = command;
  assert(
    items.length >= 1 && items.length <= MAX_TRANSFER_BATCH_ITEMS,
    'a batch has 1..MAX_TRANSFER_BATCH_ITEMS items',
  );
  // A chunk recorded by an interrupted earlier run of the same batch is not recorded twice.
  assert(state.items.length <= items.length, 'recorded items are a prefix of the batch');
  const events: TransferBatchEvent[] = [];
  for (let first = state.items.length; first < items.length; first += MAX_BATCH_ITEMS_PER_EVENT) {
    if (command.type === 'RecordTransferBatchItems' && events.length > 0) return events;
    events.push({
      type: 'TransferBatchItemsRecorded',
      data: { batchId, firstIndex: first, items: items.slice(first, first + MAX_BATCH_ITEMS_PER_EVENT) },
    });
  }
  if (command.type === 'RecordTransferBatchItems') return events;
  const appliedCount = items.filter((item) => item.status === 'completed').length;
  events.push({
    type: 'TransferBatchRecorded',
    data: { batchId, ownerId, mode, itemCount: items.length, appliedCount },
  });
  return events;
}

export const transferBatchDecider = {
  decide: decideTransferBatch,
  evolve: evolveTransferBatch,
  initialState: (): TransferBatchState => ({ recorded: false, items: [] }),
};

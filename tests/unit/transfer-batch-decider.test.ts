import { describe, it } from 'vitest';
import {
  transferBatchDecider,
  type TransferBatchCommand,
  type TransferBatchState,
} from '../../src/domain/transfers/transfer-batch-decider.js';
import type { TransferBatchEvent, TransferBatchItem } from '../../src/domain/transfers/transfer-batch-events.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification<TransferBatchCommand, TransferBatchEvent, TransferBatchState>(transferBatchDecider);
const batchId = '0190a0a0-0000-7000-8000-0000000000aa';
const item = (n: number, status: TransferBatchItem['status'] = 'completed'): TransferBatchItem => ({
  transferId: `0190a0a0-0000-7000-8000-${String(n).padStart(12, '0')}`,
  fromAccountId: '1010000000000018',
  toAccountId: '1010000000000026',
  amountMinor: 100n,
  currency: parseCurrency('CNY'),
  memo: '',
  reference: null,
  status,
  failure: status === 'refused' ? { code: 'insufficient_funds', reason: 'not enough' } : null,
});
const items = Array.from({ length: 250 }, (_, n) => item(n, n === 7 ? 'refused' : 'completed'));
const batch = { batchId, ownerId: 'm-1', mode: 'independent' as const, items };
const record: TransferBatchCommand = { type: 'RecordTransferBatch', ...batch };
const chunk: TransferBatchCommand = { type: 'RecordTransferBatchItems', ...batch };
const chunkOf = (first: number, count: number): TransferBatchEvent => ({
  type: 'TransferBatchItemsRecorded',
  data: { batchId, firstIndex: first, items: items.slice(first, first + count) },
});
const recorded: TransferBatchEvent = {
  type: 'TransferBatchRecorded',
  data: { batchId, ownerId: 'm-1', mode: 'independent', itemCount: 250, appliedCount: 249 },
};

describe('transfer batch decider', () => {
  it('records a decided batch whole: its items in chunks of 100, then the batch with its count applied', () => {
    spec
      .given([])
      .when(record)
      .then([chunkOf(0, 100), chunkOf(100, 100), chunkOf(200, 50), recorded]);
  });

  it('records one chunk at a time for small appends, and then only what is left', () => {
    spec
      .given([])
      .when(chunk)
      .then([chunkOf(0, 100)]);
    spec
      .given([chunkOf(0, 100)])
      .when(chunk)
      .then([chunkOf(100, 100)]);
    spec
      .given([chunkOf(0, 100), chunkOf(100, 100), chunkOf(200, 50)])
      .when(chunk)
      .then([]);
    spec
      .given([chunkOf(0, 100), chunkOf(100, 100)])
      .when(record)
      .then([chunkOf(200, 50), recorded]);
  });

  it('records a batch once', () => {
    spec
      .given([chunkOf(0, 100), chunkOf(100, 100), chunkOf(200, 50), recorded])
      .when(record)
      .then([]);
  });

  it('refuses an empty batch as a bug (the API refuses it first)', () => {
    spec
      .given([])
      .when({ ...record, items: [] })
      .thenRefuses('invariant_violated');
  });
});

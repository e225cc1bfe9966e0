import type { TransferBatchState } from '../../domain/transfers/transfer-batch-decider.js';
import { MAX_TRANSFER_BATCH_ITEMS } from '../../domain/transfers/transfer-batch-decider.js';
import type { TransferBatchItem, TransferBatchMode } from '../../domain/transfers/transfer-batch-events.js';
import type { TransferBatchCommand } from '../../domain/transfers/transfer-batch-decider.js';
import type { TransferBatchEvent } from '../../domain/transfers/transfer-batch-events.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import { MAX_EVENTS_PER_MULTI_APPEND, MAX_STREAMS_PER_MULTI_APPEND } from '../../ports/event-store.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { deriveId, type CommandContext } from '../command-context.js';
import { OneCommitDecisions, OneCommitUnsuitableError, type TrackedStream } from '../one-commit.js';
import { stepContext } from '../operations/operation-steps.js';
import type { StreamCommandHandler } from '../stream-command-handler.js';
import {
  decideNewTransfer,
  transfer,
  transferStreamId,
  type TransferDeps,
  type TransferRequest,
} from './transfer-operations.js';

/**
 * A batch of transfers under one request: each item is a transfer of its own (its id derived from the
 * batch's and the item's index, so GET /v1/transfers/{id}, statements and books show it as any other),
 * decided in order on the account states the earlier items left, with a single transfer's rules and its
 * caller check (the caller owns each from-account, or is an operator). `all_or_nothing`: one refused
 * item and nothing moves; `independent`: the accepted items move and the refused ones are reported.
 *
 * With a multi-stream append (SQLite) a batch is ONE commit: the batch record, every transfer's and
 * account's events, and the idempotency answer. MAX_TRANSFER_BATCH_ITEMS is chosen so that a whole batch
 * always fits the store's multi-append limits (checked below), so a batch is never chunked and stays all
 * or nothing by the store's own transaction. Elsewhere (EventStoreDB, ONE_COMMIT=off) `runTransferBatch`
 * decides every item first, then runs the accepted ones as transfer processes; see there.
 */
export type TransferBatchHandler = StreamCommandHandler<TransferBatchCommand, TransferBatchEvent, TransferBatchState>;

export interface TransferBatchDeps extends TransferDeps {
  readonly batches: TransferBatchHandler;
}

export interface TransferBatchItemRequest extends TransferRequest {
  readonly reference: string | null;
}

export interface TransferBatchRequest {
  readonly mode: TransferBatchMode;
  readonly items: readonly TransferBatchItemRequest[];
  /** The calling entity, which must own every from-account; null: an operator, who may move any. */
  readonly callerId: string | null;
}

export type RecordedTransferBatch = Extract<TransferBatchState, { recorded: true }>;

/** Streams a one-commit batch touches at most: its own, each item's transfer, two accounts per item, a key. */
const MAX_BATCH_STREAMS = 1 + MAX_TRANSFER_BATCH_ITEMS * 3 + 1;
/** Events at most: four per transfer (request, debit, credit, completion), the record's chunks, a key's. */
const MAX_BATCH_EVENTS = MAX_TRANSFER_BATCH_ITEMS * 4 + Math.ceil(MAX_TRANSFER_BATCH_ITEMS / 100) + 1 + 2;
assert(MAX_BATCH_STREAMS <= MAX_STREAMS_PER_MULTI_APPEND, 'a whole batch fits one multi-append (streams)');
assert(MAX_BATCH_EVENTS <= MAX_EVENTS_PER_MULTI_APPEND, 'a whole batch fits one multi-append (events)');
// Bytes: a transfer's four events are ~3 KiB with a 200-character memo, so 1,000 are ~3 MiB, well under
// MAX_MULTI_APPEND_BYTES (16 MiB). An account in many items takes all their debits/credits in its one part
// (a multi-append's part is not held to MAX_EVENTS_PER_APPEND).

/** Longest failure reason kept per item (the record's schema). */
const MAX_REASON_LENGTH = 300;

export function transferBatchStreamId(batchId: string): string {
  return `transferbatch-${batchId}`;
}

export function transferBatchIdOf(context: CommandContext): string {
  return deriveId(context.operationKey, 'transfer-batch');
}

/** The context of item `index`: its transfer's ids derive from it, the same on both paths. */
function itemContext(context: CommandContext, batchId: string, index: number): CommandContext {
  return { ...context, operationKey: `${batchId}\u0000item\u0000${index}`, causationId: batchId };
}

function itemTransferId(context: CommandContext, batchId: string, index: number): string {
  return deriveId(itemContext(context, batchId, index).operationKey, 'transfer');
}

function itemOf(
  item: TransferBatchItemRequest,
  transferId: string,
  status: TransferBatchItem['status'],
  failure: TransferBatchItem['failure'],
): TransferBatchItem {
  return {
    transferId,
    fromAccountId: item.fromAccountId,
    toAccountId: item.toAccountId,
    amountMinor: item.amount.amountMinor,
    currency: item.amount.currency,
    memo: item.memo,
    reference: item.reference,
    status,
    failure,
  };
}

function failureOf(error: DomainError): NonNullable<TransferBatchItem['failure']> {
  return { code: error.code, reason: error.message.slice(0, MAX_REASON_LENGTH) };
}

function assertBatchSize(request: TransferBatchRequest): void {
  assert(
    request.items.length >= 1 && request.items.length <= MAX_TRANSFER_BATCH_ITEMS,
    'a batch has 1..MAX_TRANSFER_BATCH_ITEMS items (the API refuses others)',
  );
}

/**
 * Decides the items in order on the states decided so far. A refused item decides nothing; under
 * all_or_nothing one refusal discards every decision and the others are `not_applied`. An item whose
 * transfer exists already (a resumed batch, process path only) answers with that transfer's outcome.
 */
function decideItems(
  deps: TransferBatchDeps,
  request: TransferBatchRequest,
  context: CommandContext,
  batchId: string,
  decisions: OneCommitDecisions,
): TransferBatchItem[] {
  const items = request.items.map((item, index) => {
    const transferId = itemTransferId(context, batchId, index);
    const existing = decisions.state(deps.transfers, transferStreamId(transferId));
    if (existing.exists) {
      return existing.status === 'failed' && existing.failure
        ? itemOf(item, transferId, 'refused', { code: existing.failure.reasonCode, reason: existing.failure.reason })
        : itemOf(item, transferId, 'completed', null);
    }
    try {
      const from = decisions.state(deps.accounts, accountStreamId(item.fromAccountId));
      // The single transfer's caller check: another owner's account answers as an unknown one.
      if (request.callerId !== null && (!from.exists || from.ownerId !== request.callerId)) {
        throw new DomainError('account_not_found', `account ${item.fromAccountId} does not exist`, {
          accountId: item.fromAccountId,
        });
      }
      decideNewTransfer(deps, item, itemContext(context, batchId, index), decisions);
      return itemOf(item, transferId, 'completed', null);
    } catch (error) {
      if (!(error instanceof DomainError) || error.code === 'invariant_violated') throw error;
      return itemOf(item, transferId, 'refused', failureOf(error));
    }
  });
  if (!items.some((item) => item.status === 'refused')) return items;
  // A refusal appends nothing to the streams it was decided on: it must be judged on stored states.
  decisions.confirmRefusal();
  if (request.mode === 'independent') return items;
  decisions.discardDecisions();
  return items.map((item) => (item.status === 'completed' ? { ...item, status: 'not_applied' as const } : item));
}

/** The streams a batch decides on: its record, each item's transfer (new), and every account named once. */
function batchStreams(
  deps: TransferBatchDeps,
  request: TransferBatchRequest,
  context: CommandContext,
  batchId: string,
) {
  const accountIds = new Set(request.items.flatMap((item) => [item.fromAccountId, item.toAccountId]));
  const streams: TrackedStream[] = [
    { handler: deps.batches, streamId: transferBatchStreamId(batchId), expectNew: true },
    ...request.items.map((_, index) => ({
      handler: deps.transfers,
      streamId: transferStreamId(itemTransferId(context, batchId, index)),
      expectNew: true,
    })),
    ...[...accountIds].map((accountId) => ({ handler: deps.accounts, streamId: accountStreamId(accountId) })),
  ];
  return streams;
}

/** A new batch decided whole, for one commit; a batch begun by the process path is the process's. */
export function transferBatchInOneCommit(
  deps: TransferBatchDeps,
  request: TransferBatchRequest,
  context: CommandContext,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => RecordedTransferBatch;
} {
  assertBatchSize(request);
  const batchId = transferBatchIdOf(context);
  const streamId = transferBatchStreamId(batchId);
  const streams = batchStreams(deps, request, context, batchId);
  const decide = (decisions: OneCommitDecisions): RecordedTransferBatch => {
    const begun =
      decisions.state(deps.batches, streamId).items.length > 0 ||
      request.items.some(
        (_, i) => decisions.state(deps.transfers, transferStreamId(itemTransferId(context, batchId, i))).exists,
      );
    if (begun) throw new OneCommitUnsuitableError('the batch was begun by its process');
    const items = decideItems(deps, request, context, batchId, decisions);
    const recorded = decisions.decide(
      deps.batches,
      streamId,
      { type: 'RecordTransferBatch', batchId, ownerId: request.callerId, mode: request.mode, items },
      stepContext(context, batchId, 'record'),
    );
    assert(recorded.state.recorded, 'a decided batch is recorded');
    return recorded.state;
  };
  return { streams, positionStream: streamId, decide };
}

/**
 * The batch without a multi-stream append: correct, slower, and not atomic. Every item is decided first
 * on the states as loaded (as the one-commit path decides them); under all_or_nothing a refusal there
 * moves nothing. The accepted items then run one by one as transfer processes (each its own commits, so
 * other readers see the batch part-done while it runs). An item a concurrent change refuses at that point
 * is reported refused; under all_or_nothing the items that already ran are then compensated by reverse
 * transfers (status `compensated`; one whose reversal is itself refused stays `completed` with that
 * refusal as its failure) and the later ones are `not_applied`. Every step has derived ids, so a retry
 * (a takeover of the key) resumes the batch and records nothing twice. The record is written last, a
 * chunk of items per append.
 */
export async function runTransferBatch(
  deps: TransferBatchDeps,
  request: TransferBatchRequest,
  context: CommandContext,
): Promise<{ batch: RecordedTransferBatch; position: bigint }> {
  assertBatchSize(request);
  const batchId = transferBatchIdOf(context);
  const streamId = transferBatchStreamId(batchId);
  const existing = await deps.batches.load(streamId);
  if (existing.state.recorded) return { batch: existing.state, position: existing.position };
  const streams = batchStreams(deps, request, context, batchId);
  const loaded = await Promise.all(streams.map((s) => s.handler.load(s.streamId)));
  const decisions = new OneCommitDecisions(
    new Map(streams.map((tracked, i) => [tracked.streamId, { tracked, ...loaded[i]! }])),
    false,
  );
  const items = (await compensationBegun(deps, request, context, batchId))
    ? await finishCompensation(deps, request, context, batchId, decisions)
    : decideItems(deps, request, context, batchId, decisions);
  for (let index = 0; index < items.length; index++) {
    if (items[index]!.status !== 'completed') continue;
    const outcome = await runItem(deps, request.items[index]!, itemContext(context, batchId, index));
    if (outcome === null) continue;
    items[index] = { ...items[index]!, status: 'refused', failure: outcome };
    if (request.mode === 'all_or_nothing') {
      await compensate(deps, request, context, batchId, items, index);
      break;
    }
  }
  let record = existing;
  const command = { batchId, ownerId: request.callerId, mode: request.mode, items };
  while (record.state.items.length < items.length) {
    const chunk = `items\u0000${record.state.items.length}`;
    record = await deps.batches.handle(
      streamId,
      { type: 'RecordTransferBatchItems', ...command },
      stepContext(context, batchId, chunk),
    );
  }
  record = await deps.batches.handle(
    streamId,
    { type: 'RecordTransferBatch', ...command },
    stepContext(context, batchId, 'record'),
  );
  assert(record.state.recorded, 'a recorded batch is recorded');
  return { batch: record.state, position: record.position };
}

/** The id of the reverse transfer that compensates item `index` (see `compensate`). */
function compensationTransferId(context: CommandContext, batchId: string, index: number): string {
  return itemTransferId(context, batchId, index + MAX_TRANSFER_BATCH_ITEMS);
}

/** True when an earlier run of this all_or_nothing batch stopped while compensating (a takeover resumes it). */
async function compensationBegun(
  deps: TransferBatchDeps,
  request: TransferBatchRequest,
  context: CommandContext,
  batchId: string,
): Promise<boolean> {
  if (request.mode !== 'all_or_nothing') return false;
  const reversals = await Promise.all(
    request.items.map((_, i) => deps.transfers.load(transferStreamId(compensationTransferId(context, batchId, i)))),
  );
  return reversals.some((reversal) => reversal.state.exists);
}

/**
 * Finishes what an earlier run began: the items before the first that did not complete ran and are
 * compensated, whatever the states say now (deciding them again could apply a batch already undone).
 * That item keeps its recorded failure when it has one; the rest are not applied.
 */
async function finishCompensation(
  deps: TransferBatchDeps,
  request: TransferBatchRequest,
  context: CommandContext,
  batchId: string,
  decisions: OneCommitDecisions,
): Promise<TransferBatchItem[]> {
  const states = request.items.map((_, i) =>
    decisions.state(deps.transfers, transferStreamId(itemTransferId(context, batchId, i))),
  );
  const ran = states.findIndex((state) => !state.exists || state.status !== 'completed');
  assert(ran > 0, 'a batch being compensated ran its first item and stopped before its last');
  const items = request.items.map((item, i) => {
    const transferId = itemTransferId(context, batchId, i);
    const state = states[i]!;
    if (i < ran) return itemOf(item, transferId, 'completed', null);
    if (i === ran && state.exists && state.failure) {
      return itemOf(item, transferId, 'refused', { code: state.failure.reasonCode, reason: state.failure.reason });
    }
    return itemOf(item, transferId, 'not_applied', null);
  });
  await compensate(deps, request, context, batchId, items, ran);
  return items;
}

/** Runs one accepted item as its transfer process: null when it completed, else why it did not. */
async function runItem(
  deps: TransferBatchDeps,
  item: TransferBatchItemRequest,
  context: CommandContext,
): Promise<TransferBatchItem['failure']> {
  try {
    const { transfer: done } = await transfer(deps, item, context);
    if (done.status === 'completed') return null;
    assert(done.failure !== null, 'a transfer that did not complete has failed');
    return { code: done.failure.reasonCode, reason: done.failure.reason };
  } catch (error) {
    if (!(error instanceof DomainError) || error.code === 'invariant_violated') throw error;
    return failureOf(error);
  }
}

/** Undoes, latest first, the items that ran before item `refused`, and marks the later ones not applied. */
async function compensate(
  deps: TransferBatchDeps,
  request: TransferBatchRequest,
  context: CommandContext,
  batchId: string,
  items: TransferBatchItem[],
  refused: number,
): Promise<void> {
  for (let index = items.length - 1; index > refused; index--) {
    if (items[index]!.status === 'completed') items[index] = { ...items[index]!, status: 'not_applied' };
  }
  for (let index = refused - 1; index >= 0; index--) {
    const item = request.items[index]!;
    const reversal = {
      fromAccountId: item.toAccountId,
      toAccountId: item.fromAccountId,
      amount: item.amount,
      memo: `reverses ${items[index]!.transferId}`,
      reference: null,
    };
    // The reversal's id is compensationTransferId(context, batchId, index): a resumed run finds it.
    const undone = await runItem(deps, reversal, itemContext(context, batchId, index + MAX_TRANSFER_BATCH_ITEMS));
    items[index] =
      undone === null ? { ...items[index]!, status: 'compensated' } : { ...items[index]!, failure: undone };
  }
}

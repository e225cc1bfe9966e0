import { decideCredit, decideDebit } from '../../domain/accounts/movements.js';
import type { Money } from '../../domain/money/money.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type { TransferCommand, TransferState } from '../../domain/transfers/transfer-decider.js';
import type { TransferEvent } from '../../domain/transfers/transfer-events.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  decideDebitAndCredit,
  loadAccount,
  maxPosition,
  requireExisting,
  moveBetweenAccounts,
  resumptionOf,
  snapshotOf,
  stepContext,
  stripParty,
  type OperationDeps,
} from '../operations/operation-steps.js';
import type { StreamCommandHandler } from '../stream-command-handler.js';
import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { OneCommitUnsuitableError, type OneCommitDecisions, type TrackedStream } from '../one-commit.js';

export type TransferHandler = StreamCommandHandler<TransferCommand, TransferEvent, TransferState>;
export type ExistingTransfer = Extract<TransferState, { exists: true }>;

export interface TransferDeps extends OperationDeps {
  readonly transfers: TransferHandler;
}

export interface TransferRequest {
  readonly fromAccountId: string;
  readonly toAccountId: string;
  readonly amount: Money;
  readonly memo: string;
}

export function transferStreamId(transferId: string): string {
  return `transfer-${transferId}`;
}

/** Wallet to wallet: request -> debit sender -> credit receiver (or credit the sender back) -> outcome. */
export async function transfer(
  deps: TransferDeps,
  request: TransferRequest,
  context: CommandContext,
): Promise<{ transfer: ExistingTransfer; position: bigint }> {
  const transferId = deriveId(context.operationKey, 'transfer');
  const streamId = transferStreamId(transferId);
  const existing = await deps.transfers.load(streamId);
  let position = -1n;
  let resuming = true;
  if (!existing.state.exists) {
    if (request.fromAccountId === request.toAccountId)
      throw new DomainError('same_account', 'a transfer needs two different accounts');
    const [from, to] = await Promise.all([
      loadAccount(deps, request.fromAccountId),
      loadAccount(deps, request.toAccountId),
    ]);
    checkTransfer(transferId, request, from, to);
    const requested = await deps.transfers.handle(
      streamId,
      { type: 'RequestTransfer', request: transferRequestOf(transferId, request, from, to) },
      stepContext(context, transferId, 'request'),
    );
    position = requested.position;
    resuming = requested.events.length === 0;
  }
  const driven = await driveTransfer(deps, transferId, context, resuming);
  return { transfer: driven.transfer, position: maxPosition(position, driven.position) };
}

/**
 * A new transfer decided whole, for one commit (src/commands/one-commit.ts): the same commands, checks and
 * derived ids as `transfer` and `driveTransfer` (request, debit, credit, completion), decided on the
 * loaded states; a refusal throws before anything is kept. A transfer that exists (a retry) is the
 * process's to answer; so is one from an account to itself (null: refused there).
 */
export function transferInOneCommit(
  deps: TransferDeps,
  request: TransferRequest,
  context: CommandContext,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => ExistingTransfer;
} | null {
  if (request.fromAccountId === request.toAccountId) return null;
  const streamId = transferStreamId(deriveId(context.operationKey, 'transfer'));
  const streams = [
    { handler: deps.transfers, streamId, expectNew: true },
    { handler: deps.accounts, streamId: accountStreamId(request.fromAccountId) },
    { handler: deps.accounts, streamId: accountStreamId(request.toAccountId) },
  ];
  const decide = (decisions: OneCommitDecisions) => decideNewTransfer(deps, request, context, decisions);
  return { streams, positionStream: streamId, decide };
}

/**
 * Decides a new transfer on the states decided so far (its request, debit, credit and completion), or
 * throws its refusal before deciding anything. The streams (its own, expected new, and both accounts')
 * must be among those the commit loaded. Also decides each item of a transfer batch.
 */
export function decideNewTransfer(
  deps: TransferDeps,
  request: TransferRequest,
  context: CommandContext,
  decisions: OneCommitDecisions,
): ExistingTransfer {
  if (request.fromAccountId === request.toAccountId)
    throw new DomainError('same_account', 'a transfer needs two different accounts');
  const transferId = deriveId(context.operationKey, 'transfer');
  const streamId = transferStreamId(transferId);
  const [fromStream, toStream] = [accountStreamId(request.fromAccountId), accountStreamId(request.toAccountId)];
  if (decisions.state(deps.transfers, streamId).exists) throw new OneCommitUnsuitableError('the transfer exists');
  const from = requireExisting(decisions.state(deps.accounts, fromStream), request.fromAccountId);
  const to = requireExisting(decisions.state(deps.accounts, toStream), request.toAccountId);
  const movement = checkTransfer(transferId, request, from, to);
  const requested = transferRequestOf(transferId, request, from, to);
  decisions.decide(
    deps.transfers,
    streamId,
    { type: 'RequestTransfer', request: requested },
    stepContext(context, transferId, 'request'),
  );
  decideDebitAndCredit(
    deps,
    decisions,
    {
      fromAccountId: from.accountId,
      toAccountId: to.accountId,
      fromParty: stripParty(requested.from),
      toParty: stripParty(requested.to),
      movement,
    },
    context,
    transferId,
  );
  const done = decisions.decide(
    deps.transfers,
    streamId,
    { type: 'CompleteTransfer', transferId },
    stepContext(context, transferId, 'complete'),
  );
  assert(done.state.exists, 'a completed transfer exists');
  return done.state;
}

/** Checks the debit and the credit of a new transfer on the two accounts as they are: throws a refusal. */
function checkTransfer(transferId: string, request: TransferRequest, from: OpenAccountState, to: OpenAccountState) {
  const movement = {
    amount: request.amount,
    kind: 'transfer' as const,
    operationId: transferId,
    merchantOrderNo: null,
    memo: request.memo,
  };
  decideDebit({ ...movement, accountId: from.accountId, counterparty: snapshotOf(to) }, from);
  decideCredit({ ...movement, accountId: to.accountId, counterparty: snapshotOf(from) }, to);
  return movement;
}

function transferRequestOf(transferId: string, request: TransferRequest, from: OpenAccountState, to: OpenAccountState) {
  return {
    transferId,
    fromAccountId: from.accountId,
    toAccountId: to.accountId,
    amountMinor: request.amount.amountMinor,
    currency: request.amount.currency,
    memo: request.memo,
    from: { ...snapshotOf(from), ip: null, platform: null },
    to: { ...snapshotOf(to), ip: null, platform: null },
  };
}

/** Takes a requested transfer to its end; safe to call again at any point (a retry, a resume after a crash). */
export async function driveTransfer(
  deps: TransferDeps,
  transferId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<{ transfer: ExistingTransfer; position: bigint }> {
  const streamId = transferStreamId(transferId);
  const { state, position: streamPosition } = await deps.transfers.load(streamId);
  if (!state.exists) throw new Error('a requested transfer exists');
  if (state.status !== 'requested') return { transfer: state, position: streamPosition };
  const r = state.request;
  const movement = {
    amount: { amountMinor: r.amountMinor, currency: r.currency },
    kind: 'transfer' as const,
    operationId: transferId,
    merchantOrderNo: null,
    memo: r.memo,
  };
  const moved = await moveBetweenAccounts(
    deps,
    {
      fromAccountId: r.fromAccountId,
      toAccountId: r.toAccountId,
      fromParty: stripParty(r.from),
      toParty: stripParty(r.to),
      movement,
      reversalKind: 'transfer_reversal',
    },
    context,
    transferId,
    resumptionOf(resuming, streamId),
  );
  return finish(deps, transferId, context, moved.ok ? null : moved.error, moved.position);
}

async function finish(
  deps: TransferDeps,
  transferId: string,
  context: CommandContext,
  error: DomainError | null,
  position: bigint,
) {
  const done = await deps.transfers.handle(
    transferStreamId(transferId),
    error
      ? { type: 'FailTransfer', transferId, reasonCode: error.code, reason: error.message }
      : { type: 'CompleteTransfer', transferId },
    stepContext(context, transferId, error ? 'fail' : 'complete'),
  );
  return { transfer: done.state as ExistingTransfer, position: maxPosition(position, done.position) };
}

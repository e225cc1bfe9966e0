import type { AccountCommand } from '../../domain/accounts/account-decider.js';
import type { CounterpartySnapshot, MovementKind } from '../../domain/accounts/account-events.js';
import type { Movement } from '../../domain/accounts/movements.js';
import type { AccountState, OpenAccountState } from '../../domain/accounts/account-state.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore } from '../../ports/event-store.js';
import { accountStreamId, type AccountHandler } from '../accounts/open-account-handler.js';
import { deriveEventId, type CommandContext } from '../command-context.js';
import { findRecentEvent } from '../recorded-events.js';

/**
 * The pieces every multi-account operation (payment, refund, transfer, withdrawal, deduction, capture)
 * is built from. An operation is a process with its own stream; each step on an account gets ids derived
 * from the operation id and the step's name, so running an operation again (a retry, a resume after a
 * crash, a second process) records each step at most once.
 */
export interface OperationDeps {
  readonly eventStore: EventStore;
  readonly accounts: AccountHandler;
}

export type StepOutcome =
  { readonly ok: true; readonly position: bigint } | { readonly ok: false; readonly error: DomainError };

/** The context of one named step of an operation: its derived ids never depend on the HTTP request. */
export function stepContext(context: CommandContext, operationId: string, step: string): CommandContext {
  return { ...context, operationKey: `${operationId}\u0000${step}`, causationId: operationId };
}

/**
 * Runs one account step. When `resuming`, first looks for the step's own event among the account's
 * recent events (an earlier run may have recorded it before stopping), and looks again after a refusal
 * (a concurrent run may have recorded it meanwhile), so a done step is never redone or reported refused.
 *
 * What this relies on from the event store, and no more: two runs that both find nothing and both decide
 * the step append the same derived event id, and the store recognises the second as a repeat while the
 * first is among the account's last IDEMPOTENCY_WINDOW_EVENTS events, for whatever expected revision the
 * handler appends with (src/ports/event-store.ts). Runs race for milliseconds, far inside that window;
 * an earlier run's event older than the look-back (RETRY_LOOKBACK_EVENTS) is a limit stated in
 * docs/production.md.
 */
export async function runAccountStep(
  deps: OperationDeps,
  accountId: string,
  command: AccountCommand,
  context: CommandContext,
  resuming: boolean,
): Promise<StepOutcome> {
  const streamId = accountStreamId(accountId);
  const ownEventId = deriveEventId(context.operationKey, streamId, 0);
  if (resuming) {
    const earlier = await findRecentEvent(deps.eventStore, streamId, ownEventId);
    if (earlier) return { ok: true, position: earlier.position };
  }
  try {
    const handled = await deps.accounts.handle(streamId, command, context);
    return { ok: true, position: handled.position };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    if (resuming) {
      const earlier = await findRecentEvent(deps.eventStore, streamId, ownEventId);
      if (earlier) return { ok: true, position: earlier.position };
    }
    return { ok: false, error };
  }
}

/** Loads an account that must exist (for dry runs and snapshots). */
export async function loadAccount(deps: OperationDeps, accountId: string): Promise<OpenAccountState> {
  const { state } = await deps.accounts.load(accountStreamId(accountId));
  return requireExisting(state, accountId);
}

export function requireExisting(state: AccountState, accountId: string): OpenAccountState {
  if (!state.exists) throw new DomainError('account_not_found', `account ${accountId} does not exist`, { accountId });
  return state;
}

/** How an account looked when it took part in an operation, for statements and audits. */
export function snapshotOf(account: OpenAccountState): CounterpartySnapshot {
  return { accountId: account.accountId, ownerId: account.ownerId, name: account.displayName || null, channel: null };
}

/** A party snapshot without the request details (IP, platform) a payment keeps: what a statement shows. */
export function stripParty(party: CounterpartySnapshot): CounterpartySnapshot {
  return { accountId: party.accountId, ownerId: party.ownerId, name: party.name, channel: party.channel };
}

export function maxPosition(...positions: bigint[]): bigint {
  return positions.reduce((a, b) => (b > a ? b : a), -1n);
}

/** What moving money from one account to another needs to know, whichever operation it is a step of. */
export interface TwoAccountMovement {
  readonly fromAccountId: string;
  readonly toAccountId: string;
  /** As each side's statement shows the other. */
  readonly fromParty: CounterpartySnapshot;
  readonly toParty: CounterpartySnapshot;
  readonly movement: Omit<Movement, 'accountId' | 'counterparty'>;
  /** Kind of the credit that gives the sender its money back if the receiver refuses it. */
  readonly reversalKind: MovementKind;
}

export type MoveOutcome =
  | { readonly ok: true; readonly position: bigint }
  | { readonly ok: false; readonly error: DomainError; readonly position: bigint };

/**
 * Debit the sender, then credit the receiver (DESIGN 3.2). A credit refused after the debit (the
 * receiver changed meanwhile) is compensated by crediting the sender back, and reported as the refusal.
 * Step ids are derived from `operationKey`, so running this again records each step once.
 */
export async function moveBetweenAccounts(
  deps: OperationDeps,
  move: TwoAccountMovement,
  context: CommandContext,
  operationKey: string,
  resuming: boolean,
): Promise<MoveOutcome> {
  const { movement } = move;
  const debit = await runAccountStep(
    deps,
    move.fromAccountId,
    { type: 'DebitAccount', ...movement, accountId: move.fromAccountId, counterparty: move.toParty },
    stepContext(context, operationKey, 'debit'),
    resuming,
  );
  if (!debit.ok) return { ok: false, error: debit.error, position: -1n };
  const credit = await runAccountStep(
    deps,
    move.toAccountId,
    { type: 'CreditAccount', ...movement, accountId: move.toAccountId, counterparty: move.fromParty },
    stepContext(context, operationKey, 'credit'),
    resuming,
  );
  if (credit.ok) return { ok: true, position: maxPosition(debit.position, credit.position) };
  const reversal = await runAccountStep(
    deps,
    move.fromAccountId,
    {
      type: 'CreditAccount',
      ...movement,
      kind: move.reversalKind,
      accountId: move.fromAccountId,
      counterparty: move.toParty,
      memo: `reversal: ${credit.error.code}`,
    },
    stepContext(context, operationKey, 'reverse-debit'),
    resuming,
  );
  // Cannot happen: reversals pass any status but closed, and a closed account holds no money.
  if (!reversal.ok) throw reversal.error;
  return { ok: false, error: credit.error, position: maxPosition(debit.position, reversal.position) };
}

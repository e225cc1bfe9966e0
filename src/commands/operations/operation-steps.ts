import type { AccountCommand } from '../../domain/accounts/account-decider.js';
import type { CounterpartySnapshot } from '../../domain/accounts/account-events.js';
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

export type StepOutcome = { readonly ok: true; readonly position: bigint } | { readonly ok: false; readonly error: DomainError };

/** The context of one named step of an operation: its derived ids never depend on the HTTP request. */
export function stepContext(context: CommandContext, operationId: string, step: string): CommandContext {
  return { ...context, operationKey: `${operationId}\u0000${step}`, causationId: operationId };
}

/**
 * Runs one account step. When `resuming`, first looks for the step's own event among the account's
 * recent events (an earlier run may have recorded it before stopping), and looks again after a refusal
 * (a concurrent run may have recorded it meanwhile), so a done step is never redone or reported refused.
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

export function maxPosition(...positions: bigint[]): bigint {
  return positions.reduce((a, b) => (b > a ? b : a), -1n);
}

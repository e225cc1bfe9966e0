import type { AccountCommand } from '../../domain/accounts/account-decider.js';
import type { CounterpartySnapshot, MovementKind } from '../../domain/accounts/account-events.js';
import type { Movement } from '../../domain/accounts/movements.js';
import type { AccountState, OpenAccountState } from '../../domain/accounts/account-state.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type { EventStore } from '../../ports/event-store.js';
import { accountStreamId, type AccountHandler } from '../accounts/open-account-handler.js';
import { deriveEventId, type CommandContext } from '../command-context.js';
import type { OneCommitDecisions } from '../one-commit.js';
import { findEventSince } from '../recorded-events.js';

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
 * A step run again (a retry, a takeover of a dead request's key, a resume after a crash): an earlier run
 * may have recorded it. Names the operation's own stream, where the step's part (the operation itself, or
 * a refund, release, deduction or completion within it) was requested before any of its account steps.
 */
export interface Resumption {
  readonly operationStreamId: string;
}

/** The resumption of a drive that may be running again, or null for a first run. */
export function resumptionOf(resuming: boolean, operationStreamId: string): Resumption | null {
  return resuming ? { operationStreamId } : null;
}

/** Largest operation stream searched for where a part began (an operation's events are few: its parts). */
export const MAX_OPERATION_STREAM_EVENTS = 100_000;

/**
 * Global position before which no account step of this part can lie: the first event of the operation
 * stream caused by the part (its request or reservation, recorded before any account step), else the
 * stream's first event. -1n (search everything) when the stream cannot say.
 */
export async function partBeganAt(eventStore: EventStore, operationStreamId: string, partId: string): Promise<bigint> {
  let first: bigint | undefined;
  for await (const event of eventStore.readStream(operationStreamId, { maxCount: MAX_OPERATION_STREAM_EVENTS })) {
    first ??= event.position;
    if (event.metadata.causationId === partId) return event.position;
  }
  return first ?? -1n;
}

/**
 * Runs one account step. When resuming, first looks for the step's own event on the account (an earlier
 * run may have recorded it before stopping), and looks again after a refusal (a concurrent run may have
 * recorded it meanwhile), so a done step is never redone or reported refused.
 *
 * The look is exact, however busy the account: it reads the account back to where the step's part began
 * (partBeganAt), not a fixed number of events, so it never depends on the event store recognising a
 * repeat further back than the port promises. What it relies on from the store, and no more: two runs that
 * both find nothing and both decide the step append the same derived event id within milliseconds, and the
 * store recognises the second as a repeat while the first is among the account's last
 * IDEMPOTENCY_WINDOW_EVENTS events, for whatever expected revision the handler appends with
 * (src/ports/event-store.ts).
 */
export async function runAccountStep(
  deps: OperationDeps,
  accountId: string,
  command: AccountCommand,
  context: CommandContext,
  resume: Resumption | null,
): Promise<StepOutcome> {
  const streamId = accountStreamId(accountId);
  const ownEventId = deriveEventId(context.operationKey, streamId, 0);
  let notBefore: bigint | undefined;
  const earlierRun = async () => {
    if (!resume) return undefined;
    notBefore ??= await partBeganAt(deps.eventStore, resume.operationStreamId, context.causationId ?? '');
    return findEventSince(deps.eventStore, streamId, ownEventId, notBefore);
  };
  const before = await earlierRun();
  if (before) return { ok: true, position: before.position };
  try {
    const handled = await deps.accounts.handle(streamId, command, context);
    return { ok: true, position: handled.position };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const meanwhile = await earlierRun();
    if (meanwhile) return { ok: true, position: meanwhile.position };
    return { ok: false, error };
  }
}

/** Loads an account that must exist (for dry runs and snapshots). */
export async function loadAccount(deps: OperationDeps, accountId: string): Promise<OpenAccountState> {
  const { state } = await deps.accounts.load(accountStreamId(accountId));
  return requireExisting(state, accountId);
}

/**
 * The two parties of a charge (payer, payee): as the caller just loaded them for its own checks, when it
 * did (consent, ownership), else loaded now.
 */
export async function chargeParties(
  deps: OperationDeps,
  request: { readonly payerAccountId: string; readonly payeeAccountId: string },
  loaded?: { readonly payer: OpenAccountState; readonly payee: OpenAccountState },
): Promise<[OpenAccountState, OpenAccountState]> {
  if (!loaded)
    return Promise.all([loadAccount(deps, request.payerAccountId), loadAccount(deps, request.payeeAccountId)]);
  assert(loaded.payer.accountId === request.payerAccountId, 'the loaded payer is the request payer');
  assert(loaded.payee.accountId === request.payeeAccountId, 'the loaded payee is the request payee');
  return [loaded.payer, loaded.payee];
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
  resume: Resumption | null,
): Promise<MoveOutcome> {
  const { movement } = move;
  const debit = await runAccountStep(
    deps,
    move.fromAccountId,
    { type: 'DebitAccount', ...movement, accountId: move.fromAccountId, counterparty: move.toParty },
    stepContext(context, operationKey, 'debit'),
    resume,
  );
  if (!debit.ok) return { ok: false, error: debit.error, position: -1n };
  const credit = await runAccountStep(
    deps,
    move.toAccountId,
    { type: 'CreditAccount', ...movement, accountId: move.toAccountId, counterparty: move.fromParty },
    stepContext(context, operationKey, 'credit'),
    resume,
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
    resume,
  );
  // Cannot happen: reversals pass any status but closed, and a closed account holds no money.
  if (!reversal.ok) throw reversal.error;
  return { ok: false, error: credit.error, position: maxPosition(debit.position, reversal.position) };
}

/**
 * moveBetweenAccounts' debit and credit, decided in one commit on the states `decisions` holds (both
 * accounts' streams must be among those it loaded), with the same commands and step ids, so either path
 * resumes the other. A refusal throws: there is no compensation to decide, as nothing is committed yet.
 */
export function decideDebitAndCredit(
  deps: OperationDeps,
  decisions: OneCommitDecisions,
  move: Omit<TwoAccountMovement, 'reversalKind'>,
  context: CommandContext,
  operationKey: string,
): void {
  const { movement } = move;
  decisions.decide(
    deps.accounts,
    accountStreamId(move.fromAccountId),
    { type: 'DebitAccount', ...movement, accountId: move.fromAccountId, counterparty: move.toParty },
    stepContext(context, operationKey, 'debit'),
  );
  decisions.decide(
    deps.accounts,
    accountStreamId(move.toAccountId),
    { type: 'CreditAccount', ...movement, accountId: move.toAccountId, counterparty: move.fromParty },
    stepContext(context, operationKey, 'credit'),
  );
}

import { decideCredit } from '../../domain/accounts/movements.js';
import { decideFreeze } from '../../domain/accounts/freezes.js';
import type { FreezeCommand, FreezeState } from '../../domain/freezes/freeze-decider.js';
import type { FreezeEvent } from '../../domain/freezes/freeze-events.js';
import type { Money } from '../../domain/money/money.js';
import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  OneCommitUnsuitableError,
  decidedOrLeftToProcess,
  type OneCommitDecisions,
  type TrackedStream,
} from '../one-commit.js';
import {
  loadAccount,
  maxPosition,
  requireExisting,
  runAccountStep,
  resumptionOf,
  snapshotOf,
  stepContext,
  type OperationDeps,
} from '../operations/operation-steps.js';
import type { StreamCommandHandler } from '../stream-command-handler.js';

export type FreezeHandler = StreamCommandHandler<FreezeCommand, FreezeEvent, FreezeState>;
export type ExistingFreeze = Extract<FreezeState, { exists: true }>;

export interface FreezeDeps extends OperationDeps {
  readonly freezes: FreezeHandler;
}

export function freezeStreamId(freezeId: string): string {
  return `freeze-${freezeId}`;
}

export interface PlaceFreezeRequest {
  readonly accountId: string;
  readonly amount: Money;
  readonly reason: string;
}

type Outcome = { freeze: ExistingFreeze; position: bigint };

/** Freeze part of an account's available funds: request -> FundsFrozen on the account -> placed (or refused). */
export async function placeFreeze(
  deps: FreezeDeps,
  request: PlaceFreezeRequest,
  context: CommandContext,
): Promise<Outcome> {
  const freezeId = deriveId(context.operationKey, 'freeze');
  const streamId = freezeStreamId(freezeId);
  const existing = await deps.freezes.load(streamId);
  let position = -1n;
  let resuming = true;
  if (!existing.state.exists) {
    const account = await loadAccount(deps, request.accountId);
    decideFreeze(
      { accountId: account.accountId, freezeId, amount: request.amount, purpose: 'freeze', reason: request.reason },
      account,
    );
    const requested = await deps.freezes.handle(
      streamId,
      requestFreeze(freezeId, account, request, context),
      stepContext(context, freezeId, 'request'),
    );
    position = requested.position;
    resuming = requested.events.length === 0;
  }
  const driven = await drivePlacement(deps, freezeId, context, resuming);
  return { freeze: driven.freeze, position: maxPosition(position, driven.position) };
}

function requestFreeze(
  freezeId: string,
  account: { readonly accountId: string; readonly ownerId: string },
  request: PlaceFreezeRequest,
  context: CommandContext,
): FreezeCommand {
  return {
    type: 'RequestFreeze',
    request: {
      freezeId,
      accountId: account.accountId,
      ownerId: account.ownerId,
      placedBy: context.actor,
      amountMinor: request.amount.amountMinor,
      currency: request.amount.currency,
      reason: request.reason,
    },
  };
}

function freezeFunds(freezeId: string, r: ExistingFreeze['request']) {
  return {
    type: 'FreezeFunds' as const,
    accountId: r.accountId,
    freezeId,
    amount: { amountMinor: r.amountMinor, currency: r.currency },
    purpose: 'freeze' as const,
    reason: r.reason,
  };
}

/**
 * A new freeze decided whole, for one commit (src/commands/one-commit.ts): the same commands, check and
 * derived event ids as `placeFreeze` and `drivePlacement`, decided on the loaded states: the request,
 * FundsFrozen on the account, the confirmation. A refusal (beyond the available funds) throws before
 * anything is kept; a freeze that exists already (a retry) is the process's to answer.
 */
export function placeFreezeInOneCommit(
  deps: FreezeDeps,
  request: PlaceFreezeRequest,
  context: CommandContext,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => ExistingFreeze;
} {
  const freezeId = deriveId(context.operationKey, 'freeze');
  const streamId = freezeStreamId(freezeId);
  const accountStream = accountStreamId(request.accountId);
  const streams = [
    { handler: deps.freezes, streamId, expectNew: true },
    { handler: deps.accounts, streamId: accountStream },
  ];
  const decide = (decisions: OneCommitDecisions): ExistingFreeze => {
    if (decisions.state(deps.freezes, streamId).exists) throw new OneCommitUnsuitableError('the freeze exists');
    const account = requireExisting(decisions.state(deps.accounts, accountStream), request.accountId);
    // Checked before anything is decided, as the process checks it: a refusal records nothing.
    decideFreeze(
      { accountId: account.accountId, freezeId, amount: request.amount, purpose: 'freeze', reason: request.reason },
      account,
    );
    const requested = decisions.decide(
      deps.freezes,
      streamId,
      requestFreeze(freezeId, account, request, context),
      stepContext(context, freezeId, 'request'),
    );
    assert(requested.state.exists, 'a requested freeze exists');
    decisions.decide(
      deps.accounts,
      accountStream,
      freezeFunds(freezeId, requested.state.request),
      stepContext(context, freezeId, 'freeze-funds'),
    );
    const placed = decisions.decide(
      deps.freezes,
      streamId,
      { type: 'ConfirmFreeze', freezeId },
      stepContext(context, freezeId, 'outcome'),
    );
    assert(placed.state.exists, 'a placed freeze exists');
    return placed.state;
  };
  return { streams, positionStream: streamId, decide };
}

/** Takes a requested freeze to placed or refused; safe to call again (a retry, a resume after a crash). */
export async function drivePlacement(
  deps: FreezeDeps,
  freezeId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<Outcome> {
  const streamId = freezeStreamId(freezeId);
  const { freeze, position } = await loadFreeze(deps, freezeId);
  if (freeze.status !== 'requested') return { freeze, position };
  const r = freeze.request;
  const frozen = await runAccountStep(
    deps,
    r.accountId,
    freezeFunds(freezeId, r),
    stepContext(context, freezeId, 'freeze-funds'),
    resumptionOf(resuming, streamId),
  );
  const done = await deps.freezes.handle(
    streamId,
    frozen.ok
      ? { type: 'ConfirmFreeze', freezeId }
      : { type: 'RefuseFreeze', freezeId, reasonCode: frozen.error.code, reason: frozen.error.message },
    stepContext(context, freezeId, 'outcome'),
  );
  if (!frozen.ok) throw frozen.error;
  return { freeze: done.state as ExistingFreeze, position: maxPosition(position, frozen.position, done.position) };
}

/**
 * Release some or all of what a freeze still holds back to available funds: reserve the amount on the
 * freeze, release it on the account, record that it is done (so a crash in between is resumed).
 */
export async function releaseFreeze(
  deps: FreezeDeps,
  freezeId: string,
  amountMinor: bigint | null,
  reason: string,
  context: CommandContext,
): Promise<Outcome> {
  const releaseId = deriveId(context.operationKey, 'release');
  const reserved = await deps.freezes.handle(
    freezeStreamId(freezeId),
    { type: 'ReleaseFreeze', freezeId, releaseId, amountMinor, reason },
    stepContext(context, releaseId, 'reserve'),
  );
  const driven = await driveRelease(deps, freezeId, releaseId, reason, context, reserved.events.length === 0);
  return { freeze: driven.freeze, position: maxPosition(reserved.position, driven.position) };
}

/** Finishes a reserved release; safe to call again (a retry, a resume after a crash). */
export async function driveRelease(
  deps: FreezeDeps,
  freezeId: string,
  releaseId: string,
  reason: string,
  context: CommandContext,
  resuming: boolean,
): Promise<Outcome> {
  const { freeze, position } = await loadFreeze(deps, freezeId);
  const release = freeze.releases.get(releaseId);
  if (!release) throw new DomainError('operation_not_found', `release ${releaseId} does not exist`, { releaseId });
  if (release.applied) return { freeze, position };
  const step = await runAccountStep(
    deps,
    freeze.request.accountId,
    releaseFrozenFunds(freeze, release.amountMinor, reason),
    stepContext(context, releaseId, 'release-funds'),
    resumptionOf(resuming, freezeStreamId(freezeId)),
  );
  // The freeze stream reserved this amount, so the account holds it: a refusal here is a broken invariant.
  if (!step.ok)
    throw new DomainError('invariant_violated', `release of ${freezeId} refused by the account: ${step.error.message}`);
  const applied = await deps.freezes.handle(
    freezeStreamId(freezeId),
    { type: 'ConfirmRelease', freezeId, releaseId },
    stepContext(context, releaseId, 'applied'),
  );
  return { freeze: applied.state as ExistingFreeze, position: maxPosition(step.position, applied.position) };
}

function releaseFrozenFunds(freeze: ExistingFreeze, amountMinor: bigint, reason: string) {
  const { accountId, freezeId } = freeze.request;
  return { type: 'ReleaseFrozenFunds' as const, accountId, freezeId, amountMinor, reason };
}

/**
 * A new release decided whole, for one commit (src/commands/one-commit.ts): the same commands and derived
 * event ids as `releaseFreeze` and `driveRelease`, decided on the loaded states: the reservation on the
 * freeze, FrozenFundsReleased on the account, the confirmation. `freeze` is the freeze as the caller just
 * loaded it (its account never changes). A refusal of the reservation throws before anything is kept; a
 * release that exists already (a retry), or one the account would refuse, is the process's to answer.
 */
export function releaseInOneCommit(
  deps: FreezeDeps,
  freeze: ExistingFreeze,
  amountMinor: bigint | null,
  reason: string,
  context: CommandContext,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => ExistingFreeze;
} {
  const { freezeId, accountId } = freeze.request;
  const releaseId = deriveId(context.operationKey, 'release');
  const streamId = freezeStreamId(freezeId);
  const accountStream = accountStreamId(accountId);
  const streams = [
    { handler: deps.freezes, streamId },
    { handler: deps.accounts, streamId: accountStream },
  ];
  const decide = (decisions: OneCommitDecisions): ExistingFreeze => {
    const current = decisions.state(deps.freezes, streamId);
    if (current.exists && current.releases.has(releaseId)) throw new OneCommitUnsuitableError('the release exists');
    const reserved = decisions.decide(
      deps.freezes,
      streamId,
      { type: 'ReleaseFreeze', freezeId, releaseId, amountMinor, reason },
      stepContext(context, releaseId, 'reserve'),
    );
    const reservedFreeze = reserved.state;
    assert(reservedFreeze.exists, 'a release is of an existing freeze');
    const release = reservedFreeze.releases.get(releaseId);
    assert(release !== undefined, 'the release was reserved');
    // The process reports the broken invariant, on the stored states.
    decidedOrLeftToProcess('the release', () => {
      decisions.decide(
        deps.accounts,
        accountStream,
        releaseFrozenFunds(reservedFreeze, release.amountMinor, reason),
        stepContext(context, releaseId, 'release-funds'),
      );
    });
    const applied = decisions.decide(
      deps.freezes,
      streamId,
      { type: 'ConfirmRelease', freezeId, releaseId },
      stepContext(context, releaseId, 'applied'),
    );
    assert(applied.state.exists, 'a released freeze exists');
    return applied.state;
  };
  return { streams, positionStream: streamId, decide };
}

export interface DeductRequest {
  readonly freezeId: string;
  readonly amountMinor: bigint;
  readonly payeeAccountId: string;
  readonly memo: string;
}

/**
 * "Deduct when the goods ship": reserve on the freeze -> take the frozen money off the payer -> credit
 * the payee -> completed. A payee that cannot take it fails the deduction: checked before anything moves
 * (the money stays frozen), or, if it changed meanwhile, the payer is credited back (to available funds).
 */
export async function deductFromFreeze(
  deps: FreezeDeps,
  request: DeductRequest,
  context: CommandContext,
): Promise<Outcome & { deductionId: string }> {
  const deductionId = deriveId(context.operationKey, 'deduction');
  const streamId = freezeStreamId(request.freezeId);
  const current = await getFreeze(deps, request.freezeId);
  const payer = await loadAccount(deps, current.request.accountId);
  const payee = await loadAccount(deps, request.payeeAccountId);
  if (!current.deductions.has(deductionId)) checkDeductionPayee(current, request, deductionId, payer, payee);
  const reserved = await deps.freezes.handle(
    streamId,
    requestDeduction(request, deductionId),
    stepContext(context, deductionId, 'reserve'),
  );
  const driven = await driveDeduction(deps, request.freezeId, deductionId, context, reserved.events.length === 0);
  return { ...driven, position: maxPosition(reserved.position, driven.position) };
}

function requestDeduction(request: DeductRequest, deductionId: string): FreezeCommand {
  const { freezeId, amountMinor, payeeAccountId, memo } = request;
  return { type: 'RequestDeduction', freezeId, deductionId, amountMinor, payeeAccountId, memo };
}

/** The payee's credit of a deduction, without the account and counterparty. */
function deductionMovement(freeze: ExistingFreeze, amountMinor: bigint, deductionId: string, memo: string) {
  return {
    amount: { amountMinor, currency: freeze.request.currency },
    kind: 'freeze_deduction' as const,
    operationId: deductionId,
    merchantOrderNo: null,
    memo,
  };
}

function deductFrozenFunds(freeze: ExistingFreeze, amountMinor: bigint, deductionId: string, payee: OpenAccountState) {
  const { accountId, freezeId } = freeze.request;
  return {
    type: 'DeductFrozenFunds' as const,
    accountId,
    freezeId,
    amountMinor,
    kind: 'freeze_deduction' as const,
    operationId: deductionId,
    counterparty: snapshotOf(payee),
  };
}

/** A payee that cannot take the money refuses a new deduction before anything moves (the money stays frozen). */
function checkDeductionPayee(
  freeze: ExistingFreeze,
  request: DeductRequest,
  deductionId: string,
  payer: OpenAccountState,
  payee: OpenAccountState,
): void {
  const movement = deductionMovement(freeze, request.amountMinor, deductionId, request.memo);
  decideCredit({ ...movement, accountId: payee.accountId, counterparty: snapshotOf(payer) }, payee);
}

/**
 * A new deduction decided whole, for one commit (src/commands/one-commit.ts): the same commands, checks and
 * derived event ids as `deductFromFreeze` and `driveDeduction`, decided on the loaded states: the
 * reservation on the freeze, the payer's deduction from frozen funds, the payee's credit, the completion.
 * `freeze` is the freeze as the caller just loaded it (its account never changes). A refusal (the payee
 * cannot take it, beyond what the freeze holds) throws before anything is kept; a deduction that exists
 * already (a retry), one the accounts would refuse once reserved (the process records its failure), or
 * one to the freeze's own account (null) is the process's to answer.
 */
export function deductInOneCommit(
  deps: FreezeDeps,
  freeze: ExistingFreeze,
  request: DeductRequest,
  context: CommandContext,
): {
  streams: TrackedStream[];
  positionStream: string;
  decide: (decisions: OneCommitDecisions) => { freeze: ExistingFreeze; deductionId: string };
} | null {
  assert(freeze.request.freezeId === request.freezeId, 'the loaded freeze is the one deducted from');
  if (request.payeeAccountId === freeze.request.accountId) return null;
  const deductionId = deriveId(context.operationKey, 'deduction');
  const streamId = freezeStreamId(request.freezeId);
  const [payerStream, payeeStream] = [
    accountStreamId(freeze.request.accountId),
    accountStreamId(request.payeeAccountId),
  ];
  const streams = [
    { handler: deps.freezes, streamId },
    { handler: deps.accounts, streamId: payerStream },
    { handler: deps.accounts, streamId: payeeStream },
  ];
  const decide = (decisions: OneCommitDecisions) => {
    const current = decisions.state(deps.freezes, streamId);
    if (!current.exists || current.deductions.has(deductionId))
      throw new OneCommitUnsuitableError('the deduction exists');
    const payer = requireExisting(decisions.state(deps.accounts, payerStream), freeze.request.accountId);
    const payee = requireExisting(decisions.state(deps.accounts, payeeStream), request.payeeAccountId);
    // Checked before anything is decided, as the process checks it: a refusal records nothing.
    checkDeductionPayee(current, request, deductionId, payer, payee);
    const reserved = decisions.decide(
      deps.freezes,
      streamId,
      requestDeduction(request, deductionId),
      stepContext(context, deductionId, 'reserve'),
    );
    const reservedFreeze = reserved.state;
    assert(reservedFreeze.exists, 'a deduction is of an existing freeze');
    // The process records this deduction's failure (and a compensation): it answers, on the stored states.
    decidedOrLeftToProcess('the deduction', () => {
      decisions.decide(
        deps.accounts,
        payerStream,
        deductFrozenFunds(reservedFreeze, request.amountMinor, deductionId, payee),
        stepContext(context, deductionId, 'deduct-payer'),
      );
      const movement = deductionMovement(reservedFreeze, request.amountMinor, deductionId, request.memo);
      decisions.decide(
        deps.accounts,
        payeeStream,
        { type: 'CreditAccount', ...movement, accountId: payee.accountId, counterparty: snapshotOf(payer) },
        stepContext(context, deductionId, 'credit-payee'),
      );
    });
    const done = decisions.decide(
      deps.freezes,
      streamId,
      { type: 'CompleteDeduction', freezeId: request.freezeId, deductionId },
      stepContext(context, deductionId, 'complete'),
    );
    assert(done.state.exists, 'a deducted freeze exists');
    return { freeze: done.state, deductionId };
  };
  return { streams, positionStream: streamId, decide };
}

/** Takes a reserved deduction to completed or failed; safe to call again (a retry, a resume after a crash). */
export async function driveDeduction(
  deps: FreezeDeps,
  freezeId: string,
  deductionId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<Outcome & { deductionId: string }> {
  const streamId = freezeStreamId(freezeId);
  const { freeze, position } = await loadFreeze(deps, freezeId);
  const deduction = freeze.deductions.get(deductionId);
  if (!deduction)
    throw new DomainError('operation_not_found', `deduction ${deductionId} does not exist`, { deductionId });
  if (deduction.status !== 'requested') return { freeze, position, deductionId };
  const payer = await loadAccount(deps, freeze.request.accountId);
  const payee = await loadAccount(deps, deduction.payeeAccountId);
  const movement = deductionMovement(freeze, deduction.amountMinor, deductionId, deduction.memo);
  const deducted = await runAccountStep(
    deps,
    payer.accountId,
    deductFrozenFunds(freeze, deduction.amountMinor, deductionId, payee),
    stepContext(context, deductionId, 'deduct-payer'),
    resumptionOf(resuming, streamId),
  );
  if (!deducted.ok) return failDeduction(deps, freezeId, deductionId, deducted.error, false, context);
  const credited = await runAccountStep(
    deps,
    deduction.payeeAccountId,
    { type: 'CreditAccount', ...movement, accountId: deduction.payeeAccountId, counterparty: snapshotOf(payer) },
    stepContext(context, deductionId, 'credit-payee'),
    resumptionOf(resuming, streamId),
  );
  if (!credited.ok) {
    const back = await runAccountStep(
      deps,
      payer.accountId,
      {
        type: 'CreditAccount',
        ...movement,
        kind: 'freeze_deduction_reversal',
        accountId: payer.accountId,
        counterparty: snapshotOf(payee),
        memo: `reversal: ${credited.error.code}`,
      },
      stepContext(context, deductionId, 'reverse-deduct-payer'),
      resumptionOf(resuming, streamId),
    );
    if (!back.ok) throw back.error;
    return failDeduction(deps, freezeId, deductionId, credited.error, true, context);
  }
  const done = await deps.freezes.handle(
    streamId,
    { type: 'CompleteDeduction', freezeId: freezeId, deductionId },
    stepContext(context, deductionId, 'complete'),
  );
  return {
    freeze: done.state as ExistingFreeze,
    position: maxPosition(deducted.position, credited.position, done.position),
    deductionId,
  };
}

/** Records why a deduction failed, then answers the request with that refusal. */
async function failDeduction(
  deps: FreezeDeps,
  freezeId: string,
  deductionId: string,
  error: DomainError,
  returnedToAvailable: boolean,
  context: CommandContext,
): Promise<never> {
  await deps.freezes.handle(
    freezeStreamId(freezeId),
    {
      type: 'FailDeduction',
      freezeId,
      deductionId,
      reasonCode: error.code,
      reason: error.message,
      returnedToAvailable,
    },
    stepContext(context, deductionId, 'fail'),
  );
  throw error;
}

export async function getFreeze(deps: FreezeDeps, freezeId: string): Promise<ExistingFreeze> {
  return (await loadFreeze(deps, freezeId)).freeze;
}

/** A freeze that must exist, with the position of its stream's last event (an answer's position). */
export async function loadFreeze(deps: FreezeDeps, freezeId: string): Promise<Outcome> {
  const { state, position } = await deps.freezes.load(freezeStreamId(freezeId));
  if (!state.exists) throw new DomainError('freeze_not_found', `freeze ${freezeId} does not exist`, { freezeId });
  return { freeze: state, position };
}

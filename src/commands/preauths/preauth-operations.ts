import { decideAccount, type AccountCommand } from '../../domain/accounts/account-decider.js';
import { decideCredit } from '../../domain/accounts/movements.js';
import { decideFreeze } from '../../domain/accounts/freezes.js';
import type { Money } from '../../domain/money/money.js';
import { decidePreauth, type PreauthCommand, type PreauthState } from '../../domain/preauths/preauth-decider.js';
import type { PreauthEvent } from '../../domain/preauths/preauth-events.js';
import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { OneCommitUnsuitableError, type OneCommitDecisions, type TrackedStream } from '../one-commit.js';
import type { PaymentParties } from '../payments/payment-operations.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  chargeParties,
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

export type PreauthHandler = StreamCommandHandler<PreauthCommand, PreauthEvent, PreauthState>;
export type ExistingPreauth = Extract<PreauthState, { exists: true }>;

export interface PreauthDeps extends OperationDeps {
  readonly preauths: PreauthHandler;
}

export function preauthStreamId(preauthId: string): string {
  return `preauth-${preauthId}`;
}

export function preauthIdOf(merchantId: string, merchantOrderNo: string): string {
  return deriveId(`${merchantId}\u0000${merchantOrderNo}`, 'preauth');
}

type Outcome = { preauth: ExistingPreauth; position: bigint };

export interface AuthoriseRequest {
  readonly merchantId: string;
  readonly merchantOrderNo: string;
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: Money;
  readonly expiresAt: string;
}

/** Hold the estimated amount on the payer: request -> FundsFrozen (preauth hold) -> authorised / declined. */
export async function authorise(
  deps: PreauthDeps,
  request: AuthoriseRequest,
  context: CommandContext,
  /** The two accounts as the caller just loaded them for its checks (see PaymentParties): not loaded again. */
  loaded?: PaymentParties,
): Promise<Outcome> {
  const preauthId = preauthIdOf(request.merchantId, request.merchantOrderNo);
  const streamId = preauthStreamId(preauthId);
  const existing = await deps.preauths.load(streamId);
  if (!existing.state.exists) {
    // Check everything before recording anything: a refused request changes nothing.
    const [payer, payee] = await chargeParties(deps, request, loaded);
    checkAuthorisation(request, preauthId, payer, payee);
  }
  // A known order number with the same terms is a retry (resume it); other terms are refused by the decider.
  const requested = await deps.preauths.handle(
    streamId,
    requestPreauth(request, preauthId),
    stepContext(context, preauthId, 'request'),
  );
  const position = requested.position;
  const resuming = requested.events.length === 0;
  const driven = await driveAuthorisation(deps, preauthId, context, resuming);
  return { preauth: driven.preauth, position: maxPosition(position, driven.position) };
}

/** The payer can hold the amount and the payee could take it: throws the refusal, records nothing. */
function checkAuthorisation(
  request: AuthoriseRequest,
  preauthId: string,
  payer: OpenAccountState,
  payee: OpenAccountState,
): void {
  decideFreeze(
    {
      accountId: payer.accountId,
      freezeId: preauthId,
      amount: request.amount,
      purpose: 'preauth_hold',
      reason: `pre-authorisation ${request.merchantOrderNo}`,
    },
    payer,
  );
  decideCredit(
    {
      accountId: payee.accountId,
      amount: request.amount,
      kind: 'preauth_capture',
      operationId: preauthId,
      merchantOrderNo: request.merchantOrderNo,
      counterparty: snapshotOf(payer),
      memo: '',
    },
    payee,
  );
}

function requestPreauth(request: AuthoriseRequest, preauthId: string): PreauthCommand {
  return {
    type: 'RequestPreauth',
    request: {
      preauthId,
      merchantId: request.merchantId,
      merchantOrderNo: request.merchantOrderNo,
      payerAccountId: request.payerAccountId,
      payeeAccountId: request.payeeAccountId,
      amountMinor: request.amount.amountMinor,
      currency: request.amount.currency,
      expiresAt: request.expiresAt,
    },
  };
}

/** The hold on the payer: the authorised amount frozen under the pre-authorisation's id. */
function holdFunds(r: ExistingPreauth['request']): AccountCommand {
  return {
    type: 'FreezeFunds',
    accountId: r.payerAccountId,
    freezeId: r.preauthId,
    amount: { amountMinor: r.amountMinor, currency: r.currency },
    purpose: 'preauth_hold',
    reason: `pre-authorisation ${r.merchantOrderNo}`,
  };
}

/** What a decision for one commit gives: the streams it decides on, its own stream (the answer's position), the decision. */
export interface PreauthInOneCommit<T = ExistingPreauth> {
  readonly streams: TrackedStream[];
  readonly positionStream: string;
  readonly decide: (decisions: OneCommitDecisions) => T;
}

/**
 * An account step decided inside one commit. A refusal the process records (a declined hold, a failed
 * capture or cancellation, with its compensation) is the process's to answer, on the stored states.
 */
function decideStepOrLeave(
  deps: PreauthDeps,
  decisions: OneCommitDecisions,
  accountId: string,
  command: AccountCommand,
  context: CommandContext,
): void {
  try {
    decisions.decide(deps.accounts, accountStreamId(accountId), command, context);
  } catch (error) {
    if (error instanceof DomainError) throw new OneCommitUnsuitableError(`the step would fail: ${error.code}`);
    throw error;
  }
}

/**
 * A new pre-authorisation decided whole, for one commit (src/commands/one-commit.ts): the same commands,
 * checks and derived event ids as `authorise` and `driveAuthorisation`, decided on the loaded states:
 * PreauthRequested, the hold (FundsFrozen) on the payer, PreauthAuthorised. A refusal (the payer cannot
 * hold it, the payee could not take it) throws before anything is kept; an order number used before (a
 * retry, other terms) is the process's to answer; so is a hold from an account to itself (null).
 */
export function authoriseInOneCommit(
  deps: PreauthDeps,
  request: AuthoriseRequest,
  context: CommandContext,
): PreauthInOneCommit | null {
  if (request.payerAccountId === request.payeeAccountId) return null;
  const preauthId = preauthIdOf(request.merchantId, request.merchantOrderNo);
  const streamId = preauthStreamId(preauthId);
  const [payerStream, payeeStream] = [accountStreamId(request.payerAccountId), accountStreamId(request.payeeAccountId)];
  const streams = [
    { handler: deps.preauths, streamId, expectNew: true },
    { handler: deps.accounts, streamId: payerStream },
    // Read for its check only (nothing is appended to it), as the process reads it.
    { handler: deps.accounts, streamId: payeeStream },
  ];
  const decide = (decisions: OneCommitDecisions): ExistingPreauth => {
    if (decisions.state(deps.preauths, streamId).exists)
      throw new OneCommitUnsuitableError('the pre-authorisation exists');
    const payer = requireExisting(decisions.state(deps.accounts, payerStream), request.payerAccountId);
    const payee = requireExisting(decisions.state(deps.accounts, payeeStream), request.payeeAccountId);
    checkAuthorisation(request, preauthId, payer, payee);
    const requested = decisions.decide(
      deps.preauths,
      streamId,
      requestPreauth(request, preauthId),
      stepContext(context, preauthId, 'request'),
    );
    assert(requested.state.exists, 'a requested pre-authorisation exists');
    decideStepOrLeave(
      deps,
      decisions,
      request.payerAccountId,
      holdFunds(requested.state.request),
      stepContext(context, preauthId, 'hold'),
    );
    const authorised = decisions.decide(
      deps.preauths,
      streamId,
      { type: 'AuthorisePreauth', preauthId },
      stepContext(context, preauthId, 'outcome'),
    );
    assert(authorised.state.exists, 'an authorised pre-authorisation exists');
    return authorised.state;
  };
  return { streams, positionStream: streamId, decide };
}

/** Takes a requested pre-authorisation to authorised or declined; safe to call again. */
export async function driveAuthorisation(
  deps: PreauthDeps,
  preauthId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<Outcome> {
  const streamId = preauthStreamId(preauthId);
  const { preauth, position } = await loadPreauth(deps, preauthId);
  if (preauth.status !== 'requested') return { preauth, position };
  const r = preauth.request;
  const held = await runAccountStep(
    deps,
    r.payerAccountId,
    holdFunds(r),
    stepContext(context, preauthId, 'hold'),
    resumptionOf(resuming, streamId),
  );
  const done = await deps.preauths.handle(
    streamId,
    held.ok
      ? { type: 'AuthorisePreauth', preauthId }
      : { type: 'DeclinePreauth', preauthId, reasonCode: held.error.code, reason: held.error.message },
    stepContext(context, preauthId, 'outcome'),
  );
  if (!held.ok) throw held.error;
  return { preauth: done.state as ExistingPreauth, position: maxPosition(position, held.position, done.position) };
}

/**
 * Cancel an authorisation: always the full held amount. Also used by expiry (reason 'expired'). The hold is
 * released before the cancellation is recorded, so a crash in between leaves an authorisation whose
 * hold is gone (a capture then fails, and the expiry sweep or a retry records the cancellation), never a
 * cancelled authorisation whose money stays held.
 */
export async function cancelPreauth(
  deps: PreauthDeps,
  preauthId: string,
  reason: 'merchant' | 'expired',
  context: CommandContext,
): Promise<Outcome> {
  const streamId = preauthStreamId(preauthId);
  const current = await getPreauth(deps, preauthId);
  const command = { type: 'CancelPreauth' as const, preauthId, reason, nowIso: context.occurredAt };
  decidePreauth(command, current); // refuses (not authorised, not yet expired) before anything moves
  const released = await runAccountStep(
    deps,
    current.request.payerAccountId,
    releaseHold(current.request, reason),
    stepContext(context, preauthId, 'cancel-release'),
    resumptionOf(true, streamId),
  );
  if (!released.ok && released.error.code !== 'freeze_not_found') throw released.error;
  const cancelled = await deps.preauths.handle(streamId, command, stepContext(context, preauthId, 'cancel'));
  return {
    preauth: cancelled.state as ExistingPreauth,
    position: maxPosition(cancelled.position, released.ok ? released.position : -1n),
  };
}

/** The whole hold back to the payer's available funds. */
function releaseHold(r: ExistingPreauth['request'], reason: 'merchant' | 'expired'): AccountCommand {
  return {
    type: 'ReleaseFrozenFunds',
    accountId: r.payerAccountId,
    freezeId: r.preauthId,
    amountMinor: null,
    reason: `pre-authorisation cancelled (${reason})`,
  };
}

/**
 * A merchant's cancellation decided whole, for one commit: the same commands, check and derived event ids
 * as `cancelPreauth`: the hold released on the payer (none when an earlier run released it already) and
 * PreauthCancelled. A refusal (not authorised) throws before anything is kept; a cancelled one is the
 * process's to answer. `preauth` is as the caller just loaded it (its payer never changes).
 */
export function cancelPreauthInOneCommit(
  deps: PreauthDeps,
  preauth: ExistingPreauth,
  context: CommandContext,
): PreauthInOneCommit {
  const { preauthId, payerAccountId } = preauth.request;
  const streamId = preauthStreamId(preauthId);
  const payerStream = accountStreamId(payerAccountId);
  const streams = [
    { handler: deps.preauths, streamId },
    { handler: deps.accounts, streamId: payerStream },
  ];
  const decide = (decisions: OneCommitDecisions): ExistingPreauth => {
    const current = decisions.state(deps.preauths, streamId);
    if (!current.exists || current.status === 'cancelled')
      throw new OneCommitUnsuitableError('the pre-authorisation is cancelled');
    const command = {
      type: 'CancelPreauth' as const,
      preauthId,
      reason: 'merchant' as const,
      nowIso: context.occurredAt,
    };
    decidePreauth(command, current); // refuses (not authorised) before anything moves
    const payer = requireExisting(decisions.state(deps.accounts, payerStream), payerAccountId);
    // A hold already released (a run that stopped before recording the cancellation) is not released again.
    if (payer.freezes.has(preauthId))
      decideStepOrLeave(
        deps,
        decisions,
        payerAccountId,
        releaseHold(current.request, 'merchant'),
        stepContext(context, preauthId, 'cancel-release'),
      );
    const cancelled = decisions.decide(deps.preauths, streamId, command, stepContext(context, preauthId, 'cancel'));
    assert(cancelled.state.exists, 'a cancelled pre-authorisation exists');
    return cancelled.state;
  };
  return { streams, positionStream: streamId, decide };
}

/**
 * Complete (capture) at most the authorised amount, once: the payer's hold pays the captured amount and
 * releases the rest in one append, then the payee is credited. A payee that cannot take it gets nothing:
 * the payer is credited back and the full hold restored, so the authorisation is valid again.
 */
export async function completePreauth(
  deps: PreauthDeps,
  preauthId: string,
  amount: Money,
  context: CommandContext,
): Promise<Outcome> {
  const completionId = deriveId(context.operationKey, 'completion');
  const streamId = preauthStreamId(preauthId);
  requireSameCurrency(await getPreauth(deps, preauthId), amount);
  const requested = await deps.preauths.handle(
    streamId,
    requestCompletion(preauthId, completionId, amount, context),
    stepContext(context, completionId, 'request'),
  );
  const driven = await driveCompletion(deps, preauthId, completionId, context, requested.events.length === 0);
  return { preauth: driven.preauth, position: maxPosition(requested.position, driven.position) };
}

function requestCompletion(preauthId: string, completionId: string, amount: Money, context: CommandContext) {
  return {
    type: 'RequestCompletion' as const,
    preauthId,
    completionId,
    capturedMinor: amount.amountMinor,
    nowIso: context.occurredAt,
  };
}

/** The payer's hold pays the captured amount and releases the rest, in one append. */
function capturePayer(
  r: ExistingPreauth['request'],
  completionId: string,
  capturedMinor: bigint,
  payee: OpenAccountState,
): AccountCommand {
  const remainder = r.amountMinor - capturedMinor;
  const payerSteps: AccountCommand[] = [
    {
      type: 'DeductFrozenFunds',
      accountId: r.payerAccountId,
      freezeId: r.preauthId,
      amountMinor: capturedMinor,
      kind: 'preauth_capture',
      operationId: completionId,
      counterparty: snapshotOf(payee),
    },
  ];
  if (remainder > 0n)
    payerSteps.push({
      type: 'ReleaseFrozenFunds',
      accountId: r.payerAccountId,
      freezeId: r.preauthId,
      amountMinor: remainder,
      reason: 'pre-authorisation completed below the held amount',
    });
  return { type: 'Sequence', accountId: r.payerAccountId, commands: payerSteps };
}

function captureMovement(r: ExistingPreauth['request'], completionId: string, capturedMinor: bigint) {
  return {
    amount: { amountMinor: capturedMinor, currency: r.currency },
    operationId: completionId,
    merchantOrderNo: r.merchantOrderNo,
    memo: `pre-authorisation ${r.merchantOrderNo}`,
  };
}

function creditPayee(
  r: ExistingPreauth['request'],
  movement: ReturnType<typeof captureMovement>,
  payer: OpenAccountState,
): AccountCommand {
  return {
    type: 'CreditAccount',
    ...movement,
    kind: 'preauth_capture',
    accountId: r.payeeAccountId,
    counterparty: snapshotOf(payer),
  };
}

/**
 * A new completion decided whole, for one commit: the same commands, checks and derived event ids as
 * `completePreauth` and `driveCompletion`: PreauthCompletionRequested, the capture on the payer (the
 * captured amount paid out of the hold, the rest released), the payee's credit, PreauthCompleted. A
 * refusal of the request (not authorised, expired, above the hold) throws before anything is kept; a
 * completion already requested under this key (a retry), or a capture the accounts would refuse (the
 * process records the failed completion and restores the hold), is the process's to answer. `preauth`
 * is as the caller just loaded it (its two accounts never change).
 */
export function completeInOneCommit(
  deps: PreauthDeps,
  preauth: ExistingPreauth,
  amount: Money,
  context: CommandContext,
): PreauthInOneCommit {
  const r = preauth.request;
  const completionId = deriveId(context.operationKey, 'completion');
  const streamId = preauthStreamId(r.preauthId);
  const [payerStream, payeeStream] = [accountStreamId(r.payerAccountId), accountStreamId(r.payeeAccountId)];
  const streams = [
    { handler: deps.preauths, streamId },
    { handler: deps.accounts, streamId: payerStream },
    { handler: deps.accounts, streamId: payeeStream },
  ];
  const decide = (decisions: OneCommitDecisions): ExistingPreauth => {
    const current = decisions.state(deps.preauths, streamId);
    if (!current.exists || current.completion?.completionId === completionId)
      throw new OneCommitUnsuitableError('the completion was requested before');
    requireSameCurrency(current, amount);
    decisions.decide(
      deps.preauths,
      streamId,
      requestCompletion(r.preauthId, completionId, amount, context),
      stepContext(context, completionId, 'request'),
    );
    const payer = requireExisting(decisions.state(deps.accounts, payerStream), r.payerAccountId);
    const payee = requireExisting(decisions.state(deps.accounts, payeeStream), r.payeeAccountId);
    decideStepOrLeave(
      deps,
      decisions,
      r.payerAccountId,
      capturePayer(r, completionId, amount.amountMinor, payee),
      stepContext(context, completionId, 'capture-payer'),
    );
    decideStepOrLeave(
      deps,
      decisions,
      r.payeeAccountId,
      creditPayee(r, captureMovement(r, completionId, amount.amountMinor), payer),
      stepContext(context, completionId, 'credit-payee'),
    );
    const done = decisions.decide(
      deps.preauths,
      streamId,
      { type: 'ConfirmCompletion', preauthId: r.preauthId, completionId },
      stepContext(context, completionId, 'confirm'),
    );
    assert(done.state.exists, 'a completed pre-authorisation exists');
    return done.state;
  };
  return { streams, positionStream: streamId, decide };
}

function requireSameCurrency(preauth: ExistingPreauth, amount: Money): void {
  if (amount.currency !== preauth.request.currency)
    throw new DomainError(
      'currency_mismatch',
      `pre-authorisation ${preauth.request.preauthId} is in ${preauth.request.currency}`,
      { currency: amount.currency },
    );
}

/** Takes a requested completion to completed or failed; safe to call again (a retry, a resume after a crash). */
export async function driveCompletion(
  deps: PreauthDeps,
  preauthId: string,
  completionId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<Outcome> {
  const streamId = preauthStreamId(preauthId);
  const { preauth, position } = await loadPreauth(deps, preauthId);
  if (preauth.status !== 'completing' || preauth.completion?.completionId !== completionId)
    return { preauth, position };
  const r = preauth.request;
  const captured = preauth.completion.capturedMinor;
  const [payer, payee] = await Promise.all([loadAccount(deps, r.payerAccountId), loadAccount(deps, r.payeeAccountId)]);
  const deducted = await runAccountStep(
    deps,
    r.payerAccountId,
    capturePayer(r, completionId, captured, payee),
    stepContext(context, completionId, 'capture-payer'),
    resumptionOf(resuming, streamId),
  );
  if (!deducted.ok) return failCompletion(deps, preauthId, completionId, deducted.error, context);
  const movement = captureMovement(r, completionId, captured);
  const credited = await runAccountStep(
    deps,
    r.payeeAccountId,
    creditPayee(r, movement, payer),
    stepContext(context, completionId, 'credit-payee'),
    resumptionOf(resuming, streamId),
  );
  if (!credited.ok) {
    const restored = await runAccountStep(
      deps,
      r.payerAccountId,
      {
        type: 'Sequence',
        accountId: r.payerAccountId,
        commands: [
          {
            type: 'CreditAccount',
            ...movement,
            kind: 'preauth_capture_reversal',
            accountId: r.payerAccountId,
            counterparty: snapshotOf(payee),
            memo: `reversal: ${credited.error.code}`,
          },
          {
            type: 'FreezeFunds',
            accountId: r.payerAccountId,
            freezeId: preauthId,
            amount: { amountMinor: r.amountMinor, currency: r.currency },
            purpose: 'preauth_hold',
            reason: 'authorisation restored',
          },
        ],
      },
      stepContext(context, completionId, 'restore-payer'),
      resumptionOf(resuming, streamId),
    );
    if (!restored.ok) throw restored.error;
    return failCompletion(deps, preauthId, completionId, credited.error, context);
  }
  const done = await deps.preauths.handle(
    streamId,
    { type: 'ConfirmCompletion', preauthId, completionId },
    stepContext(context, completionId, 'confirm'),
  );
  return {
    preauth: done.state as ExistingPreauth,
    position: maxPosition(deducted.position, credited.position, done.position),
  };
}

/**
 * Cancel a completion: always the full captured amount. The payee gives it back, the payer gets it back
 * and the full authorised amount is held again: the authorisation is valid again. Checked first so that a
 * payer who can no longer cover the hold refuses the cancellation before any money moves.
 */
export async function cancelCompletion(
  deps: PreauthDeps,
  preauthId: string,
  context: CommandContext,
): Promise<Outcome> {
  const streamId = preauthStreamId(preauthId);
  const current = await getPreauth(deps, preauthId);
  if (current.status === 'completed' && current.completion) {
    const r = current.request;
    const [payer, payee] = await Promise.all([
      loadAccount(deps, r.payerAccountId),
      loadAccount(deps, r.payeeAccountId),
    ]);
    checkCompletionCancellation(current, payer, payee);
  }
  // A cancellation in progress is resumed under its own id; a new one (also after a failed one) gets a
  // new id, so its steps never collide with an earlier attempt's.
  const cancellationId =
    (current.status === 'cancelling_completion' ? current.completionCancellationId : null) ??
    deriveId(context.operationKey, 'completion-cancellation');
  const requested = await deps.preauths.handle(
    streamId,
    { type: 'RequestCompletionCancellation', preauthId, cancellationId },
    stepContext(context, cancellationId, 'request'),
  );
  const preauth = requested.state as ExistingPreauth;
  if (
    preauth.status !== 'cancelling_completion' ||
    !preauth.completion ||
    preauth.completionCancellationId !== cancellationId
  )
    return { preauth, position: requested.position };
  const resuming = requested.events.length === 0;
  const { completionId, capturedMinor } = preauth.completion;
  const r = preauth.request;
  const [payer, payee] = await Promise.all([loadAccount(deps, r.payerAccountId), loadAccount(deps, r.payeeAccountId)]);
  const movement = uncompletionMovement(r, completionId, capturedMinor, `completion of ${r.merchantOrderNo} cancelled`);
  const debited = await runAccountStep(
    deps,
    r.payeeAccountId,
    debitPayee(r, movement, payer),
    stepContext(context, cancellationId, 'debit-payee'),
    resumptionOf(resuming, streamId),
  );
  if (!debited.ok) return failUncompletion(deps, preauthId, completionId, cancellationId, debited.error, context);
  const restored = await runAccountStep(
    deps,
    r.payerAccountId,
    restorePayer(r, movement, preauthId, snapshotOf(payee)),
    stepContext(context, cancellationId, 'restore-payer'),
    resumptionOf(resuming, streamId),
  );
  if (!restored.ok) {
    // Give the payee its capture back; a reversal goes through whatever the payee's flags and status.
    const back = await runAccountStep(
      deps,
      r.payeeAccountId,
      {
        type: 'CreditAccount',
        ...movement,
        kind: 'preauth_capture_reversal',
        accountId: r.payeeAccountId,
        counterparty: snapshotOf(payer),
        memo: `reversal: ${restored.error.code}`,
      },
      stepContext(context, cancellationId, 'reverse-debit-payee'),
      resumptionOf(resuming, streamId),
    );
    if (!back.ok) throw back.error;
    return failUncompletion(deps, preauthId, completionId, cancellationId, restored.error, context);
  }
  const done = await deps.preauths.handle(
    streamId,
    { type: 'ConfirmCompletionCancellation', preauthId, completionId },
    stepContext(context, cancellationId, 'confirm'),
  );
  return {
    preauth: done.state as ExistingPreauth,
    position: maxPosition(requested.position, debited.position, restored.position, done.position),
  };
}

function uncompletionMovement(
  r: ExistingPreauth['request'],
  completionId: string,
  capturedMinor: bigint,
  memo: string,
) {
  return {
    amount: { amountMinor: capturedMinor, currency: r.currency },
    operationId: completionId,
    merchantOrderNo: r.merchantOrderNo,
    memo,
  };
}

/** The payee gives the capture back. */
function debitPayee(
  r: ExistingPreauth['request'],
  movement: ReturnType<typeof uncompletionMovement>,
  payer: OpenAccountState,
): AccountCommand {
  return {
    type: 'DebitAccount',
    ...movement,
    kind: 'preauth_completion_cancellation',
    accountId: r.payeeAccountId,
    counterparty: snapshotOf(payer),
  };
}

/**
 * Both accounts checked before anything moves: the payee gives the capture back, the payer takes it and
 * holds the full authorised amount again. Throws the refusal.
 */
function checkCompletionCancellation(preauth: ExistingPreauth, payer: OpenAccountState, payee: OpenAccountState): void {
  assert(preauth.completion !== null, 'a completed pre-authorisation has its completion');
  const r = preauth.request;
  const movement = uncompletionMovement(r, preauth.completion.completionId, preauth.completion.capturedMinor, '');
  decideAccount(debitPayee(r, movement, payer), payee);
  decideAccount(restorePayer(r, movement, r.preauthId, snapshotOf(payee)), payer);
}

/**
 * A new cancellation of the completion decided whole, for one commit: the same commands, checks and
 * derived event ids as `cancelCompletion`: PreauthCompletionCancellationRequested, the payee's debit, the
 * payer's credit with the full hold again, PreauthCompletionCancelled. A refusal (not completed, the payee
 * cannot give it back, the payer cannot hold it again) throws before anything is kept; a cancellation
 * begun or done already, or one the accounts would refuse after the checks, is the process's to answer.
 * `preauth` is as the caller just loaded it (its two accounts never change).
 */
export function cancelCompletionInOneCommit(
  deps: PreauthDeps,
  preauth: ExistingPreauth,
  context: CommandContext,
): PreauthInOneCommit {
  const r = preauth.request;
  const { preauthId } = r;
  const streamId = preauthStreamId(preauthId);
  const [payerStream, payeeStream] = [accountStreamId(r.payerAccountId), accountStreamId(r.payeeAccountId)];
  const streams = [
    { handler: deps.preauths, streamId },
    { handler: deps.accounts, streamId: payeeStream },
    { handler: deps.accounts, streamId: payerStream },
  ];
  const cancellationId = deriveId(context.operationKey, 'completion-cancellation');
  const decide = (decisions: OneCommitDecisions): ExistingPreauth => {
    const current = decisions.state(deps.preauths, streamId);
    if (!current.exists || current.status === 'cancelling_completion')
      throw new OneCommitUnsuitableError('the completion is being cancelled');
    const payer = requireExisting(decisions.state(deps.accounts, payerStream), r.payerAccountId);
    const payee = requireExisting(decisions.state(deps.accounts, payeeStream), r.payeeAccountId);
    if (current.status === 'completed' && current.completion) checkCompletionCancellation(current, payer, payee);
    const requested = decisions.decide(
      deps.preauths,
      streamId,
      { type: 'RequestCompletionCancellation', preauthId, cancellationId },
      stepContext(context, cancellationId, 'request'),
    );
    const completion = requested.state.exists ? requested.state.completion : null;
    if (requested.events.length === 0 || !completion)
      throw new OneCommitUnsuitableError('this cancellation of the completion was done before');
    const movement = uncompletionMovement(
      r,
      completion.completionId,
      completion.capturedMinor,
      `completion of ${r.merchantOrderNo} cancelled`,
    );
    decideStepOrLeave(
      deps,
      decisions,
      r.payeeAccountId,
      debitPayee(r, movement, payer),
      stepContext(context, cancellationId, 'debit-payee'),
    );
    decideStepOrLeave(
      deps,
      decisions,
      r.payerAccountId,
      restorePayer(r, movement, preauthId, snapshotOf(payee)),
      stepContext(context, cancellationId, 'restore-payer'),
    );
    const done = decisions.decide(
      deps.preauths,
      streamId,
      { type: 'ConfirmCompletionCancellation', preauthId, completionId: completion.completionId },
      stepContext(context, cancellationId, 'confirm'),
    );
    assert(done.state.exists, 'a pre-authorisation with its completion cancelled exists');
    return done.state;
  };
  return { streams, positionStream: streamId, decide };
}

/** The payer takes the capture back and holds the full authorised amount again, in one append. */
function restorePayer(
  r: ExistingPreauth['request'],
  movement: { amount: Money; operationId: string; merchantOrderNo: string; memo: string },
  preauthId: string,
  payee: ReturnType<typeof snapshotOf>,
): AccountCommand {
  return {
    type: 'Sequence',
    accountId: r.payerAccountId,
    commands: [
      {
        type: 'CreditAccount',
        ...movement,
        kind: 'preauth_completion_cancellation',
        accountId: r.payerAccountId,
        counterparty: payee,
      },
      {
        type: 'FreezeFunds',
        accountId: r.payerAccountId,
        freezeId: preauthId,
        amount: { amountMinor: r.amountMinor, currency: r.currency },
        purpose: 'preauth_hold',
        reason: 'authorisation valid again',
      },
    ],
  };
}

async function failCompletion(
  deps: PreauthDeps,
  preauthId: string,
  completionId: string,
  error: DomainError,
  context: CommandContext,
): Promise<never> {
  await deps.preauths.handle(
    preauthStreamId(preauthId),
    { type: 'FailCompletion', preauthId, completionId, reasonCode: error.code, reason: error.message },
    stepContext(context, completionId, 'fail'),
  );
  throw error;
}

async function failUncompletion(
  deps: PreauthDeps,
  preauthId: string,
  completionId: string,
  cancellationId: string,
  error: DomainError,
  context: CommandContext,
): Promise<never> {
  await deps.preauths.handle(
    preauthStreamId(preauthId),
    { type: 'FailCompletionCancellation', preauthId, completionId, reasonCode: error.code, reason: error.message },
    stepContext(context, cancellationId, 'fail'),
  );
  throw error;
}

export async function getPreauth(deps: PreauthDeps, preauthId: string): Promise<ExistingPreauth> {
  return (await loadPreauth(deps, preauthId)).preauth;
}

/** A pre-authorisation that must exist, with the position of its stream's last event (an answer's position). */
export async function loadPreauth(deps: PreauthDeps, preauthId: string): Promise<Outcome> {
  const { state, position } = await deps.preauths.load(preauthStreamId(preauthId));
  if (!state.exists)
    throw new DomainError('operation_not_found', `pre-authorisation ${preauthId} does not exist`, { preauthId });
  return { preauth: state, position };
}

import type { AccountCommand } from '../../domain/accounts/account-decider.js';
import type { Money } from '../../domain/money/money.js';
import { decidePreauth } from '../../domain/preauths/preauth-decider.js';
import { assert } from '../../domain/shared/domain-error.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  OneCommitUnsuitableError,
  decidedOrLeftToProcess,
  type OneCommitDecisions,
  type TrackedStream,
} from '../one-commit.js';
import { requireExisting, snapshotOf, stepContext } from '../operations/operation-steps.js';
import {
  preauthIdOf,
  preauthStreamId,
  type AuthoriseRequest,
  type ExistingPreauth,
  type PreauthDeps,
} from './preauth-operations.js';
import {
  checkAuthorisation,
  requestPreauth,
  holdFunds,
  releaseHold,
  requestCompletion,
  capturePayer,
  captureMovement,
  creditPayee,
  requireSameCurrency,
  uncompletionMovement,
  debitPayee,
  checkCompletionCancellation,
  restorePayer,
} from './preauth-steps.js';

/** What a decision for one commit gives: the streams it decides on, its own stream (the answer's position), the decision. */
export interface PreauthInOneCommit<T = ExistingPreauth> {
  readonly streams: TrackedStream[];
  readonly positionStream: string;
  readonly decide: (decisions: OneCommitDecisions) => T;
}

/** An account step decided inside one commit; refused, it is the process's (see decidedOrLeftToProcess). */
function decideStepOrLeave(
  deps: PreauthDeps,
  decisions: OneCommitDecisions,
  accountId: string,
  command: AccountCommand,
  context: CommandContext,
): void {
  decidedOrLeftToProcess(`the ${command.type} step`, () =>
    decisions.decide(deps.accounts, accountStreamId(accountId), command, context),
  );
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

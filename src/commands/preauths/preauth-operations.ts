import type { Money } from '../../domain/money/money.js';
import { decidePreauth, type PreauthCommand, type PreauthState } from '../../domain/preauths/preauth-decider.js';
import type { PreauthEvent } from '../../domain/preauths/preauth-events.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { PaymentParties } from '../payments/payment-operations.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  chargeParties,
  loadAccount,
  maxPosition,
  runAccountStep,
  resumptionOf,
  snapshotOf,
  stepContext,
  type OperationDeps,
} from '../operations/operation-steps.js';
import type { StreamCommandHandler } from '../stream-command-handler.js';
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

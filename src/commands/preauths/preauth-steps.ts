import { decideAccount, type AccountCommand } from '../../domain/accounts/account-decider.js';
import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import { decideFreeze } from '../../domain/accounts/freezes.js';
import { decideCredit } from '../../domain/accounts/movements.js';
import type { Money } from '../../domain/money/money.js';
import type { PreauthCommand } from '../../domain/preauths/preauth-decider.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type { CommandContext } from '../command-context.js';
import { snapshotOf } from '../operations/operation-steps.js';
import type { AuthoriseRequest, ExistingPreauth } from './preauth-operations.js';

/**
 * The commands and checks of a pre-authorisation's steps, shared by its process (preauth-operations.ts)
 * and its one-commit decisions (preauth-one-commit.ts): both record the same events, so either path
 * resumes the other.
 */

/** The payer can hold the amount and the payee could take it: throws the refusal, records nothing. */
export function checkAuthorisation(
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

export function requestPreauth(request: AuthoriseRequest, preauthId: string): PreauthCommand {
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
export function holdFunds(r: ExistingPreauth['request']): AccountCommand {
  return {
    type: 'FreezeFunds',
    accountId: r.payerAccountId,
    freezeId: r.preauthId,
    amount: { amountMinor: r.amountMinor, currency: r.currency },
    purpose: 'preauth_hold',
    reason: `pre-authorisation ${r.merchantOrderNo}`,
  };
}

/** The whole hold back to the payer's available funds. */
export function releaseHold(r: ExistingPreauth['request'], reason: 'merchant' | 'expired'): AccountCommand {
  return {
    type: 'ReleaseFrozenFunds',
    accountId: r.payerAccountId,
    freezeId: r.preauthId,
    amountMinor: null,
    reason: `pre-authorisation cancelled (${reason})`,
  };
}

export function requestCompletion(preauthId: string, completionId: string, amount: Money, context: CommandContext) {
  return {
    type: 'RequestCompletion' as const,
    preauthId,
    completionId,
    capturedMinor: amount.amountMinor,
    nowIso: context.occurredAt,
  };
}

/** The payer's hold pays the captured amount and releases the rest, in one append. */
export function capturePayer(
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

export function captureMovement(r: ExistingPreauth['request'], completionId: string, capturedMinor: bigint) {
  return {
    amount: { amountMinor: capturedMinor, currency: r.currency },
    operationId: completionId,
    merchantOrderNo: r.merchantOrderNo,
    memo: `pre-authorisation ${r.merchantOrderNo}`,
  };
}

export function creditPayee(
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

export function requireSameCurrency(preauth: ExistingPreauth, amount: Money): void {
  if (amount.currency !== preauth.request.currency)
    throw new DomainError(
      'currency_mismatch',
      `pre-authorisation ${preauth.request.preauthId} is in ${preauth.request.currency}`,
      { currency: amount.currency },
    );
}

export function uncompletionMovement(
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
export function debitPayee(
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
export function checkCompletionCancellation(
  preauth: ExistingPreauth,
  payer: OpenAccountState,
  payee: OpenAccountState,
): void {
  assert(preauth.completion !== null, 'a completed pre-authorisation has its completion');
  const r = preauth.request;
  const movement = uncompletionMovement(r, preauth.completion.completionId, preauth.completion.capturedMinor, '');
  decideAccount(debitPayee(r, movement, payer), payee);
  decideAccount(restorePayer(r, movement, r.preauthId, snapshotOf(payee)), payer);
}

/** The payer takes the capture back and holds the full authorised amount again, in one append. */
export function restorePayer(
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

import type { Money } from '../money/money.js';
import { DomainError, assert } from '../shared/domain-error.js';
import type { CounterpartySnapshot, FrozenFundsDeducted, FrozenFundsReleased, FundsFrozen } from './account-events.js';
import { requireActive, requireCurrency, requireOpenAccount } from './account-rules.js';
import { availableMinor, type AccountState, type OpenAccountState, type OpenFreeze } from './account-state.js';
import { formatAmount } from '../money/money.js';

/** "Freeze first, deduct later": set part of the available funds aside under a freeze id. */
export interface FreezeFunds {
  readonly accountId: string;
  readonly freezeId: string;
  readonly amount: Money;
  readonly purpose: 'freeze' | 'preauth_hold';
  readonly reason: string;
}

export interface ReleaseFrozenFunds {
  readonly accountId: string;
  readonly freezeId: string;
  /** Minor units to release; the freeze's whole remaining amount when null. */
  readonly amountMinor: bigint | null;
  readonly reason: string;
}

export interface DeductFrozenFunds {
  readonly accountId: string;
  readonly freezeId: string;
  readonly amountMinor: bigint;
  readonly kind: 'freeze_deduction' | 'preauth_capture';
  readonly operationId: string;
  readonly counterparty: CounterpartySnapshot;
}

export function decideFreeze(command: FreezeFunds, state: AccountState): FundsFrozen[] {
  const account = requireOpenAccount(state, command.accountId);
  requireActive(account);
  requireCurrency(account, command.amount.currency);
  assert(command.amount.amountMinor > 0n, 'a freeze is positive');
  if (account.freezes.has(command.freezeId)) {
    throw new DomainError(
      'freeze_exists',
      `freeze ${command.freezeId} already holds funds on account ${account.accountId}`,
      { freezeId: command.freezeId },
    );
  }
  // Frozen funds must exist: a freeze never dips into an overdraft.
  if (availableMinor(account) < command.amount.amountMinor) {
    throw new DomainError(
      'insufficient_funds',
      `account ${account.accountId} has insufficient available funds to freeze`,
      { accountId: account.accountId },
    );
  }
  return [
    {
      type: 'FundsFrozen',
      data: {
        accountId: account.accountId,
        subjectCode: account.subjectCode,
        freezeId: command.freezeId,
        amountMinor: command.amount.amountMinor,
        currency: command.amount.currency,
        purpose: command.purpose,
        reason: command.reason,
      },
    },
  ];
}

function heldBy(account: OpenAccountState, freezeId: string): OpenFreeze {
  const freeze = account.freezes.get(freezeId);
  if (freeze === undefined) {
    throw new DomainError('freeze_not_found', `no funds are frozen under ${freezeId} on account ${account.accountId}`, {
      freezeId,
    });
  }
  return freeze;
}

export function decideRelease(command: ReleaseFrozenFunds, state: AccountState): FrozenFundsReleased[] {
  const account = requireOpenAccount(state, command.accountId);
  const freeze = heldBy(account, command.freezeId);
  const remaining = freeze.remainingMinor;
  const amountMinor = command.amountMinor ?? remaining;
  if (amountMinor <= 0n || amountMinor > remaining) {
    throw new DomainError(
      'release_exceeds_frozen',
      `freeze ${command.freezeId} holds ${formatAmount(remaining, account.currency)} ${account.currency}; cannot release ${formatAmount(amountMinor, account.currency)}`,
      {
        freezeId: command.freezeId,
        remainingAmount: formatAmount(remaining, account.currency),
        currency: account.currency,
      },
    );
  }
  return [
    {
      type: 'FrozenFundsReleased',
      data: {
        accountId: account.accountId,
        subjectCode: account.subjectCode,
        freezeId: command.freezeId,
        amountMinor,
        currency: account.currency,
        purpose: freeze.purpose,
        reason: command.reason,
      },
    },
  ];
}

export function decideDeductFrozen(command: DeductFrozenFunds, state: AccountState): FrozenFundsDeducted[] {
  const account = requireOpenAccount(state, command.accountId);
  if (account.status === 'closed') {
    throw new DomainError('account_not_active', `account ${account.accountId} is closed`, {
      accountId: account.accountId,
      status: account.status,
    });
  }
  const remaining = heldBy(account, command.freezeId).remainingMinor;
  if (command.amountMinor <= 0n || command.amountMinor > remaining) {
    const currency = account.currency;
    throw new DomainError(
      'deduction_exceeds_frozen',
      `freeze ${command.freezeId} holds ${formatAmount(remaining, currency)} ${currency}; cannot deduct ${formatAmount(command.amountMinor, currency)}`,
      { freezeId: command.freezeId, remainingAmount: formatAmount(remaining, currency), currency },
    );
  }
  return [
    {
      type: 'FrozenFundsDeducted',
      data: {
        accountId: account.accountId,
        subjectCode: account.subjectCode,
        freezeId: command.freezeId,
        amountMinor: command.amountMinor,
        currency: account.currency,
        kind: command.kind,
        operationId: command.operationId,
        counterparty: command.counterparty,
      },
    },
  ];
}

import { DomainError } from '../shared/domain-error.js';
import type { AccountFlags } from './account-flags.js';
import type { AccountFlagsChanged, AccountStatusChanged } from './account-events.js';
import { requireOpenAccount } from './account-rules.js';
import type { AccountState, AccountStatus } from './account-state.js';

/** Operators change what an account may do; each change is an event with a reason. */
export interface ChangeAccountFlags {
  readonly accountId: string;
  readonly flags: AccountFlags;
  readonly reason: string;
}

export interface ChangeAccountStatus {
  readonly accountId: string;
  readonly status: AccountStatus;
  readonly reason: string;
}

export function decideChangeFlags(command: ChangeAccountFlags, state: AccountState): AccountFlagsChanged[] {
  const account = requireOpenAccount(state, command.accountId);
  if (account.status === 'closed')
    throw new DomainError('account_not_active', `account ${account.accountId} is closed`, {
      accountId: account.accountId,
      status: 'closed',
    });
  if (
    command.flags.overdraftLimitMinor < 0n ||
    (!command.flags.mayOverdraw && command.flags.overdraftLimitMinor !== 0n)
  ) {
    throw new DomainError(
      'invalid_flags',
      'an overdraft limit is zero or positive, and zero unless overdraft is allowed',
    );
  }
  return [
    {
      type: 'AccountFlagsChanged',
      data: { accountId: account.accountId, flags: command.flags, reason: command.reason },
    },
  ];
}

export function decideChangeStatus(command: ChangeAccountStatus, state: AccountState): AccountStatusChanged[] {
  const account = requireOpenAccount(state, command.accountId);
  if (account.status === command.status) return [];
  if (account.status === 'closed')
    throw new DomainError('account_not_active', `account ${account.accountId} is closed for good`, {
      accountId: account.accountId,
      status: 'closed',
    });
  if (command.status === 'closed' && (account.balanceMinor !== 0n || account.frozenMinor !== 0n)) {
    throw new DomainError(
      'account_not_empty',
      `account ${account.accountId} still holds funds; it can be closed only at zero`,
      { accountId: account.accountId },
    );
  }
  return [
    {
      type: 'AccountStatusChanged',
      data: { accountId: account.accountId, status: command.status, reason: command.reason },
    },
  ];
}

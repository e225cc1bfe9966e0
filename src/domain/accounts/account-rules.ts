import type { CurrencyCode } from '../money/currency.js';
import { DomainError } from '../shared/domain-error.js';
import type { AccountFlags } from './account-flags.js';
import type { AccountState, OpenAccountState } from './account-state.js';

/** Checks shared by every operation that touches an account; each says exactly which rule refused. */
export function requireOpenAccount(state: AccountState, accountId: string): OpenAccountState {
  if (!state.exists) throw new DomainError('account_not_found', `account ${accountId} does not exist`, { accountId });
  return state;
}

export function requireActive(state: OpenAccountState): void {
  if (state.status !== 'active') {
    throw new DomainError('account_not_active', `account ${state.accountId} is ${state.status}`, {
      accountId: state.accountId,
      status: state.status,
    });
  }
}

export function requireFlag(state: OpenAccountState, flag: Exclude<keyof AccountFlags, 'overdraftLimitMinor'>): void {
  if (!state.flags[flag]) {
    throw new DomainError('account_flag_denies', `account ${state.accountId} does not allow this: ${flag} is off`, {
      accountId: state.accountId,
      flag,
    });
  }
}

export function requireCurrency(state: OpenAccountState, currency: CurrencyCode): void {
  if (state.currency !== currency) {
    throw new DomainError('currency_mismatch', `account ${state.accountId} holds ${state.currency}, not ${currency}`, {
      accountId: state.accountId,
      accountCurrency: state.currency,
      currency,
    });
  }
}

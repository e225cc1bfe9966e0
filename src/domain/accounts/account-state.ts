import type { CurrencyCode } from '../money/currency.js';
import { assert } from '../shared/domain-error.js';
import type { AccountFlags } from './account-flags.js';
import type { AccountEvent } from './account-events.js';
import type { AccountType } from './account-type.js';

export type AccountStatus = 'active' | 'frozen' | 'closed';

export type AccountState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly accountId: string;
      readonly accountType: AccountType;
      readonly ownerId: string;
      readonly currency: CurrencyCode;
      readonly displayName: string;
      readonly subjectCode: string;
      readonly status: AccountStatus;
      readonly flags: AccountFlags;
      /** balance = available + frozen (DESIGN invariant 2). */
      readonly balanceMinor: bigint;
      readonly frozenMinor: bigint;
    };

export function initialAccountState(): AccountState {
  return { exists: false };
}

export function availableMinor(state: Extract<AccountState, { exists: true }>): bigint {
  return state.balanceMinor - state.frozenMinor;
}

export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened': {
      assert(!state.exists, 'an account is opened once');
      const d = event.data;
      return {
        exists: true,
        accountId: d.accountId,
        accountType: d.accountType,
        ownerId: d.ownerId,
        currency: d.currency,
        displayName: d.displayName,
        subjectCode: d.subjectCode,
        status: 'active',
        flags: d.flags,
        balanceMinor: 0n,
        frozenMinor: 0n,
      };
    }
    case 'FundsRecharged': {
      assert(state.exists, 'funds move only on an open account');
      assert(event.data.amountMinor > 0n, 'a recharge is positive');
      return { ...state, balanceMinor: state.balanceMinor + event.data.amountMinor };
    }
  }
}

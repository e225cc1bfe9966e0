import type { CurrencyCode } from '../money/currency.js';
import { assert } from '../shared/domain-error.js';
import type { AccountFlags } from './account-flags.js';
import type { AccountEvent, FreezePurpose } from './account-events.js';
import type { AccountType } from './account-type.js';

export type AccountStatus = 'active' | 'frozen' | 'closed';

export interface OpenAccountState {
  readonly exists: true;
  readonly accountId: string;
  readonly accountType: AccountType;
  readonly ownerId: string;
  readonly currency: CurrencyCode;
  readonly displayName: string;
  readonly subjectCode: string;
  readonly status: AccountStatus;
  readonly flags: AccountFlags;
  /** balance = available + frozen (DESIGN invariant 2); available is derived, never stored. */
  readonly balanceMinor: bigint;
  readonly frozenMinor: bigint;
  /** What each open freeze or pre-authorisation hold still holds, by freeze id. */
  readonly freezes: ReadonlyMap<string, OpenFreeze>;
}

export interface OpenFreeze {
  readonly remainingMinor: bigint;
  readonly purpose: FreezePurpose;
}

export type AccountState = { readonly exists: false } | OpenAccountState;

export function initialAccountState(): AccountState {
  return { exists: false };
}

export function availableMinor(state: OpenAccountState): bigint {
  return state.balanceMinor - state.frozenMinor;
}

function withFreeze(
  freezes: ReadonlyMap<string, OpenFreeze>,
  freezeId: string,
  freeze: OpenFreeze,
): ReadonlyMap<string, OpenFreeze> {
  const next = new Map(freezes);
  if (freeze.remainingMinor === 0n) next.delete(freezeId);
  else next.set(freezeId, freeze);
  return next;
}

function requireOpen(state: AccountState): OpenAccountState {
  assert(state.exists, 'funds move only on an open account');
  return state;
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
        freezes: new Map(),
      };
    }
    case 'FundsRecharged':
    case 'FundsCredited': {
      const account = requireOpen(state);
      assert(event.data.amountMinor > 0n, 'a credit is positive');
      return { ...account, balanceMinor: account.balanceMinor + event.data.amountMinor };
    }
    case 'FundsDebited': {
      const account = requireOpen(state);
      assert(event.data.amountMinor > 0n, 'a debit is positive');
      const next = { ...account, balanceMinor: account.balanceMinor - event.data.amountMinor };
      const limit = account.flags.mayOverdraw ? -account.flags.overdraftLimitMinor : 0n;
      assert(availableMinor(next) >= limit, 'a debit never takes available funds below the overdraft limit');
      return next;
    }
    case 'FundsFrozen': {
      const account = requireOpen(state);
      assert(event.data.amountMinor > 0n, 'a freeze is positive');
      assert(!account.freezes.has(event.data.freezeId), 'a freeze id is used once per account');
      const next = {
        ...account,
        frozenMinor: account.frozenMinor + event.data.amountMinor,
        freezes: withFreeze(account.freezes, event.data.freezeId, {
          remainingMinor: event.data.amountMinor,
          purpose: event.data.purpose,
        }),
      };
      assert(availableMinor(next) >= 0n, 'only available funds can be frozen');
      return next;
    }
    case 'FrozenFundsReleased':
    case 'FrozenFundsDeducted': {
      const account = requireOpen(state);
      const freeze = account.freezes.get(event.data.freezeId);
      const remaining = freeze?.remainingMinor ?? 0n;
      assert(
        freeze !== undefined && event.data.amountMinor > 0n && event.data.amountMinor <= remaining,
        'only what a freeze still holds is released or deducted',
      );
      const deducted = event.type === 'FrozenFundsDeducted' ? event.data.amountMinor : 0n;
      return {
        ...account,
        balanceMinor: account.balanceMinor - deducted,
        frozenMinor: account.frozenMinor - event.data.amountMinor,
        freezes: withFreeze(account.freezes, event.data.freezeId, {
          ...freeze,
          remainingMinor: remaining - event.data.amountMinor,
        }),
      };
    }
    case 'AccountFlagsChanged':
      return { ...requireOpen(state), flags: event.data.flags };
    case 'AccountStatusChanged':
      return { ...requireOpen(state), status: event.data.status };
  }
}

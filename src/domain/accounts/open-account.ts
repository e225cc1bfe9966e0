import type { CurrencyCode } from '../money/currency.js';
import { DomainError } from '../shared/domain-error.js';
import { defaultFlags } from './account-flags.js';
import type { AccountOpened } from './account-events.js';
import type { AccountNumber } from './account-number.js';
import type { AccountState } from './account-state.js';
import { ACCOUNT_TYPES, type AccountType } from './account-type.js';

export interface OpenAccount {
  readonly accountId: AccountNumber;
  readonly accountType: AccountType;
  readonly ownerId: string;
  readonly currency: CurrencyCode;
  readonly displayName: string;
}

/** Opens an account with its kind's default flags and subject code. One account per number, ever. */
export function decideOpenAccount(command: OpenAccount, state: AccountState): AccountOpened[] {
  if (state.exists) {
    throw new DomainError('account_exists', `account ${command.accountId} already exists`, {
      accountId: command.accountId,
    });
  }
  return [
    {
      type: 'AccountOpened',
      data: {
        accountId: command.accountId,
        accountType: command.accountType,
        ownerId: command.ownerId,
        currency: command.currency,
        displayName: command.displayName,
        subjectCode: ACCOUNT_TYPES[command.accountType].subjectCode,
        flags: defaultFlags(command.accountType),
      },
    },
  ];
}

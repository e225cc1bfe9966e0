import { describe, it } from 'vitest';
import { accountDecider, type AccountCommand } from '../../src/domain/accounts/account-decider.js';
import type { AccountEvent, AccountOpened } from '../../src/domain/accounts/account-events.js';
import { defaultFlags } from '../../src/domain/accounts/account-flags.js';
import type { AccountState } from '../../src/domain/accounts/account-state.js';
import { parseAmount, parseCurrency } from '../../src/domain/money/money.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification<AccountCommand, AccountEvent, AccountState>(accountDecider);
const CNY = parseCurrency('CNY');
const accountId = '1010000000000018';
const opId = '0190a0a0-0000-7000-8000-000000000001';
const freezeId = '0190a0a0-0000-7000-8000-000000000002';
const counterparty = { accountId: '2010000000000014', ownerId: 'm-1', name: 'Shop', channel: null };
const opened: AccountOpened = {
  type: 'AccountOpened',
  data: {
    accountId,
    accountType: 'wallet',
    ownerId: 'u-1',
    currency: CNY,
    displayName: 'Alice',
    subjectCode: '2201',
    flags: defaultFlags('wallet'),
  },
};
const recharged = (amountMinor: bigint): AccountEvent => ({
  type: 'FundsRecharged',
  data: {
    rechargeId: opId,
    accountId,
    subjectCode: '2201',
    amountMinor,
    currency: CNY,
    channel: 'sim-bank',
    channelOrderNo: 'X',
    channelFeeMinor: 0n,
  },
});
const debit = (amount: string, kind: 'payment' | 'refund' | 'transfer' = 'payment'): AccountCommand => ({
  type: 'DebitAccount',
  accountId,
  amount: parseAmount(amount, CNY),
  kind,
  operationId: opId,
  merchantOrderNo: null,
  counterparty,
  memo: '',
});
const frozen = (amountMinor: bigint): AccountEvent => ({
  type: 'FundsFrozen',
  data: { accountId, subjectCode: '2201', freezeId, amountMinor, currency: CNY, purpose: 'freeze', reason: '' },
});

describe('debiting an account', () => {
  it('given 100.00 available, when 100.00 is debited, then it goes through', () => {
    spec
      .given([opened, recharged(10_000n)])
      .when(debit('100.00'))
      .then([
        {
          type: 'FundsDebited',
          data: {
            accountId,
            subjectCode: '2201',
            amountMinor: 10_000n,
            currency: CNY,
            kind: 'payment',
            operationId: opId,
            merchantOrderNo: null,
            counterparty,
            memo: '',
          },
        },
      ]);
  });
  it('given 100.00 with 60.00 frozen, when 40.01 is debited, then available funds refuse it', () => {
    spec
      .given([opened, recharged(10_000n), frozen(6_000n)])
      .when(debit('40.01'))
      .thenRefuses('insufficient_funds');
  });
  it('given an overdraft limit of 50.00, when 150.00 is debited from 100.00, then it goes through; 150.01 does not', () => {
    const overdraw: AccountEvent = {
      type: 'AccountFlagsChanged',
      data: {
        accountId,
        flags: { ...defaultFlags('wallet'), mayOverdraw: true, overdraftLimitMinor: 5_000n },
        reason: '',
      },
    };
    spec
      .given([opened, recharged(10_000n), overdraw])
      .when(debit('150.00'))
      .then([expectDebit(15_000n)]);
    spec
      .given([opened, recharged(10_000n), overdraw])
      .when(debit('150.01'))
      .thenRefuses('insufficient_funds');
  });
  it('given a frozen account, when paying, then it is refused; when refunding out of it, then it goes through', () => {
    const frozenAccount: AccountEvent = {
      type: 'AccountStatusChanged',
      data: { accountId, status: 'frozen', reason: 'risk' },
    };
    spec
      .given([opened, recharged(10_000n), frozenAccount])
      .when(debit('1.00'))
      .thenRefuses('account_not_active', { status: 'frozen' });
    spec
      .given([opened, recharged(10_000n), frozenAccount])
      .when(debit('1.00', 'refund'))
      .then([expectDebit(100n, 'refund')]);
  });
  it('given maySendTransfers off, when transferring, then the flag refuses it by name', () => {
    const noTransfers: AccountEvent = {
      type: 'AccountFlagsChanged',
      data: { accountId, flags: { ...defaultFlags('wallet'), maySendTransfers: false }, reason: '' },
    };
    spec
      .given([opened, recharged(10_000n), noTransfers])
      .when(debit('1.00', 'transfer'))
      .thenRefuses('account_flag_denies', { flag: 'maySendTransfers' });
  });
});

describe('freezing funds', () => {
  it('given frozen funds, when more is released than the freeze holds, then it is refused', () => {
    spec
      .given([opened, recharged(10_000n), frozen(6_000n)])
      .when({ type: 'ReleaseFrozenFunds', accountId, freezeId, amountMinor: 6_001n, reason: '' })
      .thenRefuses('release_exceeds_frozen');
  });
  it('given frozen funds, when deducted, then balance and frozen go down together', () => {
    spec
      .given([opened, recharged(10_000n), frozen(6_000n)])
      .when({
        type: 'DeductFrozenFunds',
        accountId,
        freezeId,
        amountMinor: 2_500n,
        kind: 'freeze_deduction',
        operationId: opId,
        counterparty,
      })
      .then([
        {
          type: 'FrozenFundsDeducted',
          data: {
            accountId,
            subjectCode: '2201',
            freezeId,
            amountMinor: 2_500n,
            currency: CNY,
            kind: 'freeze_deduction',
            operationId: opId,
            counterparty,
          },
        },
      ]);
  });
  it('given an account holding funds, when closed, then it is refused until it is empty', () => {
    spec
      .given([opened, recharged(1n)])
      .when({ type: 'ChangeAccountStatus', accountId, status: 'closed', reason: '' })
      .thenRefuses('account_not_empty');
  });
});

function expectDebit(amountMinor: bigint, kind: 'payment' | 'refund' = 'payment'): AccountEvent {
  return {
    type: 'FundsDebited',
    data: {
      accountId,
      subjectCode: '2201',
      amountMinor,
      currency: CNY,
      kind,
      operationId: opId,
      merchantOrderNo: null,
      counterparty,
      memo: '',
    },
  };
}

import { describe, it } from 'vitest';
import { accountDecider, type AccountCommand } from '../../src/domain/accounts/account-decider.js';
import type { AccountEvent, AccountOpened } from '../../src/domain/accounts/account-events.js';
import { defaultFlags } from '../../src/domain/accounts/account-flags.js';
import type { AccountNumber } from '../../src/domain/accounts/account-number.js';
import { parseAmount, parseCurrency } from '../../src/domain/money/money.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification<AccountCommand, AccountEvent, ReturnType<typeof accountDecider.initialState>>(
  accountDecider,
);
const CNY = parseCurrency('CNY');
const accountId = '1010000000000018' as AccountNumber;

const walletOpened: AccountOpened = {
  type: 'AccountOpened',
  data: {
    accountId,
    accountType: 'wallet',
    ownerId: 'u-1001',
    currency: CNY,
    displayName: 'Alice',
    subjectCode: '2201',
    flags: defaultFlags('wallet'),
  },
};

const recharge = (amount: string, currency = 'CNY'): AccountCommand => ({
  type: 'RechargeAccount',
  rechargeId: '0190a0a0-0000-7000-8000-000000000001',
  accountId,
  amount: parseAmount(amount, parseCurrency(currency)),
  channel: 'sim-bank',
  channelOrderNo: 'SIM-1',
  channelFeeMinor: 0n,
});

describe('opening an account', () => {
  it("given no account, when opened, then it opens with its kind's flags and subject code", () => {
    spec
      .given([])
      .when({
        type: 'OpenAccount',
        accountId,
        accountType: 'wallet',
        ownerId: 'u-1001',
        currency: CNY,
        displayName: 'Alice',
      })
      .then([walletOpened]);
  });

  it('given an open account, when opened again, then it is refused', () => {
    spec
      .given([walletOpened])
      .when({
        type: 'OpenAccount',
        accountId,
        accountType: 'wallet',
        ownerId: 'u-1001',
        currency: CNY,
        displayName: 'Alice',
      })
      .thenRefuses('account_exists');
  });
});

describe('recharging an account', () => {
  it('given an open wallet, when recharged, then the funds are recorded', () => {
    spec
      .given([walletOpened])
      .when(recharge('100.00'))
      .then([
        {
          type: 'FundsRecharged',
          data: {
            rechargeId: '0190a0a0-0000-7000-8000-000000000001',
            accountId,
            subjectCode: '2201',
            amountMinor: 10_000n,
            currency: CNY,
            channel: 'sim-bank',
            channelOrderNo: 'SIM-1',
            channelFeeMinor: 0n,
          },
        },
      ]);
  });

  it('a channel fee above the amount is credited all the same (the recharge process records the anomaly)', () => {
    spec
      .given([walletOpened])
      .when({ ...recharge('0.05'), channelFeeMinor: 10n } as AccountCommand)
      .then([
        {
          type: 'FundsRecharged',
          data: {
            rechargeId: '0190a0a0-0000-7000-8000-000000000001',
            accountId,
            subjectCode: '2201',
            amountMinor: 5n,
            currency: CNY,
            channel: 'sim-bank',
            channelOrderNo: 'SIM-1',
            channelFeeMinor: 10n,
          },
        },
      ]);
  });

  it('given no account, when recharged, then it is refused: account not found', () => {
    spec.given([]).when(recharge('1.00')).thenRefuses('account_not_found');
  });

  it('given a wallet in CNY, when recharged in USD, then it is refused: currency mismatch', () => {
    spec
      .given([walletOpened])
      .when(recharge('1.00', 'USD'))
      .thenRefuses('currency_mismatch', { accountCurrency: 'CNY', currency: 'USD' });
  });

  it('given an account that may not be recharged, when recharged, then the flag refuses it', () => {
    const feeIncome: AccountOpened = {
      type: 'AccountOpened',
      data: { ...walletOpened.data, accountType: 'fee_income', flags: defaultFlags('fee_income') },
    };
    spec.given([feeIncome]).when(recharge('1.00')).thenRefuses('account_flag_denies', { flag: 'mayRecharge' });
  });
});

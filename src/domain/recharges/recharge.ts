import { requireActive, requireCurrency, requireFlag, requireOpenAccount } from '../accounts/account-rules.js';
import type { AccountState } from '../accounts/account-state.js';
import type { FundsRecharged } from '../accounts/account-events.js';
import type { Money } from '../money/money.js';
import { assert } from '../shared/domain-error.js';

/** Top up an account from an external card or wallet, through a payment channel that has confirmed the charge. */
export interface RechargeAccount {
  readonly rechargeId: string;
  readonly accountId: string;
  readonly amount: Money;
  readonly channel: string;
  readonly channelOrderNo: string;
  readonly channelFeeMinor: bigint;
}

export function decideRecharge(command: RechargeAccount, state: AccountState): FundsRecharged[] {
  const account = requireOpenAccount(state, command.accountId);
  requireActive(account);
  requireFlag(account, 'mayRecharge');
  requireCurrency(account, command.amount.currency);
  assert(command.amount.amountMinor > 0n, 'a recharge amount is positive');
  // A fee above the amount is the channel's anomaly (the recharge process records it for review): the
  // card paid the amount in, so the account is credited it; the books post the fee the channel says it kept.
  assert(command.channelFeeMinor >= 0n, 'a channel fee is not negative');
  return [
    {
      type: 'FundsRecharged',
      data: {
        rechargeId: command.rechargeId,
        accountId: command.accountId,
        subjectCode: account.subjectCode,
        amountMinor: command.amount.amountMinor,
        currency: command.amount.currency,
        channel: command.channel,
        channelOrderNo: command.channelOrderNo,
        channelFeeMinor: command.channelFeeMinor,
      },
    },
  ];
}

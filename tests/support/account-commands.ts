import fc from 'fast-check';
import { accountDecider, type AccountCommand } from '../../src/domain/accounts/account-decider.js';
import type { AccountEvent } from '../../src/domain/accounts/account-events.js';
import type { AccountNumber } from '../../src/domain/accounts/account-number.js';
import type { AccountState } from '../../src/domain/accounts/account-state.js';
import { ACCOUNT_TYPE_NAMES } from '../../src/domain/accounts/account-type.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { CNY } from './command-fixtures.js';

/**
 * Random commands on one account, for property tests of what is folded from its events. Freeze ids come
 * from a small pool, so releases and deductions often find an open freeze; amounts go past 2^53 minor
 * units now and then. Commands the decider refuses are part of the mix and simply record nothing.
 */
export const ACCOUNT_ID = '1010000000000018' as AccountNumber;

const FREEZE_IDS = Array.from({ length: 6 }, (_, i) => `0190a0a0-0000-7000-8000-00000000000${i}`);
const OPERATION_ID = '0190a0a0-0000-7000-8000-0000000000aa';
const counterparty = { accountId: null, ownerId: null, name: 'Someone', channel: null };

const amountMinor = fc.oneof(
  { weight: 9, arbitrary: fc.bigInt({ min: 1n, max: 100_000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 53n, max: 10n ** 18n }) },
);
const freezeId = fc.constantFrom(...FREEZE_IDS);

const flags = fc
  .record({
    mayRecharge: fc.boolean(),
    mayWithdraw: fc.boolean(),
    mayPay: fc.boolean(),
    mayReceive: fc.boolean(),
    maySendTransfers: fc.boolean(),
    mayReceiveTransfers: fc.boolean(),
    mayOverdraw: fc.boolean(),
    overdraftLimitMinor: fc.bigInt({ min: 0n, max: 1_000_000n }),
  })
  .map((f) => ({ ...f, overdraftLimitMinor: f.mayOverdraw ? f.overdraftLimitMinor : 0n }));

export const openAccountCommand: fc.Arbitrary<AccountCommand> = fc
  .constantFrom(...ACCOUNT_TYPE_NAMES)
  .map((accountType) => ({
    type: 'OpenAccount',
    accountId: ACCOUNT_ID,
    accountType,
    ownerId: accountType === 'wallet' ? 'u-1' : accountType === 'merchant_settlement' ? 'm-1' : 'platform',
    currency: CNY,
    displayName: `A ${accountType}`,
  }));

/** A credit any open account takes (a refund needs no flag): money for what follows. */
export const fundingCommand: fc.Arbitrary<AccountCommand> = fc
  .bigInt({ min: 100_000n, max: 10n ** 18n })
  .map((amount) => ({
    type: 'CreditAccount',
    accountId: ACCOUNT_ID,
    amount: { amountMinor: amount, currency: CNY },
    kind: 'refund',
    operationId: OPERATION_ID,
    merchantOrderNo: null,
    counterparty,
    memo: 'funding',
  }));

export const accountCommand: fc.Arbitrary<AccountCommand> = fc.oneof(
  {
    weight: 4,
    arbitrary: amountMinor.map((amount): AccountCommand => ({
      type: 'RechargeAccount',
      rechargeId: OPERATION_ID,
      accountId: ACCOUNT_ID,
      amount: { amountMinor: amount, currency: CNY },
      channel: 'sim-bank',
      channelOrderNo: 'SIM-1',
      channelFeeMinor: 0n,
    })),
  },
  ...(['DebitAccount', 'CreditAccount'] as const).map((type) => ({
    weight: 3,
    arbitrary: fc
      .record({ amount: amountMinor, kind: fc.constantFrom('payment', 'refund', 'transfer', 'withdrawal') })
      .map(({ amount, kind }): AccountCommand => ({
        type,
        accountId: ACCOUNT_ID,
        amount: { amountMinor: amount, currency: CNY },
        kind,
        operationId: OPERATION_ID,
        merchantOrderNo: null,
        counterparty,
        memo: '',
      })),
  })),
  {
    weight: 3,
    arbitrary: fc
      .record({ freezeId, amount: amountMinor, purpose: fc.constantFrom('freeze', 'preauth_hold') })
      .map(({ freezeId: id, amount, purpose }): AccountCommand => ({
        type: 'FreezeFunds',
        accountId: ACCOUNT_ID,
        freezeId: id,
        amount: { amountMinor: amount, currency: CNY },
        purpose,
        reason: 'test',
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ freezeId, amount: fc.option(amountMinor) })
      .map(({ freezeId: id, amount }): AccountCommand => ({
        type: 'ReleaseFrozenFunds',
        accountId: ACCOUNT_ID,
        freezeId: id,
        amountMinor: amount,
        reason: 'test',
      })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ freezeId, amount: amountMinor }).map(({ freezeId: id, amount }): AccountCommand => ({
      type: 'DeductFrozenFunds',
      accountId: ACCOUNT_ID,
      freezeId: id,
      amountMinor: amount,
      kind: 'freeze_deduction',
      operationId: OPERATION_ID,
      counterparty,
    })),
  },
  {
    weight: 1,
    arbitrary: flags.map((f): AccountCommand => ({
      type: 'ChangeAccountFlags',
      accountId: ACCOUNT_ID,
      flags: f,
      reason: 'test',
    })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('active', 'frozen', 'active', 'closed').map((status): AccountCommand => ({
      type: 'ChangeAccountStatus',
      accountId: ACCOUNT_ID,
      status,
      reason: 'test',
    })),
  },
);

/** The events `command` records on `state`; none when the decider refuses it (a business refusal). */
export function decideOrNothing(command: AccountCommand, state: AccountState): AccountEvent[] {
  try {
    return accountDecider.decide(command, state);
  } catch (error) {
    if (error instanceof DomainError && error.code !== 'invariant_violated') return [];
    throw error;
  }
}

/** Decides and folds `commands` one after another from `state`: the events recorded and the final state. */
export function run(
  commands: readonly AccountCommand[],
  state: AccountState = accountDecider.initialState(),
): { events: AccountEvent[]; state: AccountState } {
  const events: AccountEvent[] = [];
  for (const command of commands) {
    const recorded = decideOrNothing(command, state);
    state = recorded.reduce(accountDecider.evolve, state);
    events.push(...recorded);
  }
  return { events, state };
}

import type { Money } from '../money/money.js';
import { DomainError, assert } from '../shared/domain-error.js';
import type { CounterpartySnapshot, FundsCredited, FundsDebited, MovementKind } from './account-events.js';
import { requireCurrency, requireFlag, requireOpenAccount } from './account-rules.js';
import { availableMinor, type AccountState, type OpenAccountState } from './account-state.js';

/** A debit or credit an operation asks of one account. */
export interface Movement {
  readonly accountId: string;
  readonly amount: Money;
  readonly kind: MovementKind;
  readonly operationId: string;
  readonly merchantOrderNo: string | null;
  readonly counterparty: CounterpartySnapshot;
  readonly memo: string;
}

/**
 * Movements that give money back (reversals, refunds, cancellations) must go through even when risk
 * control has frozen the account: blocking them would keep a customer's money. Only a closed account
 * refuses them.
 */
const RETURNS_MONEY: ReadonlySet<MovementKind> = new Set([
  'payment_reversal',
  'payment_cancellation',
  'refund',
  'transfer_reversal',
  'withdrawal_reversal',
  'freeze_deduction_reversal',
  'preauth_capture_reversal',
  'preauth_completion_cancellation',
]);

/**
 * Money already taken from a payer outside the ledger (through a channel), or a fare the platform
 * guaranteed a transit operator when its terminal accepted a valid credential: its credit is owed
 * whatever the account's status since, and the operation checked the account before.
 */
const PAID_IN_ALREADY: ReadonlySet<MovementKind> = new Set(['channel_payment', 'transit_fare']);

function requireStatusFor(account: OpenAccountState, kind: MovementKind): void {
  const allowed =
    RETURNS_MONEY.has(kind) || PAID_IN_ALREADY.has(kind) ? account.status !== 'closed' : account.status === 'active';
  if (!allowed) {
    throw new DomainError('account_not_active', `account ${account.accountId} is ${account.status}`, {
      accountId: account.accountId,
      status: account.status,
    });
  }
}

export function decideDebit(movement: Movement, state: AccountState): FundsDebited[] {
  const account = requireOpenAccount(state, movement.accountId);
  requireStatusFor(account, movement.kind);
  if (movement.kind === 'payment') requireFlag(account, 'mayPay');
  if (movement.kind === 'transfer') requireFlag(account, 'maySendTransfers');
  if (movement.kind === 'withdrawal') requireFlag(account, 'mayWithdraw');
  requireCurrency(account, movement.amount.currency);
  assert(movement.amount.amountMinor > 0n, 'a debit is positive');
  const floorMinor = account.flags.mayOverdraw ? -account.flags.overdraftLimitMinor : 0n;
  if (availableMinor(account) - movement.amount.amountMinor < floorMinor) {
    throw new DomainError('insufficient_funds', `account ${account.accountId} has insufficient available funds`, {
      accountId: account.accountId,
    });
  }
  return [{ type: 'FundsDebited', data: movementData(movement, account) }];
}

export function decideCredit(movement: Movement, state: AccountState): FundsCredited[] {
  const account = requireOpenAccount(state, movement.accountId);
  requireStatusFor(account, movement.kind);
  if (movement.kind === 'payment' || movement.kind === 'freeze_deduction' || movement.kind === 'preauth_capture')
    requireFlag(account, 'mayReceive');
  if (movement.kind === 'transfer') requireFlag(account, 'mayReceiveTransfers');
  requireCurrency(account, movement.amount.currency);
  assert(movement.amount.amountMinor > 0n, 'a credit is positive');
  return [{ type: 'FundsCredited', data: movementData(movement, account) }];
}

function movementData(movement: Movement, account: OpenAccountState): FundsDebited['data'] {
  return {
    accountId: account.accountId,
    subjectCode: account.subjectCode,
    amountMinor: movement.amount.amountMinor,
    currency: movement.amount.currency,
    kind: movement.kind,
    operationId: movement.operationId,
    merchantOrderNo: movement.merchantOrderNo,
    counterparty: movement.counterparty,
    memo: movement.memo,
  };
}

import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { SIMULATED_BANK, simulatedProfiles } from '../src/adapters/channels/simulator/default-simulator-config.js';
import { feeMinor } from '../src/domain/channels/fee-schedule.js';
import { accountStreamId } from '../src/commands/accounts/open-account-handler.js';
import { deriveId, type CommandContext } from '../src/commands/command-context.js';
import { toNewEvent } from '../src/commands/stream-command-handler.js';
import { accountDecider } from '../src/domain/accounts/account-decider.js';
import { generateAccountNumber, type AccountNumber } from '../src/domain/accounts/account-number.js';
import type { AccountState } from '../src/domain/accounts/account-state.js';
import { parseCurrency, type Money } from '../src/domain/money/money.js';
import type { NewEvent } from '../src/ports/event-store.js';

/**
 * Realistic ledger events for benchmarks, made the way the command side makes them: the domain decides
 * the event, `toNewEvent` encodes it (validated by its zod schema) and adds the metadata with derived ids.
 * Nothing here is hand-written JSON that could drift from the real event shapes.
 */

export const BENCH_CURRENCY = parseCurrency('CNY');
const BENCH_ACTOR = 'bench';
/** The channel fixture recharges were charged at: the simulated bank's quick pay, its fee schedule applied. */
export const BENCH_CHANNEL_ID = SIMULATED_BANK;
const quickPayFee = simulatedProfiles[SIMULATED_BANK]!.capabilities.charges.find((c) => c.method === 'quick_pay')!.fee;

/**
 * What the simulated bank answers a quick-pay charge of `amount` under `orderNo`: its reference (derived
 * from the order number, as a channel's is unique per order) and its fee. Fixtures write the events a
 * recharge makes without a channel round trip: the store is measured, not the channel.
 */
export function benchCharge(orderNo: string, amount: Money): { channelOrderNo: string; feeMinor: bigint } {
  const channelOrderNo = `SIMCITP${createHash('sha256').update(orderNo).digest('hex').slice(0, 20).toUpperCase()}`;
  return { channelOrderNo, feeMinor: feeMinor(quickPayFee, amount.amountMinor) };
}

/** The wallet number of the benchmark's `index`th account: distinct for every index below 10^12. */
export function benchAccountNumber(index: number): AccountNumber {
  const digits = String(index).padStart(12, '0');
  let at = 0;
  return generateAccountNumber('wallet', () => Number(digits[at++]));
}

/** The command context of a request under `operationKey`, as the HTTP layer builds it. */
export function benchContext(operationKey: string): CommandContext {
  return {
    actor: BENCH_ACTOR,
    correlationId: randomUUID(),
    causationId: null,
    idempotencyKey: operationKey,
    operationKey: `${BENCH_ACTOR}\u0000${operationKey}`,
    occurredAt: new Date().toISOString(),
  };
}

export interface OpenedAccount {
  readonly accountId: AccountNumber;
  readonly streamId: string;
  /** State after opening: what a recharge is decided against. */
  readonly state: AccountState;
  readonly event: NewEvent;
}

/** The AccountOpened event of the benchmark's `index`th wallet. */
export function openAccountEvent(index: number): OpenedAccount {
  const accountId = benchAccountNumber(index);
  const streamId = accountStreamId(accountId);
  const command = {
    type: 'OpenAccount' as const,
    accountId,
    accountType: 'wallet' as const,
    ownerId: `u-bench-${index}`,
    currency: BENCH_CURRENCY,
    displayName: `Bench wallet ${index}`,
  };
  const [opened] = accountDecider.decide(command, accountDecider.initialState());
  const state = accountDecider.evolve(accountDecider.initialState(), opened!);
  return { accountId, streamId, state, event: toNewEvent(opened!, 0, streamId, benchContext(`open-${index}`)) };
}

/** An amount from 1.00 to 500.98 (never ending in 99 minor units: the figures stay comparable with earlier runs). */
export function benchAmountMinor(sequence: number): bigint {
  return BigInt(100 + (sequence % 500) * 100 + (sequence % 99));
}

/** A FundsRecharged event on `account`, as a recharge charged at the simulated bank records it. */
export async function rechargeEvent(account: OpenedAccount, sequence: number): Promise<NewEvent> {
  const context = benchContext(`recharge-${sequence}`);
  const rechargeId = deriveId(context.operationKey, 'recharge');
  const amount: Money = { amountMinor: benchAmountMinor(sequence), currency: BENCH_CURRENCY };
  const charged = benchCharge(rechargeId, amount);
  const [recharged] = accountDecider.decide(
    {
      type: 'RechargeAccount',
      rechargeId,
      accountId: account.accountId,
      amount,
      channel: BENCH_CHANNEL_ID,
      channelOrderNo: charged.channelOrderNo,
      channelFeeMinor: charged.feeMinor,
    },
    account.state,
  );
  return toNewEvent(recharged!, 0, account.streamId, context);
}

/**
 * A new event like `template`, with the ids that must be unique per append. Copying a template keeps the
 * callers' own cost (zod encoding, name-based UUIDs) out of a figure that is about the store.
 */
export function freshEvent(template: NewEvent): NewEvent {
  return {
    type: template.type,
    data: { ...template.data, rechargeId: randomUUID() },
    metadata: {
      ...template.metadata,
      eventId: randomUUID(),
      correlationId: randomUUID(),
      occurredAt: new Date().toISOString(),
    },
  };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availableMinor } from '../../src/domain/accounts/account-state.js';
import type { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { commandFixture } from '../support/command-fixtures.js';
import {
  openScenarioAccounts,
  runStep,
  scenarioStep,
  type ScenarioAccounts,
  type ScenarioRecord,
} from '../support/ledger-scenarios.js';

/**
 * DESIGN invariants 2 and 5, checked after every step of random operation sequences, on the write side
 * (the account and operation streams themselves):
 *   2. balance = available + frozen; available >= 0 unless overdraft is allowed, then >= -limit;
 *      frozen = the sum of what the open freezes and holds still hold.
 *   5. refunded <= paid; captured <= authorised; a cancelled authorisation holds nothing;
 *   and money is neither made nor lost: internal balances = recharged - withdrawn.
 */
async function checkInvariants(
  commands: LedgerCommands,
  accounts: ScenarioAccounts,
  record: ScenarioRecord,
): Promise<void> {
  let totalMinor = 0n;
  for (const accountId of [...accounts.wallets, ...accounts.merchants]) {
    const state = await commands.getAccountState(accountId);
    if (!state.exists) throw new Error(`account ${accountId} vanished`);
    const floor = state.flags.mayOverdraw ? -state.flags.overdraftLimitMinor : 0n;
    expect(availableMinor(state) + state.frozenMinor).toBe(state.balanceMinor);
    expect(availableMinor(state) >= floor, `available of ${accountId} below its floor`).toBe(true);
    expect(state.frozenMinor).toBe([...state.freezes.values()].reduce((a, b) => a + b.remainingMinor, 0n));
    expect(state.frozenMinor >= 0n).toBe(true);
    totalMinor += state.balanceMinor;
  }
  for (const paymentId of record.payments) {
    const payment = await commands.getPayment(paymentId);
    expect(payment.refundedMinor + payment.refundsInFlightMinor <= payment.order.amountMinor).toBe(true);
    expect(payment.refundsInFlightMinor).toBe(0n); // every refund finished within its request
    const completedRefunds = [...payment.refunds.values()]
      .filter((r) => r.status === 'completed')
      .reduce((a, r) => a + r.amountMinor, 0n);
    expect(completedRefunds).toBe(payment.refundedMinor);
  }
  for (const preauthId of record.preauths) {
    const preauth = await commands.getPreauth(preauthId);
    const payer = await commands.getAccountState(preauth.request.payerAccountId);
    if (!payer.exists) throw new Error('payer vanished');
    if (preauth.completion) expect(preauth.completion.capturedMinor <= preauth.request.amountMinor).toBe(true);
    const held = payer.freezes.get(preauthId)?.remainingMinor ?? 0n;
    if (preauth.status === 'authorised') expect(held).toBe(preauth.request.amountMinor);
    if (preauth.status === 'cancelled' || preauth.status === 'completed' || preauth.status === 'declined')
      expect(held).toBe(0n);
  }
  // Conservation: money enters only by recharge and leaves only by withdrawal.
  let recharged = 0n;
  let withdrawn = 0n;
  for (const accountId of accounts.wallets) {
    const events = await commands.getAccountEvents(accountId);
    for (const event of events) {
      if (event.type === 'FundsRecharged') recharged += event.data.amountMinor;
      if (event.type === 'FundsDebited' && event.data.kind === 'withdrawal') withdrawn += event.data.amountMinor;
      if (event.type === 'FundsCredited' && event.data.kind === 'withdrawal_reversal')
        withdrawn -= event.data.amountMinor;
    }
  }
  expect(totalMinor).toBe(recharged - withdrawn);
}

describe('payments core invariants under random operation sequences', () => {
  it('hold after every step', async () => {
    const exercised = { payments: 0, freezes: 0, preauths: 0, refusals: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(scenarioStep, { minLength: 5, maxLength: 40 }), async (steps) => {
        const fixture = commandFixture();
        try {
          const accounts = await openScenarioAccounts(fixture.commands);
          const record: ScenarioRecord = { payments: [], freezes: [], preauths: [], refusals: 0 };
          for (const [seq, step] of steps.entries()) {
            await runStep(fixture.commands, accounts, record, step, seq);
            await checkInvariants(fixture.commands, accounts, record);
          }
          exercised.payments += record.payments.length;
          exercised.freezes += record.freezes.length;
          exercised.preauths += record.preauths.length;
          exercised.refusals += record.refusals;
        } finally {
          await fixture.close();
        }
      }),
      { numRuns: 30 },
    );
    // The sequences must really exercise the operations (and their refusals), not just be refused.
    expect(exercised.payments).toBeGreaterThan(30);
    expect(exercised.freezes).toBeGreaterThan(10);
    expect(exercised.preauths).toBeGreaterThan(10);
    expect(exercised.refusals).toBeGreaterThan(10);
  }, 120_000);
});

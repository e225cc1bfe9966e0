import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { projectionsFor } from '../../src/adapters/ledger-service.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { availableMinor, type OpenAccountState } from '../../src/domain/accounts/account-state.js';
import type { ReadModelStore } from '../../src/ports/read-model-store.js';
import {
  JOURNAL_ENTRIES_COLLECTION,
  LEDGER_BALANCES_COLLECTION,
  SUB_LEDGER_BALANCES_COLLECTION,
  TRIAL_BALANCES_COLLECTION,
  type JournalEntryDocument,
  type LedgerBalanceDocument,
  type SubLedgerBalanceDocument,
  type TrialBalanceDocument,
} from '../../src/projections/books.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import {
  STATEMENT_HEADS_COLLECTION,
  STATEMENT_LINES_COLLECTION,
  balanceEffectMinor,
  type StatementHeadDocument,
  type StatementLineDocument,
} from '../../src/projections/statements.js';
import { BALANCES_COLLECTION, type BalanceDocument } from '../../src/projections/balances.js';
import {
  openScenarioAccounts,
  runStep,
  scenarioStep,
  type ScenarioAccounts,
  type ScenarioRecord,
} from '../support/ledger-scenarios.js';
import { allDocuments, canonicalDump } from '../support/read-model-documents.js';
import { testChannels } from '../support/test-channels.js';

/** Every read model, for the default accounting time zone (the one these runs configure). */
const PROJECTIONS = projectionsFor('Asia/Shanghai');

/**
 * DESIGN invariants 1, 3, 4 and 6 on the read side, over random operation sequences run through the
 * command side (with channel fees, so fee postings are exercised), then projected:
 *   1. every journal entry balances; every day's trial balance is zero; every finished operation nets to
 *      zero in transit (2290);
 *   3. an account's statement lines sum to its balance, run without gaps, and the last one holds the
 *      account's balance, available and frozen funds;
 *   4. wallet liabilities in the books (2201 + 2203 + 2204 per wallet) equal the sum of wallet balances, and
 *      every account's sub-ledgers equal its funds;
 *   6. projecting from zero in one go gives the documents projected in several catch-ups.
 */
/** The simulated channels charge their fees (0.2 % to 0.38 % a charge, 1.00 or 2.00 a payout). */
function feeChargingFixture() {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-books-'));
  const eventStore = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  const channels = testChannels();
  return {
    eventStore,
    commands: new LedgerCommands(eventStore, channels.gateway, 'Asia/Shanghai'),
    close: async () => {
      await channels.close();
      await eventStore.close();
    },
  };
}

const credit = (doc: { netDebitMinor: string }) => -BigInt(doc.netDebitMinor);

async function checkBooks(readModels: ReadModelStore): Promise<void> {
  const entries = await allDocuments<JournalEntryDocument>(readModels, JOURNAL_ENTRIES_COLLECTION);
  expect(entries.length).toBeGreaterThan(0);
  const dayTotals = new Map<string, { debit: bigint; credit: bigint; entries: number }>();
  for (const { data: entry } of entries) {
    const perCurrency = new Map<string, bigint>();
    for (const line of entry.lines) {
      expect(BigInt(line.amountMinor) > 0n).toBe(true);
      const signed = line.side === 'debit' ? BigInt(line.amountMinor) : -BigInt(line.amountMinor);
      perCurrency.set(line.currency, (perCurrency.get(line.currency) ?? 0n) + signed);
      const key = `${entry.accountingDate}:${line.currency}`;
      const day = dayTotals.get(key) ?? { debit: 0n, credit: 0n, entries: 0 };
      if (line.side === 'debit') day.debit += BigInt(line.amountMinor);
      else day.credit += BigInt(line.amountMinor);
      dayTotals.set(key, day);
    }
    for (const [currency, net] of perCurrency) expect(net, `entry ${entry.entryId} in ${currency}`).toBe(0n);
  }

  const trialBalances = await allDocuments<TrialBalanceDocument>(readModels, TRIAL_BALANCES_COLLECTION);
  expect(trialBalances.map((d) => d.id).sort()).toEqual([...dayTotals.keys()].sort());
  for (const { id, data: day } of trialBalances) {
    expect(day.totalDebitMinor, `trial balance ${id}`).toBe(day.totalCreditMinor);
    expect(BigInt(day.totalDebitMinor)).toBe(dayTotals.get(id)!.debit);
    expect(day.accounts.reduce((sum, row) => sum + BigInt(row.debitMinor) - BigInt(row.creditMinor), 0n)).toBe(0n);
  }

  const ledger = await allDocuments<LedgerBalanceDocument>(readModels, LEDGER_BALANCES_COLLECTION);
  const subLedgers = await allDocuments<SubLedgerBalanceDocument>(readModels, SUB_LEDGER_BALANCES_COLLECTION);
  expect(ledger.reduce((sum, { data }) => sum + BigInt(data.netDebitMinor), 0n)).toBe(0n);
  for (const { data: total } of ledger) {
    const parts = subLedgers.filter(({ data }) => data.code === total.code && data.currency === total.currency);
    expect(
      parts.reduce((sum, { data }) => sum + BigInt(data.netDebitMinor), 0n),
      `sub-ledgers of ${total.code}`,
    ).toBe(BigInt(total.netDebitMinor));
  }
  // Every operation in the scenarios finishes within its request: nothing is left in transit.
  for (const { data } of subLedgers.filter(({ data }) => data.code === '2290'))
    expect(data.netDebitMinor, `in transit: ${data.subLedgerId}`).toBe('0');
}

async function checkAccount(
  readModels: ReadModelStore,
  state: OpenAccountState,
  subLedgers: readonly SubLedgerBalanceDocument[],
): Promise<void> {
  const { accountId } = state;
  const lines = (await allDocuments<StatementLineDocument>(readModels, STATEMENT_LINES_COLLECTION))
    .map((d) => d.data)
    .filter((l) => l.accountId === accountId);
  expect(lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));
  let balance = 0n;
  let frozen = 0n;
  for (const line of lines) {
    balance += balanceEffectMinor(line);
    frozen +=
      line.direction === 'freeze'
        ? BigInt(line.amountMinor)
        : line.direction === 'release' || line.direction === 'deduct'
          ? -BigInt(line.amountMinor)
          : 0n;
    expect([line.balanceAfterMinor, line.frozenAfterMinor, line.availableAfterMinor]).toEqual([
      balance.toString(),
      frozen.toString(),
      (balance - frozen).toString(),
    ]);
  }
  expect(balance, `statement of ${accountId}`).toBe(state.balanceMinor);
  const last = lines.at(-1);
  if (last)
    expect([last.balanceAfterMinor, last.availableAfterMinor, last.frozenAfterMinor]).toEqual([
      String(state.balanceMinor),
      String(availableMinor(state)),
      String(state.frozenMinor),
    ]);
  const head = (await readModels.get<StatementHeadDocument>(STATEMENT_HEADS_COLLECTION, accountId))!.data;
  expect([head.lastSequence, head.balanceMinor, head.frozenMinor]).toEqual([
    lines.length,
    String(state.balanceMinor),
    String(state.frozenMinor),
  ]);

  // In the books: available on the subject code, frozen on 2203 (freezes) and 2204 (holds), all credit-side.
  const own = subLedgers.filter((s) => s.subLedgerType === 'account' && s.subLedgerId === accountId);
  const onCode = (code: string) => own.filter((s) => s.code === code).reduce((sum, s) => sum + credit(s), 0n);
  const heldFor = (purpose: string) =>
    [...state.freezes.values()].filter((f) => f.purpose === purpose).reduce((sum, f) => sum + f.remainingMinor, 0n);
  expect(onCode(state.subjectCode), `${accountId} on ${state.subjectCode}`).toBe(availableMinor(state));
  expect(onCode('2203'), `${accountId} on 2203`).toBe(heldFor('freeze'));
  expect(onCode('2204'), `${accountId} on 2204`).toBe(heldFor('preauth_hold'));
  expect(own.every((s) => s.code === state.subjectCode || s.code === '2203' || s.code === '2204')).toBe(true);
}

async function checkAccounts(
  commands: LedgerCommands,
  readModels: ReadModelStore,
  accounts: ScenarioAccounts,
): Promise<void> {
  const subLedgers = (await allDocuments<SubLedgerBalanceDocument>(readModels, SUB_LEDGER_BALANCES_COLLECTION)).map(
    (d) => d.data,
  );
  let walletBalances = 0n;
  for (const accountId of [...accounts.wallets, ...accounts.merchants]) {
    const state = await commands.getAccountState(accountId);
    if (!state.exists) throw new Error(`account ${accountId} vanished`);
    await checkAccount(readModels, state, subLedgers);
    if (accounts.wallets.includes(accountId)) walletBalances += state.balanceMinor;
  }
  const walletLiabilities = subLedgers
    .filter(
      (s) =>
        s.subLedgerType === 'account' &&
        accounts.wallets.includes(s.subLedgerId) &&
        ['2201', '2203', '2204'].includes(s.code),
    )
    .reduce((sum, s) => sum + credit(s), 0n);
  expect(walletLiabilities).toBe(walletBalances);
}

describe('books and statements under random operation sequences', () => {
  it('balance, add up to the accounts, and rebuild identically', async () => {
    const exercised = { payments: 0, freezes: 0, preauths: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(scenarioStep, { minLength: 5, maxLength: 40 }),
        fc.integer({ min: 1, max: 60 }),
        fc.nat({ max: 40 }),
        async (steps, batchEvents, firstCatchUpAfter) => {
          const fixture = feeChargingFixture();
          const live = new SqliteReadModelStore(':memory:');
          const rebuilt = new SqliteReadModelStore(':memory:');
          try {
            const accounts = await openScenarioAccounts(fixture.commands);
            const record: ScenarioRecord = { payments: [], freezes: [], preauths: [], refusals: 0 };
            const runner = new ProjectionRunner(fixture.eventStore, live, PROJECTIONS, { maxBatchEvents: batchEvents });
            for (const [seq, step] of steps.entries()) {
              await runStep(fixture.commands, accounts, record, step, seq);
              // Catch up part-way too, so the final catch-up resumes from checkpoints mid-history.
              if (seq === firstCatchUpAfter) await runner.catchUp();
            }
            await runner.catchUp();
            await checkBooks(live);
            await checkAccounts(fixture.commands, live, accounts);

            await new ProjectionRunner(fixture.eventStore, rebuilt, PROJECTIONS, { maxBatchEvents: 1_000 }).catchUp();
            expect(await canonicalDump(rebuilt, PROJECTIONS)).toBe(await canonicalDump(live, PROJECTIONS));

            exercised.payments += record.payments.length;
            exercised.freezes += record.freezes.length;
            exercised.preauths += record.preauths.length;
          } finally {
            await live.close();
            await rebuilt.close();
            await fixture.close();
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(exercised.payments).toBeGreaterThan(20);
    expect(exercised.freezes).toBeGreaterThan(5);
    expect(exercised.preauths).toBeGreaterThan(5);
  }, 180_000);

  it("end each statement on the balances read model's figures", async () => {
    const fixture = feeChargingFixture();
    const readModels = new SqliteReadModelStore(':memory:');
    try {
      const accounts = await openScenarioAccounts(fixture.commands);
      const record: ScenarioRecord = { payments: [], freezes: [], preauths: [], refusals: 0 };
      const steps = [
        { op: 'pay', wallet: 0, merchant: 0, amountMinor: 1_250n },
        { op: 'freeze', wallet: 1, amountMinor: 700n },
        { op: 'deduct', freeze: 0, merchant: 1, amountMinor: 300n },
        { op: 'withdraw', wallet: 2, amountMinor: 2_000n },
      ] as const;
      for (const [seq, step] of steps.entries()) await runStep(fixture.commands, accounts, record, step, seq);
      expect(record.refusals).toBe(0);
      await new ProjectionRunner(fixture.eventStore, readModels, PROJECTIONS).catchUp();
      for (const accountId of [...accounts.wallets, ...accounts.merchants]) {
        const lines = (await allDocuments<StatementLineDocument>(readModels, STATEMENT_LINES_COLLECTION))
          .map((d) => d.data)
          .filter((l) => l.accountId === accountId);
        const balances = (await readModels.get<BalanceDocument>(BALANCES_COLLECTION, accountId))!.data;
        const last = lines.at(-1)!;
        expect(
          [last.balanceAfterMinor, last.availableAfterMinor, last.frozenAfterMinor],
          `account ${accountId}`,
        ).toEqual([balances.balanceMinor, balances.availableMinor, balances.frozenMinor]);
      }
    } finally {
      await readModels.close();
      await fixture.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import {
  JOURNAL_ENTRIES_COLLECTION,
  TRIAL_BALANCES_COLLECTION,
  booksProjection,
  type JournalEntryDocument,
  type TrialBalanceDocument,
} from '../../src/projections/books.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import {
  STATEMENT_LINES_COLLECTION,
  statementsProjection,
  type StatementLineDocument,
} from '../../src/projections/statements.js';
import { CNY, commandFixture, context, cny } from '../support/command-fixtures.js';
import { allDocuments } from '../support/read-model-documents.js';
import { payerFor } from '../support/test-channels.js';

/**
 * The accounting day is cut at midnight in the accounting time zone. In Asia/Shanghai (UTC+8),
 * 15:59:59Z is 23:59:59 on 21 November and 16:00:01Z is 00:00:01 on 22 November: two accounting days,
 * one UTC date.
 */
const LAST_SECOND_OF_21ST = '2026-11-21T15:59:59.000Z';
const FIRST_SECOND_OF_22ND = '2026-11-21T16:00:01.000Z';

async function rechargeAcrossMidnight() {
  const fixture = commandFixture();
  const opened = await fixture.commands.openAccount(
    { ownerId: 'u-midnight', accountType: 'wallet', currency: CNY, displayName: '' },
    context({ occurredAt: '2026-11-21T15:00:00.000Z' }),
  );
  const recharge = async (amount: string, occurredAt: string) =>
    fixture.commands.recharge(
      { accountId: opened.accountId, amount: cny(amount), payer: await payerFor(fixture.commands) },
      context({ occurredAt }),
    );
  await recharge('10.00', LAST_SECOND_OF_21ST);
  await recharge('2.50', FIRST_SECOND_OF_22ND);
  return { fixture, accountId: opened.accountId };
}

async function project(timeZone: string) {
  const { fixture, accountId } = await rechargeAcrossMidnight();
  const readModels = new SqliteReadModelStore(':memory:');
  await new ProjectionRunner(fixture.eventStore, readModels, [
    statementsProjection(timeZone),
    booksProjection(timeZone),
  ]).catchUp();
  const result = {
    accountId,
    trialBalances: (await allDocuments<TrialBalanceDocument>(readModels, TRIAL_BALANCES_COLLECTION)).map((d) => d.data),
    entries: (await allDocuments<JournalEntryDocument>(readModels, JOURNAL_ENTRIES_COLLECTION)).map((d) => d.data),
    lines: (await allDocuments<StatementLineDocument>(readModels, STATEMENT_LINES_COLLECTION)).map((d) => d.data),
  };
  await readModels.close();
  await fixture.close();
  return result;
}

describe('the accounting day', () => {
  it('puts 23:59:59 and 00:00:01 local time on different days', async () => {
    const { trialBalances, entries, lines } = await project('Asia/Shanghai');
    expect(
      trialBalances.map((t) => [t.accountingDate, t.currency, t.totalDebitMinor, t.totalCreditMinor, t.entryCount]),
    ).toEqual([
      // Each recharge with the card network's fee (0.38 %: 0.04 of 10.00, 0.01 of 2.50) booked the same day.
      ['2026-11-21', 'CNY', '1004', '1004', 1],
      ['2026-11-22', 'CNY', '251', '251', 1],
    ]);
    expect(entries.map((e) => [e.occurredAt, e.accountingDate]).sort()).toEqual([
      [LAST_SECOND_OF_21ST, '2026-11-21'],
      [FIRST_SECOND_OF_22ND, '2026-11-22'],
    ]);
    expect(lines.map((l) => [l.sequence, l.occurredAt, l.accountingDate, l.balanceAfterMinor])).toEqual([
      [1, LAST_SECOND_OF_21ST, '2026-11-21', '1000'],
      [2, FIRST_SECOND_OF_22ND, '2026-11-22', '1250'],
    ]);
    expect(trialBalances[0]!.accounts).toEqual([
      { code: '1122', debitMinor: '1000', creditMinor: '4' },
      { code: '2201', debitMinor: '0', creditMinor: '1000' },
      { code: '6603', debitMinor: '4', creditMinor: '0' },
    ]);
  });

  it('follows the configured zone: in UTC both fall on the 21st', async () => {
    const { trialBalances, lines } = await project('UTC');
    expect(trialBalances.map((t) => [t.accountingDate, t.totalDebitMinor, t.entryCount])).toEqual([
      ['2026-11-21', '1255', 2],
    ]);
    expect(lines.map((l) => l.accountingDate)).toEqual(['2026-11-21', '2026-11-21']);
  });
});

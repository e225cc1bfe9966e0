import type { Side, SubLedgerType } from '../domain/books/chart-of-accounts.js';
import type { JournalLine } from '../domain/books/journal.js';
import { POSTING_EVENT_TYPES, journalLinesFor, operationIdOf } from '../domain/books/posting-rules.js';
import type { LedgerEvent } from '../domain/event-catalogue.js';
import { accountingDate } from '../domain/shared/accounting-day.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { AccountingProjection } from './accounting-zone.js';
import type { DocumentChange, EventEnvelope } from './projection.js';
import { compositeKey, positionKey, utcInstantKey } from './read-model-keys.js';

/**
 * The internal books, double-entry: one journal entry per money-moving event (src/domain/books/
 * posting-rules.ts), the general ledger (balances per book account and per sub-ledger, per currency) and
 * the trial balance per accounting day and currency. Amounts in minor units (decimal strings).
 *
 * Every document is a pure function of its previous self and the event. One event touches each document
 * at most once (the runner skips a second change of a document at the same position), so an entry's lines
 * are summed per document before they become changes.
 */
export const BOOKS_PROJECTION = 'books';
export const JOURNAL_ENTRIES_COLLECTION = 'books_journal_entries';
export const LEDGER_BALANCES_COLLECTION = 'books_account_balances';
export const SUB_LEDGER_BALANCES_COLLECTION = 'books_subledger_balances';
export const TRIAL_BALANCES_COLLECTION = 'books_trial_balances';
export const ACCOUNTING_DATES_COLLECTION = 'books_accounting_dates';

export interface JournalLineDocument extends JsonObject {
  rule: string;
  code: string;
  subLedgerType: SubLedgerType;
  subLedgerId: string;
  side: Side;
  amountMinor: string;
  currency: string;
}

export interface JournalEntryDocument extends JsonObject {
  /** The id of the event that posted it: one entry per event. */
  entryId: string;
  eventType: string;
  streamId: string;
  position: string;
  /** Zero-padded position: orders entries in log order. */
  positionKey: string;
  operationId: string;
  occurredAt: string;
  accountingDate: string;
  /** `<accountingDate>|<positionKey>`: a day's entries in log order. */
  datePositionKey: string;
  lines: JournalLineDocument[];
}

interface Movements extends JsonObject {
  debitMinor: string;
  creditMinor: string;
  /** Debits minus credits: positive is a debit balance. */
  netDebitMinor: string;
  /** Journal lines summed in. */
  lineCount: number;
}

export interface LedgerBalanceDocument extends Movements {
  code: string;
  currency: string;
}

export interface SubLedgerBalanceDocument extends Movements {
  code: string;
  subLedgerType: SubLedgerType;
  subLedgerId: string;
  currency: string;
}

export interface TrialBalanceAccountRow extends JsonObject {
  code: string;
  debitMinor: string;
  creditMinor: string;
}

export interface TrialBalanceDocument extends JsonObject {
  accountingDate: string;
  currency: string;
  totalDebitMinor: string;
  totalCreditMinor: string;
  entryCount: number;
  /** The day's movements per book account, by code. */
  accounts: TrialBalanceAccountRow[];
}

export function ledgerBalanceId(code: string, currency: string): string {
  return `${code}:${currency}`;
}

export function subLedgerBalanceId(
  code: string,
  subLedgerType: SubLedgerType,
  subLedgerId: string,
  currency: string,
): string {
  return `${code}:${subLedgerType}:${subLedgerId}:${currency}`;
}

export function trialBalanceId(date: string, currency: string): string {
  return `${date}:${currency}`;
}

interface Sum {
  debitMinor: bigint;
  creditMinor: bigint;
  lineCount: number;
}

/** Sums lines per key (a document id), keeping the first line of each key for its identifying fields. */
function sumBy(
  lines: readonly JournalLine[],
  keyOf: (line: JournalLine) => string,
): Map<string, { first: JournalLine; sum: Sum }> {
  const sums = new Map<string, { first: JournalLine; sum: Sum }>();
  for (const line of lines) {
    const key = keyOf(line);
    const entry = sums.get(key) ?? { first: line, sum: { debitMinor: 0n, creditMinor: 0n, lineCount: 0 } };
    if (line.side === 'debit') entry.sum.debitMinor += line.amountMinor;
    else entry.sum.creditMinor += line.amountMinor;
    entry.sum.lineCount += 1;
    sums.set(key, entry);
  }
  return sums;
}

function addMovements<T extends Movements>(previous: JsonObject | null, fresh: Omit<T, keyof Movements>, sum: Sum): T {
  const base =
    (previous as T | null) ?? ({ ...fresh, debitMinor: '0', creditMinor: '0', netDebitMinor: '0', lineCount: 0 } as T);
  const debit = BigInt(base.debitMinor) + sum.debitMinor;
  const credit = BigInt(base.creditMinor) + sum.creditMinor;
  return {
    ...base,
    debitMinor: debit.toString(),
    creditMinor: credit.toString(),
    netDebitMinor: (debit - credit).toString(),
    lineCount: base.lineCount + sum.lineCount,
  };
}

function addToTrialBalance(
  previous: JsonObject | null,
  date: string,
  currency: string,
  lines: readonly JournalLine[],
): TrialBalanceDocument {
  const base: TrialBalanceDocument = (previous as TrialBalanceDocument | null) ?? {
    accountingDate: date,
    currency,
    totalDebitMinor: '0',
    totalCreditMinor: '0',
    entryCount: 0,
    accounts: [],
  };
  const rows = new Map(
    base.accounts.map((row) => [row.code, { debit: BigInt(row.debitMinor), credit: BigInt(row.creditMinor) }]),
  );
  let totalDebit = BigInt(base.totalDebitMinor);
  let totalCredit = BigInt(base.totalCreditMinor);
  for (const line of lines) {
    const row = rows.get(line.code) ?? { debit: 0n, credit: 0n };
    if (line.side === 'debit') {
      row.debit += line.amountMinor;
      totalDebit += line.amountMinor;
    } else {
      row.credit += line.amountMinor;
      totalCredit += line.amountMinor;
    }
    rows.set(line.code, row);
  }
  return {
    ...base,
    totalDebitMinor: totalDebit.toString(),
    totalCreditMinor: totalCredit.toString(),
    entryCount: base.entryCount + 1,
    accounts: [...rows.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([code, row]) => ({ code, debitMinor: row.debit.toString(), creditMinor: row.credit.toString() })),
  };
}

/** One per accounting day with journal entries: which days a report can ask for. */
export interface AccountingDateDocument extends JsonObject {
  accountingDate: string;
  entryCount: number;
  /** Currencies with entries that day, sorted. */
  currencies: string[];
}

function addToAccountingDate(
  previous: JsonObject | null,
  date: string,
  currencies: readonly string[],
): AccountingDateDocument {
  const doc = previous as AccountingDateDocument | null;
  return {
    accountingDate: date,
    entryCount: (doc?.entryCount ?? 0) + 1,
    currencies: [...new Set([...(doc?.currencies ?? []), ...currencies])].sort(),
  };
}

function entryDocument(
  lines: readonly JournalLine[],
  event: LedgerEvent,
  envelope: EventEnvelope,
  operationId: string,
  date: string,
): JournalEntryDocument {
  const key = positionKey(envelope.position);
  return {
    entryId: envelope.metadata.eventId,
    eventType: event.type,
    streamId: envelope.streamId,
    position: envelope.position.toString(),
    positionKey: key,
    operationId,
    occurredAt: utcInstantKey(envelope.metadata.occurredAt),
    accountingDate: date,
    datePositionKey: compositeKey(date, key),
    lines: lines.map((line) => ({
      rule: line.rule,
      code: line.code,
      subLedgerType: line.subLedger.type,
      subLedgerId: line.subLedger.id,
      side: line.side,
      amountMinor: line.amountMinor.toString(),
      currency: line.currency,
    })),
  };
}

export function booksProjection(timeZone: string): AccountingProjection {
  return {
    name: BOOKS_PROJECTION,
    version: 1,
    accountingTimeZone: timeZone,
    collections: [
      { name: JOURNAL_ENTRIES_COLLECTION, indexes: ['datePositionKey', 'operationId', 'positionKey'], writeOnce: true },
      { name: LEDGER_BALANCES_COLLECTION, indexes: ['code', 'currency'] },
      { name: SUB_LEDGER_BALANCES_COLLECTION, indexes: ['code', 'currency', 'subLedgerId'] },
      { name: TRIAL_BALANCES_COLLECTION, indexes: ['accountingDate', 'currency'] },
      { name: ACCOUNTING_DATES_COLLECTION, indexes: ['accountingDate'] },
    ],
    // Only events that post journal lines (journalLinesFor answers null for every other).
    eventTypes: POSTING_EVENT_TYPES,
    handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
      const lines = journalLinesFor(event);
      if (lines === null || lines.length === 0) return [];
      const operationId = operationIdOf(event)!;
      const date = accountingDate(envelope.metadata.occurredAt, timeZone);
      const entry = entryDocument(lines, event, envelope, operationId, date);
      const changes: DocumentChange[] = [
        { collection: JOURNAL_ENTRIES_COLLECTION, id: entry.entryId, apply: () => entry },
      ];

      for (const [id, { first, sum }] of sumBy(lines, (l) => ledgerBalanceId(l.code, l.currency))) {
        const fresh = { code: first.code, currency: first.currency };
        changes.push({
          collection: LEDGER_BALANCES_COLLECTION,
          id,
          apply: (previous) => addMovements<LedgerBalanceDocument>(previous, fresh, sum),
        });
      }
      for (const [id, { first, sum }] of sumBy(lines, (l) =>
        subLedgerBalanceId(l.code, l.subLedger.type, l.subLedger.id, l.currency),
      )) {
        const fresh = {
          code: first.code,
          subLedgerType: first.subLedger.type,
          subLedgerId: first.subLedger.id,
          currency: first.currency,
        };
        changes.push({
          collection: SUB_LEDGER_BALANCES_COLLECTION,
          id,
          apply: (previous) => addMovements<SubLedgerBalanceDocument>(previous, fresh, sum),
        });
      }
      for (const currency of new Set(lines.map((l) => l.currency))) {
        const inCurrency = lines.filter((l) => l.currency === currency);
        changes.push({
          collection: TRIAL_BALANCES_COLLECTION,
          id: trialBalanceId(date, currency),
          apply: (previous) => addToTrialBalance(previous, date, currency, inCurrency),
        });
      }
      const currencies = [...new Set(lines.map((l) => l.currency))];
      changes.push({
        collection: ACCOUNTING_DATES_COLLECTION,
        id: date,
        apply: (previous) => addToAccountingDate(previous, date, currencies),
      });
      return changes;
    },
  };
}

import type { CurrencyCode } from '../money/currency.js';
import type { Side, SubLedgerType } from './chart-of-accounts.js';

/** One line of a journal entry: an amount on one side of one book account's sub-ledger. */
export interface JournalLine {
  /** The posting rule that produced it (POSTING_RULES id), for auditors. */
  readonly rule: string;
  readonly code: string;
  readonly subLedger: { readonly type: SubLedgerType; readonly id: string };
  readonly side: Side;
  /** Always positive: the side says which way it moves. */
  readonly amountMinor: bigint;
  readonly currency: CurrencyCode;
}

export interface CurrencyTotals {
  readonly debitMinor: bigint;
  readonly creditMinor: bigint;
}

/** Total debits and credits of some lines, per currency. */
export function totalsByCurrency(lines: readonly JournalLine[]): Map<CurrencyCode, CurrencyTotals> {
  const totals = new Map<CurrencyCode, CurrencyTotals>();
  for (const line of lines) {
    const current = totals.get(line.currency) ?? { debitMinor: 0n, creditMinor: 0n };
    totals.set(
      line.currency,
      line.side === 'debit'
        ? { ...current, debitMinor: current.debitMinor + line.amountMinor }
        : { ...current, creditMinor: current.creditMinor + line.amountMinor },
    );
  }
  return totals;
}

/** DESIGN invariant 1: debits equal credits in every currency of an entry. A failure is a bug in the rules. */
export function assertBalanced(lines: readonly JournalLine[]): void {
  for (const line of lines) {
    if (line.amountMinor <= 0n)
      throw new Error(`journal line of ${line.code} has a non-positive amount ${line.amountMinor}`);
  }
  for (const [currency, { debitMinor, creditMinor }] of totalsByCurrency(lines)) {
    if (debitMinor !== creditMinor)
      throw new Error(`journal entry does not balance in ${currency}: debits ${debitMinor}, credits ${creditMinor}`);
  }
}

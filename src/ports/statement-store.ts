import type { StatementRecord } from '../domain/reconciliation/statement-record.js';

/**
 * Where a channel's normalised statement lines are kept, per channel and accounting day, for matching
 * and for operators: its own SQLite file by default, a MongoDB collection in production (one contract
 * suite holds both). A day is written whole and replaces what was there (a statement downloaded again, or
 * imported by hand, is the channel's new word for that day), and read back in matching order, streaming,
 * so a day of a million lines is never held in memory.
 */

/** Lines written per batch (a transaction or a bulk insert): bounds memory and one commit's size. */
export const STATEMENT_WRITE_BATCH = 5_000;
/** A day holds at most this many lines: a larger file is not one channel's day for one merchant. */
export const MAX_STATEMENT_DAY_LINES = 5_000_000;

export interface StatementDayKey {
  readonly channel: string;
  readonly accountingDate: string;
}

/** What a stored day is; the file's hash and the lines set aside are on its `StatementStored` event. */
export interface StatementDaySummary extends StatementDayKey {
  /** The format the lines were read from. */
  readonly format: string;
  readonly lineCount: number;
  readonly storedAtMs: number;
}

export interface StatementStore {
  /**
   * Replaces the day's lines with `records` (in any order), then records the summary; readers see the old
   * day or the new one, never half. Throws when more than MAX_STATEMENT_DAY_LINES arrive (nothing replaced).
   */
  replaceDay(
    day: StatementDayKey & { readonly format: string },
    records: AsyncIterable<StatementRecord>,
  ): Promise<StatementDaySummary>;
  /**
   * The day's lines ordered by (merchantOrderNo, refundNo with null first, sourceLine) as match-order.ts
   * compares them, streaming. Throws StatementDayReplacedError at the end if the day was replaced while
   * it was read (what was yielded may be part of the old day: the caller starts over).
   */
  readDay(key: StatementDayKey): AsyncIterable<StatementRecord>;
  /** The day's summary, or null if no statement was stored for it. */
  daySummary(key: StatementDayKey): Promise<StatementDaySummary | null>;
  close(): Promise<void>;
}

export class StatementDayReplacedError extends Error {
  override readonly name = 'StatementDayReplacedError';
}

/**
 * A day's lines in write batches of STATEMENT_WRITE_BATCH, each line checked to be of the day, at most
 * MAX_STATEMENT_DAY_LINES in all (both adapters write what this yields; a throw leaves the old day).
 */
export async function* statementDayBatches(
  day: StatementDayKey,
  records: AsyncIterable<StatementRecord>,
): AsyncIterable<readonly StatementRecord[]> {
  let lineCount = 0;
  let batch: StatementRecord[] = [];
  for await (const record of records) {
    if (record.channel !== day.channel || record.accountingDate !== day.accountingDate)
      throw new Error(
        `a line of ${record.channel} ${record.accountingDate} in the statement of ${day.channel} ${day.accountingDate}`,
      );
    lineCount += 1;
    if (lineCount > MAX_STATEMENT_DAY_LINES)
      throw new Error(`a statement day holds at most ${MAX_STATEMENT_DAY_LINES} lines`);
    batch.push(record);
    if (batch.length === STATEMENT_WRITE_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

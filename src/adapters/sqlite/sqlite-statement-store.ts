import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { refundKeyOf } from '../../domain/reconciliation/match-order.js';
import { statementRecord, type StatementRecord } from '../../domain/reconciliation/statement-record.js';
import {
  StatementDayReplacedError,
  statementDayBatches,
  type StatementDayKey,
  type StatementDaySummary,
  type StatementStore,
} from '../../ports/statement-store.js';
import { openSqliteDatabase } from './open-database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS statement_days (
  channel TEXT NOT NULL,
  accounting_date TEXT NOT NULL,
  generation TEXT NOT NULL,
  format TEXT NOT NULL,
  line_count INTEGER NOT NULL,
  stored_at_ms INTEGER NOT NULL,
  PRIMARY KEY (channel, accounting_date)
);
CREATE TABLE IF NOT EXISTS statement_lines (
  channel TEXT NOT NULL,
  accounting_date TEXT NOT NULL,
  generation TEXT NOT NULL,
  merchant_order_no TEXT NOT NULL,
  refund_key TEXT NOT NULL,
  source_line INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statement_lines_match
  ON statement_lines (channel, accounting_date, generation, merchant_order_no, refund_key, source_line);
`;

/** Lines read per query: a page is held in memory at a time. */
const STATEMENT_READ_PAGE = 2_000;

interface LineRow {
  merchant_order_no: string;
  refund_key: string;
  source_line: number;
  record: string;
}

interface DayRow {
  channel: string;
  accounting_date: string;
  generation: string;
  format: string;
  line_count: number;
  stored_at_ms: number;
}

const summaryOf = (row: DayRow): StatementDaySummary => ({
  channel: row.channel,
  accountingDate: row.accounting_date,
  format: row.format,
  lineCount: row.line_count,
  storedAtMs: row.stored_at_ms,
});

/**
 * Normalised statement lines in their own SQLite file (DATA_DIR/recon.sqlite by default: a million lines a
 * day would swell the read models' file, and they are the channel's word, not a projection of our log).
 * A day is written as a new generation in batches of STATEMENT_WRITE_BATCH lines, each its own
 * transaction (memory stays bounded), then made current in one transaction that also deletes the old
 * generation: readers see the old day or the new one. Lines of a generation a crash left unfinished are
 * deleted by the next write of that day. Read back through the match index, in matching order (BINARY
 * collation: UTF-8 byte order, as match-order.ts compares), a page at a time.
 */
export class SqliteStatementStore implements StatementStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath);
    this.db.exec(SCHEMA);
  }

  async replaceDay(
    day: StatementDayKey & { readonly format: string },
    records: AsyncIterable<StatementRecord>,
  ): Promise<StatementDaySummary> {
    const generation = randomUUID();
    const { channel, accountingDate } = day;
    const insert = this.db.prepare(
      `INSERT INTO statement_lines (channel, accounting_date, generation, merchant_order_no, refund_key, source_line, record)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertBatch = this.db.transaction((batch: readonly StatementRecord[]) => {
      for (const record of batch)
        insert.run(
          channel,
          accountingDate,
          generation,
          record.merchantOrderNo,
          refundKeyOf(record.refundNo),
          record.sourceLine,
          JSON.stringify(statementRecord.encode(record)),
        );
    });
    const dropGeneration = (): void => {
      this.db
        .prepare('DELETE FROM statement_lines WHERE channel = ? AND accounting_date = ? AND generation = ?')
        .run(channel, accountingDate, generation);
    };
    let lineCount = 0;
    try {
      for await (const batch of statementDayBatches(day, records)) {
        insertBatch(batch);
        lineCount += batch.length;
      }
    } catch (error) {
      dropGeneration();
      throw error;
    }
    const stored: StatementDaySummary = {
      channel,
      accountingDate,
      format: day.format,
      lineCount,
      storedAtMs: Date.now(),
    };
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO statement_days (channel, accounting_date, generation, format, line_count, stored_at_ms)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (channel, accounting_date) DO UPDATE SET generation = excluded.generation, format = excluded.format,
             line_count = excluded.line_count, stored_at_ms = excluded.stored_at_ms`,
        )
        .run(channel, accountingDate, generation, stored.format, lineCount, stored.storedAtMs);
      this.db
        .prepare('DELETE FROM statement_lines WHERE channel = ? AND accounting_date = ? AND generation <> ?')
        .run(channel, accountingDate, generation);
    })();
    return stored;
  }

  async *readDay(key: StatementDayKey): AsyncIterable<StatementRecord> {
    const day = this.#dayRow(key);
    if (!day) return;
    // Pages by key, not one open cursor: a better-sqlite3 iterator left open across a yield would keep the
    // connection busy for every other statement (a write of another day, the service's own reads).
    const page = this.db.prepare(
      `SELECT merchant_order_no, refund_key, source_line, record FROM statement_lines
       WHERE channel = ? AND accounting_date = ? AND generation = ?
         AND (merchant_order_no, refund_key, source_line) > (?, ?, ?)
       ORDER BY merchant_order_no, refund_key, source_line LIMIT ?`,
    );
    let after: [string, string, number] = ['', '', 0];
    for (;;) {
      const rows = page.all(
        key.channel,
        key.accountingDate,
        day.generation,
        ...after,
        STATEMENT_READ_PAGE,
      ) as LineRow[];
      for (const row of rows) yield statementRecord.decode(JSON.parse(row.record) as never);
      if (rows.length < STATEMENT_READ_PAGE) break;
      const last = rows[rows.length - 1]!;
      after = [last.merchant_order_no, last.refund_key, last.source_line];
    }
    // A replace that made another generation current while we read deleted this one's rows under us.
    if (this.#dayRow(key)?.generation !== day.generation)
      throw new StatementDayReplacedError(
        `the statement of ${key.channel} ${key.accountingDate} was replaced while read`,
      );
  }

  daySummary(key: StatementDayKey): Promise<StatementDaySummary | null> {
    const row = this.#dayRow(key);
    return Promise.resolve(row ? summaryOf(row) : null);
  }

  #dayRow(key: StatementDayKey): DayRow | undefined {
    return this.db
      .prepare('SELECT * FROM statement_days WHERE channel = ? AND accounting_date = ?')
      .get(key.channel, key.accountingDate) as DayRow | undefined;
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

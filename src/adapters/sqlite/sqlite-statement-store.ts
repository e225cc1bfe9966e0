import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { CurrencyCode } from '../../domain/money/currency.js';
import { refundKeyOf } from '../../domain/reconciliation/match-order.js';
import {
  decodeStatementRecord,
  statementRecord,
  type StatementRecord,
  type StatementRecordJson,
} from '../../domain/reconciliation/statement-record.js';
import {
  StatementDayReplacedError,
  statementDayBatches,
  type StatementDayKey,
  type StatementDaySummary,
  type StatementStore,
} from '../../ports/statement-store.js';
import { openSqliteDatabase } from './open-database.js';

/** A line's fields besides its day and key, as columns (no JSON text to write, parse and check per line). */
const LINE_COLUMNS = `kind TEXT NOT NULL, status TEXT NOT NULL, channel_order_no TEXT NOT NULL, channel_refund_no TEXT,
  amount_minor TEXT NOT NULL, fee_minor TEXT NOT NULL, currency TEXT NOT NULL, channel_time TEXT NOT NULL`;
const KEY_COLUMNS = `channel TEXT NOT NULL, accounting_date TEXT NOT NULL, generation TEXT NOT NULL,
  merchant_order_no TEXT NOT NULL, refund_key TEXT NOT NULL, source_line INTEGER NOT NULL, seq INTEGER NOT NULL`;
const ALL_COLUMNS = `channel, accounting_date, generation, merchant_order_no, refund_key, source_line, seq,
  kind, status, channel_order_no, channel_refund_no, amount_minor, fee_minor, currency, channel_time`;

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
  ${KEY_COLUMNS},
  ${LINE_COLUMNS},
  PRIMARY KEY (channel, accounting_date, generation, merchant_order_no, refund_key, source_line, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS statement_staging (${KEY_COLUMNS}, ${LINE_COLUMNS});
CREATE INDEX IF NOT EXISTS statement_staging_generation ON statement_staging (channel, accounting_date, generation);
`;

/** Lines read per query: a page is held in memory at a time (about 1 KB each, decoded). */
const STATEMENT_READ_PAGE = 5_000;
/** Page size of a new file: fewer, fuller pages for a day read in one sweep (the default is 4 KiB). */
const NEW_FILE_PAGE_SIZE_BYTES = 16_384;

/** A line as the read query gives it (raw: an array, in this order). */
type LineRow = [
  merchantOrderNo: string,
  refundKey: string,
  sourceLine: number,
  seq: number,
  kind: string,
  status: string,
  channelOrderNo: string,
  channelRefundNo: string | null,
  amountMinor: string,
  feeMinor: string,
  currency: string,
  channelTime: string,
];

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
 *
 * The lines table is clustered by the match key (WITHOUT ROWID, primary key channel, day, generation, order
 * number, refund key, line, and the line's place in its write), so a day is read back in matching order as
 * one sweep over neighbouring pages. Lines are not inserted there in the file's order, which would scatter
 * each batch over the whole day's pages: a day is written as a new generation into a staging table in the
 * file's order (batches of STATEMENT_WRITE_BATCH, each its own transaction: memory stays bounded), then
 * made current in one transaction that copies the generation into the lines table sorted by key (SQLite's
 * sorter, which spills to temporary files beyond its cache), deletes the old generation and empties the
 * day's staging: readers see the old day or the new one. Staging lines a crash left behind go with the
 * next write of that day. Read back a page at a time by key (BINARY collation: UTF-8 byte order, as
 * match-order.ts compares), each line decoded from its columns (decodeStatementRecord: refused if not a
 * record).
 */
export class SqliteStatementStore implements StatementStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly readPage: Database.Statement;

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath, { newFilePageSizeBytes: NEW_FILE_PAGE_SIZE_BYTES });
    // Immediate: the write lock taken first, so instances opening the file at once wait for each other
    // (busy timeout) instead of one failing to upgrade its read to a write.
    this.db
      .transaction(() => {
        migrateJsonLines(this.db);
        this.db.exec(SCHEMA);
      })
      .immediate();
    this.readPage = this.db
      .prepare(
        `SELECT merchant_order_no, refund_key, source_line, seq, kind, status, channel_order_no, channel_refund_no,
           amount_minor, fee_minor, currency, channel_time
         FROM statement_lines
         WHERE channel = ? AND accounting_date = ? AND generation = ?
           AND (merchant_order_no, refund_key, source_line, seq) > (?, ?, ?, ?)
         ORDER BY merchant_order_no, refund_key, source_line, seq LIMIT ?`,
      )
      .raw(true);
  }

  async replaceDay(
    day: StatementDayKey & { readonly format: string },
    records: AsyncIterable<StatementRecord>,
  ): Promise<StatementDaySummary> {
    const generation = randomUUID();
    const { channel, accountingDate } = day;
    const insert = this.db.prepare(
      `INSERT INTO statement_staging (${ALL_COLUMNS}) VALUES (${ALL_COLUMNS.replace(/\w+/g, '?')})`,
    );
    let lineCount = 0;
    const insertBatch = this.db.transaction((batch: readonly StatementRecord[]) => {
      for (const record of batch) {
        // Encoded as the schema encodes it (bigints to text): what decodeStatementRecord reads back.
        const json = statementRecord.encode(record);
        lineCount += 1;
        insert.run(
          channel,
          accountingDate,
          generation,
          json.merchantOrderNo,
          refundKeyOf(json.refundNo),
          json.sourceLine,
          lineCount,
          json.kind,
          json.status,
          json.channelOrderNo,
          json.channelRefundNo,
          json.amountMinor,
          json.feeMinor,
          json.currency,
          json.channelTime,
        );
      }
    });
    try {
      for await (const batch of statementDayBatches(day, records)) insertBatch(batch);
    } catch (error) {
      this.db
        .prepare('DELETE FROM statement_staging WHERE channel = ? AND accounting_date = ? AND generation = ?')
        .run(channel, accountingDate, generation);
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
          `INSERT INTO statement_lines (${ALL_COLUMNS}) SELECT ${ALL_COLUMNS} FROM statement_staging
           WHERE channel = ? AND accounting_date = ? AND generation = ?
           ORDER BY merchant_order_no, refund_key, source_line, seq`,
        )
        .run(channel, accountingDate, generation);
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
      this.db
        .prepare('DELETE FROM statement_staging WHERE channel = ? AND accounting_date = ?')
        .run(channel, accountingDate);
    })();
    return stored;
  }

  async *readDay(key: StatementDayKey): AsyncIterable<StatementRecord> {
    const day = this.#dayRow(key);
    if (!day) return;
    // Pages by key, not one open cursor: a better-sqlite3 iterator left open across a yield would keep the
    // connection busy for every other statement (a write of another day, the service's own reads).
    let after: [string, string, number, number] = ['', '', 0, 0];
    for (;;) {
      const rows = this.readPage.all(
        key.channel,
        key.accountingDate,
        day.generation,
        ...after,
        STATEMENT_READ_PAGE,
      ) as LineRow[];
      for (const row of rows) yield lineOf(key, row);
      if (rows.length < STATEMENT_READ_PAGE) break;
      const last = rows[rows.length - 1]!;
      after = [last[0], last[1], last[2], last[3]];
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

function lineOf(key: StatementDayKey, row: LineRow): StatementRecord {
  const json: StatementRecordJson = {
    channel: key.channel,
    accountingDate: key.accountingDate,
    kind: row[4] as StatementRecordJson['kind'],
    status: row[5] as StatementRecordJson['status'],
    channelOrderNo: row[6],
    merchantOrderNo: row[0],
    // The key's refund part is the refund number, empty for a pay (a refund number is never empty).
    refundNo: row[1] === '' ? null : row[1],
    channelRefundNo: row[7],
    amountMinor: row[8],
    feeMinor: row[9],
    // Checked by the decode, as every field is.
    currency: row[10] as CurrencyCode,
    channelTime: row[11],
    sourceLine: row[2],
  };
  return decodeStatementRecord(json);
}

/**
 * A file from before the columns kept each line as its record's JSON text in a rowid table
 * (`statement_lines` with a `record` column, and an index on the key): its lines are moved into the
 * clustered table, in key order, and the old table dropped. In the constructor's transaction: all or
 * nothing. Each day keeps its generation.
 */
function migrateJsonLines(db: Database.Database): void {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('statement_lines')`).all() as { name: string }[];
  if (!columns.some((column) => column.name === 'record')) return;
  db.exec('ALTER TABLE statement_lines RENAME TO statement_lines_json');
  db.exec(SCHEMA);
  const field = (name: string): string => `json_extract(record, '$.${name}')`;
  db.exec(
    `INSERT INTO statement_lines (${ALL_COLUMNS})
     SELECT channel, accounting_date, generation, merchant_order_no, refund_key, source_line, rowid,
       ${['kind', 'status', 'channelOrderNo', 'channelRefundNo', 'amountMinor', 'feeMinor', 'currency', 'channelTime'].map(field).join(', ')}
     FROM statement_lines_json ORDER BY channel, accounting_date, generation, merchant_order_no, refund_key, source_line, rowid`,
  );
  db.exec('DROP TABLE statement_lines_json');
}

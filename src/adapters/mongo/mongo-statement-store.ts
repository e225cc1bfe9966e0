import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection, type Db } from 'mongodb';
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
import { databaseNameOf, durableCollection } from './mongo-concerns.js';

export const STATEMENT_DAYS_COLLECTION = 'recon_statement_days';
export const STATEMENT_LINES_COLLECTION = 'recon_statement_lines';
const DEFAULT_DATABASE_NAME = 'ledger';
const SERVER_SELECTION_TIMEOUT_MS = 3_000;
/** Documents the cursor fetches per round trip while a day is read. */
const READ_BATCH = 2_000;

interface DayRecord extends Omit<StatementDaySummary, 'channel' | 'accountingDate'> {
  _id: string;
  channel: string;
  accountingDate: string;
  generation: string;
}

interface LineRecord {
  channel: string;
  accountingDate: string;
  generation: string;
  merchantOrderNo: string;
  refundKey: string;
  sourceLine: number;
  record: StatementRecordJson;
}

const dayIdOf = (key: StatementDayKey) => `${key.channel}|${key.accountingDate}`;

/**
 * Normalised statement lines on MongoDB, shared by every instance, with the ledger's durable concerns
 * (majority, journaled; mongo-concerns.ts). A day is inserted as a new generation in bulk batches of
 * STATEMENT_WRITE_BATCH, then made current by one update of its day document (atomic on the document),
 * then the old generation is deleted: readers see the old day or the new one. A generation a crash left
 * unfinished is deleted by the next write of that day. Read back through the match index, whose order is
 * the simple collation's (UTF-8 bytes, as match-order.ts compares), with a cursor in batches.
 */
export class MongoStatementStore implements StatementStore {
  readonly engine = 'mongo' as const;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  static async connect(url: string, databaseName?: string): Promise<MongoStatementStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
    try {
      await client.connect();
      const store = new MongoStatementStore(
        client,
        client.db(databaseName ?? databaseNameOf(url) ?? DEFAULT_DATABASE_NAME),
      );
      await store.lines().createIndexes([
        {
          key: { channel: 1, accountingDate: 1, generation: 1, merchantOrderNo: 1, refundKey: 1, sourceLine: 1 },
          name: 'match',
        },
      ]);
      return store;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  private days(): Collection<DayRecord> {
    return durableCollection<DayRecord>(this.db, STATEMENT_DAYS_COLLECTION);
  }

  private lines(): Collection<LineRecord> {
    return durableCollection<LineRecord>(this.db, STATEMENT_LINES_COLLECTION);
  }

  async replaceDay(
    day: StatementDayKey & { readonly format: string },
    records: AsyncIterable<StatementRecord>,
  ): Promise<StatementDaySummary> {
    const generation = randomUUID();
    const { channel, accountingDate } = day;
    let lineCount = 0;
    try {
      for await (const batch of statementDayBatches(day, records)) {
        await this.lines().insertMany(
          batch.map((record) => ({
            channel,
            accountingDate,
            generation,
            merchantOrderNo: record.merchantOrderNo,
            refundKey: refundKeyOf(record.refundNo),
            sourceLine: record.sourceLine,
            record: statementRecord.encode(record),
          })),
          { ordered: false },
        );
        lineCount += batch.length;
      }
    } catch (error) {
      await this.lines().deleteMany({ channel, accountingDate, generation });
      throw error;
    }
    const stored: StatementDaySummary = {
      channel,
      accountingDate,
      format: day.format,
      lineCount,
      storedAtMs: Date.now(),
    };
    await this.days().replaceOne({ _id: dayIdOf(day) }, { ...stored, generation }, { upsert: true });
    await this.lines().deleteMany({ channel, accountingDate, generation: { $ne: generation } });
    return stored;
  }

  async *readDay(key: StatementDayKey): AsyncIterable<StatementRecord> {
    const day = await this.days().findOne({ _id: dayIdOf(key) });
    if (!day) return;
    const cursor = this.lines()
      .find({ channel: key.channel, accountingDate: key.accountingDate, generation: day.generation })
      .sort({ merchantOrderNo: 1, refundKey: 1, sourceLine: 1 })
      .hint('match')
      .batchSize(READ_BATCH)
      .project<{ record: StatementRecordJson }>({ _id: 0, record: 1 });
    try {
      for await (const line of cursor) yield decodeStatementRecord(line.record);
    } finally {
      await cursor.close();
    }
    const now = await this.days().findOne({ _id: dayIdOf(key) });
    if (now?.generation !== day.generation)
      throw new StatementDayReplacedError(
        `the statement of ${key.channel} ${key.accountingDate} was replaced while read`,
      );
  }

  async daySummary(key: StatementDayKey): Promise<StatementDaySummary | null> {
    const day = await this.days().findOne({ _id: dayIdOf(key) });
    if (!day) return null;
    const { _id: _unusedId, generation: _unusedGeneration, ...summary } = day;
    return summary;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

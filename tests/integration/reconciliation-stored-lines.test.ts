import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { SqliteStatementStore } from '../../src/adapters/sqlite/sqlite-statement-store.js';
import { readOurDay } from '../../src/commands/reconciliation/match-day.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { compareMatchKeys } from '../../src/domain/reconciliation/match-order.js';
import { statementRecord, type StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import {
  CHANNEL_ORDERS_COLLECTION,
  channelOrdersProjection,
  matchIndexKey,
  type ChannelOrderDocument,
} from '../../src/projections/channel-orders.js';

/**
 * The reconciliation read path decodes stored lines and orders without zod when they are well formed
 * (decodeStatementRecord, decodeOurOrder): a row damaged on disk must still be refused, not matched. And a
 * statement file from before the lines were columns (JSON text per line) is carried over when opened.
 */
const DAY = { channel: 'wechat', accountingDate: '2026-11-30' };
const FILE = { ...DAY, format: 'wechat-all/1' };

function line(merchantOrderNo: string, sourceLine: number, refundNo: string | null = null): StatementRecord {
  return {
    ...DAY,
    kind: refundNo === null ? 'pay' : 'refund',
    status: 'settled',
    channelOrderNo: `ch-${merchantOrderNo}`,
    merchantOrderNo,
    refundNo,
    channelRefundNo: refundNo === null ? null : `chr-${refundNo}`,
    amountMinor: 100n + BigInt(sourceLine),
    feeMinor: 1n,
    currency: parseCurrency('CNY'),
    channelTime: '2026-11-30T08:00:00.000Z',
    sourceLine,
  };
}

async function* stream(records: readonly StatementRecord[]): AsyncIterable<StatementRecord> {
  for (const record of records) yield record;
}

async function readAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const freshDir = () => mkdtempSync(join(tmpdir(), 'ledger-recon-lines-'));

describe('stored statement lines, read back for matching', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  it.each([
    ['an amount that is not minor units', `amount_minor = '12.50'`],
    ['an amount of zero', `amount_minor = '0'`],
    ['an unknown kind', `kind = 'chargeback'`],
    ['an instant that is no instant', `channel_time = '2026-11-31T08:00:00.000Z'`],
    ['an unknown currency', `currency = 'XXX'`],
    ['an empty channel order number', `channel_order_no = ''`],
  ])('refuses a line damaged on disk: %s', async (_name, damage) => {
    const file = join(freshDir(), 'recon.sqlite');
    const store = new SqliteStatementStore(file);
    open.push(store);
    await store.replaceDay(FILE, stream([line('a', 1), line('b', 2), line('c', 3)]));
    const db = new Database(file);
    db.prepare(`UPDATE statement_lines SET ${damage} WHERE merchant_order_no = 'b'`).run();
    db.close();
    await expect(readAll(store.readDay(DAY))).rejects.toThrow();
  });

  it('carries a file of JSON lines (the layout before columns) over when opened, in match order', async () => {
    const file = join(freshDir(), 'recon.sqlite');
    const written = [line('b', 1), line('a', 2, 'r-1'), line('a', 3), line('\u{1F600}', 4), line('\uffff', 5)];
    const db = new Database(file);
    db.exec(`
      CREATE TABLE statement_days (channel TEXT NOT NULL, accounting_date TEXT NOT NULL, generation TEXT NOT NULL,
        format TEXT NOT NULL, line_count INTEGER NOT NULL, stored_at_ms INTEGER NOT NULL,
        PRIMARY KEY (channel, accounting_date));
      CREATE TABLE statement_lines (channel TEXT NOT NULL, accounting_date TEXT NOT NULL, generation TEXT NOT NULL,
        merchant_order_no TEXT NOT NULL, refund_key TEXT NOT NULL, source_line INTEGER NOT NULL, record TEXT NOT NULL);
      CREATE INDEX statement_lines_match
        ON statement_lines (channel, accounting_date, generation, merchant_order_no, refund_key, source_line);`);
    db.prepare(`INSERT INTO statement_days VALUES (?, ?, 'g1', ?, ?, 1)`).run(
      DAY.channel,
      DAY.accountingDate,
      FILE.format,
      written.length,
    );
    const insert = db.prepare(`INSERT INTO statement_lines VALUES (?, ?, ?, ?, ?, ?, ?)`);
    for (const record of written)
      insert.run(
        DAY.channel,
        DAY.accountingDate,
        'g1',
        record.merchantOrderNo,
        record.refundNo ?? '',
        record.sourceLine,
        JSON.stringify(statementRecord.encode(record)),
      );
    // A line of an older generation a crash left behind: carried too, and never read as the day's.
    insert.run(
      DAY.channel,
      DAY.accountingDate,
      'g0',
      'old',
      '',
      1,
      JSON.stringify(statementRecord.encode(line('old', 1))),
    );
    db.close();

    const store = new SqliteStatementStore(file);
    open.push(store);
    expect(await readAll(store.readDay(DAY))).toEqual(
      [...written].sort((x, y) => compareMatchKeys(x, y) || x.sourceLine - y.sourceLine),
    );
    expect(await store.daySummary(DAY)).toMatchObject({ ...FILE, lineCount: written.length });
    // The next write of the day replaces it as any other, leftovers included.
    await store.replaceDay(FILE, stream([line('new', 1)]));
    expect((await readAll(store.readDay(DAY))).map((r) => r.merchantOrderNo)).toEqual(['new']);
  });

  it('refuses an order of ours damaged in the read model', async () => {
    const readModels = new SqliteReadModelStore(join(freshDir(), 'read-models.sqlite'));
    open.push(readModels);
    const projection = channelOrdersProjection('Asia/Shanghai');
    await readModels.ensureCollections(projection.collections);
    const doc = (merchantOrderNo: string, amountMinor: string): ChannelOrderDocument => ({
      operation: 'channel_payment',
      kind: 'pay',
      channel: DAY.channel,
      merchantOrderNo,
      refundNo: null,
      amountMinor,
      currency: 'CNY',
      status: 'succeeded',
      channelOrderNo: `ch-${merchantOrderNo}`,
      feeMinor: '1',
      scheduledFeeMinor: '1',
      ourTime: '2026-11-30T08:00:00.000Z',
      channelTime: '2026-11-30T08:00:00.000Z',
      accountingDate: DAY.accountingDate,
      dayMatchKey: matchIndexKey(DAY.channel, DAY.accountingDate, merchantOrderNo, null),
      updatedAt: '2026-11-30T08:00:00.000Z',
    });
    await readModels.applyBatch(
      projection.name,
      [
        { collection: CHANNEL_ORDERS_COLLECTION, id: 'a', data: doc('a', '100'), position: 1n },
        { collection: CHANNEL_ORDERS_COLLECTION, id: 'b', data: doc('b', '1.00'), position: 2n },
      ],
      2n,
    );
    await expect(readAll(readOurDay(readModels, DAY.channel, DAY.accountingDate))).rejects.toThrow();
  });
});

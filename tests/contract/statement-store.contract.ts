import { afterEach, describe, expect, it } from 'vitest';
import { parseCurrency } from '../../src/domain/money/money.js';
import { compareMatchKeys } from '../../src/domain/reconciliation/match-order.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import { StatementDayReplacedError, type StatementStore } from '../../src/ports/statement-store.js';

/**
 * What every StatementStore adapter must do: a day written whole replaces the old one, and is read back in
 * matching order (match-order.ts), whatever order it was written in and whatever its order numbers hold.
 */
const DAY = { channel: 'wechat', accountingDate: '2026-11-30' };

function line(
  merchantOrderNo: string,
  refundNo: string | null,
  sourceLine: number,
  amountMinor = 100n,
): StatementRecord {
  return {
    ...DAY,
    kind: refundNo === null ? 'pay' : 'refund',
    status: 'settled',
    channelOrderNo: `ch-${merchantOrderNo}`,
    merchantOrderNo,
    refundNo,
    channelRefundNo: refundNo === null ? null : `chr-${refundNo}`,
    amountMinor,
    feeMinor: 1n,
    currency: parseCurrency('CNY'),
    channelTime: '2026-11-30T08:00:00.000Z',
    sourceLine,
  };
}

async function* stream(records: readonly StatementRecord[]): AsyncIterable<StatementRecord> {
  for (const record of records) yield record;
}

async function readAll(store: StatementStore, key = DAY): Promise<StatementRecord[]> {
  const out: StatementRecord[] = [];
  for await (const record of store.readDay(key)) out.push(record);
  return out;
}

const FILE = { ...DAY, format: 'wechat-all/1' };

export function statementStoreContract(name: string, open: () => Promise<StatementStore>): void {
  describe(`StatementStore contract: ${name}`, () => {
    let store: StatementStore | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('reads a day back in matching order: order number by code point, a pay before its refunds, then the line', async () => {
      store = await open();
      const written = [
        line('b-2', 'r-2', 7),
        line('b-2', null, 3),
        line('a-1', null, 9),
        line('b-2', 'r-1', 5),
        line('😀-emoji', null, 1),
        line('\uffff-bmp-top', null, 2),
        line('a-1', null, 4),
        line('Z-upper', null, 6),
      ];
      const summary = await store.replaceDay(FILE, stream(written));
      expect(summary).toMatchObject({ ...FILE, lineCount: 8 });
      const read = await readAll(store);
      expect(read).toEqual([...written].sort((x, y) => compareMatchKeys(x, y) || x.sourceLine - y.sourceLine));
      expect(read.map((r) => r.merchantOrderNo).slice(-2)).toEqual(['\uffff-bmp-top', '😀-emoji']);
      expect(await store.daySummary(DAY)).toMatchObject({ ...FILE, lineCount: 8 });
    });

    it('a day written again replaces the old one whole; other days and channels are untouched', async () => {
      store = await open();
      await store.replaceDay(FILE, stream([line('a', null, 1), line('b', null, 2)]));
      const other = { ...FILE, channel: 'alipay' };
      await store.replaceDay(other, stream([{ ...line('x', null, 1), channel: 'alipay' }]));
      await store.replaceDay({ ...FILE, format: 'ledger-normalised/1' }, stream([line('c', null, 1, 999n)]));
      expect((await readAll(store)).map((r) => [r.merchantOrderNo, r.amountMinor])).toEqual([['c', 999n]]);
      expect((await store.daySummary(DAY))?.format).toBe('ledger-normalised/1');
      expect((await readAll(store, { ...DAY, channel: 'alipay' })).map((r) => r.merchantOrderNo)).toEqual(['x']);
      expect(await readAll(store, { ...DAY, accountingDate: '2026-12-01' })).toEqual([]);
      expect(await store.daySummary({ ...DAY, accountingDate: '2026-12-01' })).toBeNull();
    });

    it('a write that fails part-way leaves the old day as it was', async () => {
      store = await open();
      await store.replaceDay(FILE, stream([line('kept', null, 1)]));
      async function* failing(): AsyncIterable<StatementRecord> {
        yield line('lost-1', null, 1);
        yield line('lost-2', null, 2);
        throw new Error('the download broke off');
      }
      await expect(store.replaceDay(FILE, failing())).rejects.toThrow('the download broke off');
      await expect(store.replaceDay(FILE, stream([{ ...line('x', null, 1), channel: 'alipay' }]))).rejects.toThrow(
        /a line of alipay/,
      );
      expect((await readAll(store)).map((r) => r.merchantOrderNo)).toEqual(['kept']);
    });

    it('reads a day larger than one page and one write batch, in order', async () => {
      store = await open();
      const count = 12_345;
      const written = Array.from({ length: count }, (_, i) =>
        line(`o-${String((i * 7919) % count).padStart(6, '0')}`, null, i + 1),
      );
      await store.replaceDay(FILE, stream(written));
      const read = await readAll(store);
      expect(read).toHaveLength(count);
      for (let i = 1; i < read.length; i++) expect(compareMatchKeys(read[i - 1]!, read[i]!)).toBeLessThan(0);
    });

    it('a reader that sees its day replaced under it is told so at the end', async () => {
      store = await open();
      await store.replaceDay(FILE, stream(Array.from({ length: 5_000 }, (_, i) => line(`o-${i}`, null, i + 1))));
      const reading = store.readDay(DAY)[Symbol.asyncIterator]();
      await reading.next();
      await store.replaceDay(FILE, stream([line('new', null, 1)]));
      let error: unknown;
      try {
        for (;;) if ((await reading.next()).done) break;
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(StatementDayReplacedError);
      expect((await readAll(store)).map((r) => r.merchantOrderNo)).toEqual(['new']);
    });
  });
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alipayTradeDetailParser } from '../../../src/adapters/reconciliation/statement-formats/alipay-trade-detail.js';
import {
  normalisedLine,
  normalisedStatementParser,
} from '../../../src/adapters/reconciliation/statement-formats/normalised-statement.js';
import { simStatementParser } from '../../../src/adapters/reconciliation/statement-formats/sim-statement.js';
import { statementParserFor } from '../../../src/adapters/reconciliation/statement-formats/statement-parsers.js';
import { wechatAllBillParser } from '../../../src/adapters/reconciliation/statement-formats/wechat-all-bill.js';
import { statementCsv } from '../../../src/adapters/channels/simulator/statement-file.js';
import type { ChannelRecords } from '../../../src/adapters/channels/simulator/simulator-records.js';
import type { StatementRecord } from '../../../src/domain/reconciliation/statement-record.js';
import {
  StatementRejectedError,
  type StatementContext,
  type StatementItem,
  type StatementParser,
} from '../../../src/ports/statement-parser.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/statements/${name}`, import.meta.url)));

/** The bytes in chunks of `size`: a chunk may end mid-character or mid-line, as a download's do. */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

async function parseAll(parser: StatementParser, bytes: Iterable<Uint8Array>, context: StatementContext) {
  const items: StatementItem[] = [];
  for await (const item of parser.parse(bytes, context)) items.push(item);
  return {
    records: items.flatMap((item) => (item.type === 'record' ? [item.record] : [])),
    setAside: items.flatMap((item) => (item.type === 'set_aside' ? [item] : [])),
  };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StatementRejectedError) return error.reason;
    throw error;
  }
  throw new Error('the statement was not rejected');
}

const WECHAT: StatementContext = {
  channel: 'wechat',
  accountingDate: '2026-11-30',
  merchantIds: ['1900000109'],
  appIds: ['wx2421b1c4370ec43b'],
};

describe('the WeChat Pay ALL bill', () => {
  it('normalises pays, the refund and the revocation, sets aside another merchant, and checks the summary', async () => {
    const { records, setAside } = await parseAll(wechatAllBillParser, [fixture('wechat-all-bill.csv')], WECHAT);
    expect(records.map((r) => [r.kind, r.status, r.merchantOrderNo, r.amountMinor, r.feeMinor])).toEqual([
      ['pay', 'settled', 'cp-0001', 10000n, 60n],
      ['pay', 'settled', 'cp-0002', 2550n, 15n],
      ['pay', 'revoked', 'cp-0003', 800n, 0n],
      ['refund', 'settled', 'cp-0001', 2000n, 12n],
    ]);
    expect(setAside).toEqual([
      { type: 'set_aside', sourceLine: 4, reason: 'foreign_merchant', detail: expect.any(String) as string },
    ]);
    const refund = records[3]!;
    expect(refund).toMatchObject({
      channel: 'wechat',
      accountingDate: '2026-11-30',
      channelOrderNo: '4200001234202611300000000001',
      refundNo: 'rf-0001',
      channelRefundNo: '50000000012026113000001',
      currency: 'CNY',
      // 23:59:58 Beijing time is 15:59:58 UTC.
      channelTime: '2026-11-30T15:59:58.000Z',
      sourceLine: 6,
    });
  });

  it('reads the older published layout (总金额, 子商户号, 总交易额) and its sample rows', async () => {
    const { records } = await parseAll(wechatAllBillParser, [fixture('wechat-all-bill-2014.csv')], {
      ...WECHAT,
      merchantIds: ['10000100'],
    });
    expect(records.map((r) => [r.merchantOrderNo, r.amountMinor, r.channelTime])).toEqual([
      ['1415640626', 1n, '2014-11-10T08:33:45.000Z'],
      ['1415635270', 1n, '2014-11-10T08:46:14.000Z'],
    ]);
  });

  it('refuses a bill whose summary disagrees with its lines, or that has none', async () => {
    const text = fixture('wechat-all-bill.csv').toString('utf8');
    const tampered = Buffer.from(text.replace('`135.50', '`135.51'));
    expect(await rejection(parseAll(wechatAllBillParser, [tampered], WECHAT))).toBe('summary_mismatch');
    const cut = Buffer.from(text.slice(0, text.indexOf('总交易单数')));
    expect(await rejection(parseAll(wechatAllBillParser, [cut], WECHAT))).toBe('summary_missing');
    const other = Buffer.from('a,b,c\r\n1,2,3\r\n');
    expect(await rejection(parseAll(wechatAllBillParser, [other], WECHAT))).toBe('not_this_format');
  });

  it('sets aside a line of another app id', async () => {
    const { records, setAside } = await parseAll(wechatAllBillParser, [fixture('wechat-all-bill.csv')], {
      ...WECHAT,
      appIds: ['wx-someone-else'],
    });
    expect(records).toEqual([]);
    expect(new Set(setAside.map((item) => item.reason))).toEqual(new Set(['foreign_app', 'foreign_merchant']));
  });
});

const ALIPAY: StatementContext = {
  channel: 'alipay',
  accountingDate: '2026-11-30',
  merchantIds: ['2088101122136241'],
  appIds: [],
};

describe('the Alipay trade detail', () => {
  it('decodes GBK (even split mid-character), trims the tab padding, and normalises trades and the refund', async () => {
    const bytes = fixture('alipay-trade-detail.csv');
    expect(bytes.includes(Buffer.from('交易', 'utf8'))).toBe(false); // the file really is GBK
    for (const size of [1, 7, bytes.length]) {
      const { records, setAside } = await parseAll(alipayTradeDetailParser, chunked(bytes, size), ALIPAY);
      expect(setAside).toEqual([]);
      expect(records.map((r) => [r.kind, r.merchantOrderNo, r.refundNo, r.amountMinor, r.feeMinor])).toEqual([
        ['pay', 'cp-1001', null, 20000n, 120n],
        ['pay', 'cp-1002', null, 3500n, 21n],
        ['refund', 'cp-1001', 'rf-1001', 5000n, 30n],
      ]);
      expect(records[0]).toMatchObject({
        channelOrderNo: '2026113022001400001000000001',
        channelTime: '2026-11-30T02:00:05.000Z',
        sourceLine: 6,
      });
    }
  });

  it("refuses another account's file, and a summary that disagrees with the lines", async () => {
    const bytes = fixture('alipay-trade-detail.csv');
    expect(
      await rejection(parseAll(alipayTradeDetailParser, [bytes], { ...ALIPAY, merchantIds: ['2088000000000000'] })),
    ).toBe('foreign_account');
    const iconv = (await import('iconv-lite')).default;
    const text = iconv.decode(bytes, 'gbk').replace('交易合计：2笔', '交易合计：3笔');
    expect(await rejection(parseAll(alipayTradeDetailParser, [iconv.encode(text, 'gbk')], ALIPAY))).toBe(
      'summary_mismatch',
    );
  });
});

describe("the simulator's statement", () => {
  it("reads back what the simulator writes: its settled pays, payouts and refunds, another merchant's line set aside", async () => {
    const atMs = Date.parse('2026-11-30T08:00:00Z');
    const order = (orderNo: string, kind: 'PAY' | 'PAYOUT', amountMinor: bigint, feeMinor: bigint) => ({
      orderNo,
      channelOrderNo: `CH-${orderNo}`,
      kind,
      method: kind === 'PAY' ? ('QUICK' as const) : ('PAYOUT' as const),
      amountMinor,
      currency: 'CNY',
      requestKey: '',
      createdAtMs: atMs,
      notifyUrl: null,
      cardholder: null,
      state: 'SUCCESS' as const,
      feeMinor,
      completedAtMs: atMs,
      failCode: null,
      refundedMinor: 0n,
      settled: false,
      noticeSeq: 0,
    });
    const records = {
      orders: new Map([
        ['pay-1', order('pay-1', 'PAY', 12345n, 74n)],
        ['out-1', order('out-1', 'PAYOUT', 5000n, 100n)],
      ]),
      refunds: new Map([
        [
          'rf-1',
          {
            refundNo: 'rf-1',
            orderNo: 'pay-1',
            channelRefundNo: 'CHR-1',
            amountMinor: 345n,
            currency: 'CNY',
            requestKey: '',
            createdAtMs: atMs + 1_000,
            notifyUrl: null,
            state: 'SUCCESS' as const,
            completedAtMs: atMs + 1_000,
          },
        ],
      ]),
    } as unknown as ChannelRecords;
    const csv = statementCsv(records, 'SIMMCH01', '2026-11-30', 'Asia/Shanghai');
    const context = { channel: 'sim-bank', accountingDate: '2026-11-30', merchantIds: ['SIMMCH01'], appIds: [] };
    const { records: read } = await parseAll(simStatementParser, [Buffer.from(csv)], context);
    expect(
      read.map((r) => [r.kind, r.merchantOrderNo, r.refundNo, r.channelRefundNo, r.amountMinor, r.feeMinor]),
    ).toEqual([
      ['pay', 'pay-1', null, null, 12345n, 74n],
      ['payout', 'out-1', null, null, 5000n, 100n],
      ['refund', 'pay-1', 'rf-1', 'CHR-1', 345n, 0n],
    ]);
    const foreign = await parseAll(simStatementParser, [Buffer.from(csv)], { ...context, merchantIds: ['OTHER'] });
    expect(foreign.records).toEqual([]);
    expect(foreign.setAside.map((item) => item.reason)).toEqual([
      'foreign_merchant',
      'foreign_merchant',
      'foreign_merchant',
    ]);
  });
});

describe('our normalised statement', () => {
  const recordArbitrary: fc.Arbitrary<StatementRecord> = fc.record({
    channel: fc.constant('wechat'),
    accountingDate: fc.constant('2026-11-30'),
    kind: fc.constantFrom('pay' as const, 'payout' as const, 'refund' as const),
    status: fc.constantFrom('settled' as const, 'revoked' as const),
    channelOrderNo: fc.string({ minLength: 1, maxLength: 64 }),
    merchantOrderNo: fc.string({ minLength: 1, maxLength: 64 }),
    refundNo: fc.option(fc.string({ minLength: 1, maxLength: 64 })),
    channelRefundNo: fc.option(fc.string({ minLength: 1, maxLength: 64 })),
    amountMinor: fc.bigInt({ min: 1n, max: 10n ** 15n }),
    feeMinor: fc.bigInt({ min: 0n, max: 10n ** 9n }),
    currency: fc.constantFrom('CNY' as const, 'USD' as const),
    channelTime: fc
      .integer({ min: Date.parse('2026-11-29T00:00:00Z'), max: Date.parse('2026-12-01T00:00:00Z') })
      .map((ms) => new Date(ms).toISOString()),
    sourceLine: fc.integer({ min: 1, max: 1_000_000 }),
  }) as fc.Arbitrary<StatementRecord>;

  it('gives back, line for line, the records written to it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArbitrary, { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        async (written, size) => {
          const bytes = Buffer.from(written.map(normalisedLine).join(''));
          const { records, setAside } = await parseAll(normalisedStatementParser, chunked(bytes, size), {
            channel: 'wechat',
            accountingDate: '2026-11-30',
            merchantIds: ['x'],
            appIds: [],
          });
          expect(setAside).toEqual([]);
          expect(records).toEqual(written);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('every format is found by the name channels give it', () => {
    for (const format of ['wechat-all/1', 'alipay-detail/1', 'sim-statement-csv/1', 'ledger-normalised/1'])
      expect(statementParserFor(format)?.format).toBe(format);
    expect(statementParserFor('fax/1')).toBeUndefined();
  });
});

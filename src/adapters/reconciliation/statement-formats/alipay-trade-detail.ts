import { parseCurrency } from '../../../domain/money/money.js';
import {
  StatementRejectedError,
  type StatementContext,
  type StatementItem,
  type StatementParser,
  type StatementTotals,
} from '../../../ports/statement-parser.js';
import { lineItem, setAside } from './statement-line.js';
import { RunningTotals, csvRows, localTimeToUtc, statementAmountMinor } from './statement-rows.js';

/**
 * The Alipay trade detail (业务明细), as its public description lays it out: GBK text (read as GB18030, its
 * superset), comment lines starting with `#` before the table (title, `#账号：[<account>]`, the period) and
 * after it (`#交易合计：N笔，商家实收共X元，...`, `#退款合计：...`, the export time), and between them a CSV
 * table whose fields are padded with a tab. Amounts are yuan; times are Beijing time.
 *
 * The account is the file's, not each line's: a file of another account is refused whole. A `交易` line is
 * a pay of `订单金额（元）`; a `退款` line a refund of what the merchant gave back (`商家实收（元）`, printed
 * negative), numbered by `退款批次号/请求号` (our refund id as sent). `服务费（元）` is the fee (its sign as
 * the file prints it; the record keeps its size). The summary lines give counts and `商家实收` totals.
 */
export const ALIPAY_TRADE_DETAIL_FORMAT = 'alipay-detail/1';
const BEIJING = 'Asia/Shanghai';
const CURRENCY = parseCurrency('CNY');

const COLUMNS = {
  channelOrderNo: '支付宝交易号',
  merchantOrderNo: '商户订单号',
  business: '业务类型',
  createdTime: '创建时间',
  completedTime: '完成时间',
  orderAmount: '订单金额（元）',
  received: '商家实收（元）',
  refundNo: '退款批次号/请求号',
  fee: '服务费（元）',
} as const;
type Column = keyof typeof COLUMNS;

const ACCOUNT = /^#账号：\[([^\]]+)\]/;
const PAY_SUMMARY = /^#交易合计：(\d+)笔，商家实收共(-?[0-9.]+)元/;
const REFUND_SUMMARY = /^#退款合计：(\d+)笔，商家实收退款共(-?[0-9.]+)元/;

export const alipayTradeDetailParser: StatementParser = {
  format: ALIPAY_TRADE_DETAIL_FORMAT,
  async *parse(bytes, context: StatementContext): AsyncIterable<StatementItem> {
    let account: string | null = null;
    let columns: Record<Column, number> | null = null;
    const summary: { -readonly [K in keyof StatementTotals]?: StatementTotals[K] } = {};
    const totals = new RunningTotals();
    for await (const { fields, line } of csvRows(bytes, 'gb18030')) {
      const first = fields[0] ?? '';
      if (first.startsWith('#')) {
        // A comment line is one field: its commas are full-width (，), which CSV does not split on.
        const comment = fields.join(',');
        const accountMatch = ACCOUNT.exec(comment);
        if (accountMatch) account = accountMatch[1]!;
        const pays = PAY_SUMMARY.exec(comment);
        if (pays) {
          summary.payCount = Number(pays[1]);
          summary.payAmountMinor = statementAmountMinor(pays[2]!, CURRENCY);
        }
        const refunds = REFUND_SUMMARY.exec(comment);
        if (refunds) {
          summary.refundCount = Number(refunds[1]);
          summary.refundAmountMinor = statementAmountMinor(refunds[2]!, CURRENCY);
        }
        continue;
      }
      if (account === null)
        throw new StatementRejectedError('not_this_format', `line ${line}: no #账号 line before the Alipay table`);
      if (!context.merchantIds.includes(account))
        throw new StatementRejectedError('foreign_account', 'the Alipay detail is of an account that is not ours');
      if (columns === null) {
        columns = headerColumns(fields);
        continue;
      }
      totals.lines += 1;
      yield alipayLine(fields, columns, line, context, totals);
    }
    if (columns === null) throw new StatementRejectedError('not_this_format', 'no Alipay detail table in the file');
    if (summary.payCount === undefined || summary.refundCount === undefined)
      throw new StatementRejectedError('summary_missing', 'the Alipay detail has no #交易合计 / #退款合计 lines');
    totals.check(summary, ALIPAY_TRADE_DETAIL_FORMAT);
  },
};

function headerColumns(header: readonly string[]): Record<Column, number> {
  const indexes = {} as Record<Column, number>;
  for (const [key, name] of Object.entries(COLUMNS) as [Column, string][]) {
    const index = header.indexOf(name);
    if (index < 0) throw new StatementRejectedError('not_this_format', `no column ${name} in an Alipay detail`);
    indexes[key] = index;
  }
  return indexes;
}

function alipayLine(
  fields: readonly string[],
  columns: Record<Column, number>,
  sourceLine: number,
  context: StatementContext,
  totals: RunningTotals,
): StatementItem {
  const field = (column: Column) => fields[columns[column]] ?? '';
  let orderAmountMinor: bigint;
  let receivedMinor: bigint;
  let feeMinor: bigint;
  let channelTime: string;
  try {
    orderAmountMinor = statementAmountMinor(field('orderAmount'), CURRENCY);
    receivedMinor = statementAmountMinor(field('received'), CURRENCY);
    feeMinor = statementAmountMinor(field('fee') || '0', CURRENCY);
    channelTime = localTimeToUtc(field('completedTime') || field('createdTime'), BEIJING);
  } catch (error) {
    return setAside(sourceLine, 'bad_line', (error as Error).message);
  }
  const business = field('business');
  const common = {
    channel: context.channel,
    accountingDate: context.accountingDate,
    status: 'settled' as const,
    channelOrderNo: field('channelOrderNo'),
    merchantOrderNo: field('merchantOrderNo'),
    channelRefundNo: null,
    currency: CURRENCY,
    channelTime,
    sourceLine,
    feeMinor: (feeMinor < 0n ? -feeMinor : feeMinor).toString(),
  };
  if (business === '交易') {
    totals.payCount += 1;
    totals.payAmountMinor += receivedMinor;
    return lineItem({ ...common, kind: 'pay', refundNo: null, amountMinor: orderAmountMinor.toString() });
  }
  if (business === '退款') {
    totals.refundCount += 1;
    totals.refundAmountMinor += receivedMinor;
    const refundedMinor = receivedMinor < 0n ? -receivedMinor : receivedMinor;
    return lineItem({ ...common, kind: 'refund', refundNo: field('refundNo'), amountMinor: refundedMinor.toString() });
  }
  return setAside(sourceLine, 'unknown_kind', `业务类型 ${business || 'empty'} is neither 交易 nor 退款`);
}

import { parseCurrency } from '../../../domain/money/money.js';
import {
  StatementRejectedError,
  type StatementContext,
  type StatementItem,
  type StatementParser,
  type StatementTotals,
} from '../../../ports/statement-parser.js';
import { isOurMerchant, lineItem, setAside } from './statement-line.js';
import { RunningTotals, csvRows, localTimeToUtc, statementAmountMinor } from './statement-rows.js';

/**
 * The WeChat Pay merchant bill, type ALL (`downloadbill` with `bill_type=ALL`), as its public description
 * lays it out: UTF-8 CSV, a header row of Chinese column names, then one row per payment, refund or
 * revocation with every field prefixed by a backtick (so spreadsheets keep long numbers as text), then a
 * summary header (`总交易单数,...`) and one summary row, also backticked. Times are Beijing time.
 *
 * Columns are found by name, so both published layouts read: the older (总金额, 子商户号, 总交易额 ...) and
 * the current (应结订单金额, 特约商户号, 应结订单总金额 ...). Rows: `交易状态` SUCCESS is a pay, REFUND a
 * refund (its 退款金额; settled only when `退款状态` is SUCCESS), REVOKED a pay voided the same day.
 * `手续费` is positive on a pay and negative on a refund (the fee given back); the summary's fee total is
 * their sum as printed.
 */
export const WECHAT_ALL_BILL_FORMAT = 'wechat-all/1';
const BEIJING = 'Asia/Shanghai';

const COLUMNS = {
  time: ['交易时间'],
  appId: ['公众账号ID'],
  merchantId: ['商户号'],
  subMerchantId: ['特约商户号', '子商户号'],
  channelOrderNo: ['微信订单号'],
  merchantOrderNo: ['商户订单号'],
  state: ['交易状态'],
  currency: ['货币种类'],
  amount: ['应结订单金额', '总金额'],
  channelRefundNo: ['微信退款单号'],
  refundNo: ['商户退款单号'],
  refundAmount: ['退款金额'],
  refundState: ['退款状态'],
  fee: ['手续费'],
} as const;
type Column = keyof typeof COLUMNS;

const SUMMARY = {
  lines: ['总交易单数'],
  payAmountMinor: ['应结订单总金额', '总交易额'],
  refundAmountMinor: ['退款总金额', '总退款金额'],
  feeMinor: ['手续费总金额'],
} as const;

const unticked = (field: string) => (field.startsWith('`') ? field.slice(1) : field);

function columnIndexes<K extends string>(
  header: readonly string[],
  names: Readonly<Record<K, readonly string[]>>,
): Record<K, number> {
  const indexes = {} as Record<K, number>;
  for (const [key, aliases] of Object.entries(names) as [K, readonly string[]][]) {
    const index = header.findIndex((name) => aliases.includes(name));
    if (index < 0 && key !== 'subMerchantId')
      throw new StatementRejectedError('not_this_format', `no column ${aliases.join(' or ')} in a WeChat Pay bill`);
    indexes[key] = index;
  }
  return indexes;
}

export const wechatAllBillParser: StatementParser = {
  format: WECHAT_ALL_BILL_FORMAT,
  async *parse(bytes, context: StatementContext): AsyncIterable<StatementItem> {
    let columns: Record<Column, number> | null = null;
    let summaryColumns: Record<keyof typeof SUMMARY, number> | null = null;
    let summary: Partial<StatementTotals> | null = null;
    const totals = new RunningTotals();
    for await (const { fields, line } of csvRows(bytes, 'utf8')) {
      if (columns === null) {
        columns = columnIndexes(fields, COLUMNS);
        continue;
      }
      if (summary !== null)
        throw new StatementRejectedError('not_this_format', `line ${line}: a row after the WeChat Pay bill's summary`);
      if (summaryColumns !== null) {
        const value = (index: number) => unticked(fields[index] ?? '');
        // The summary names no currency: a domestic bill's totals are yuan (two decimals).
        const currency = parseCurrency('CNY');
        summary = {
          lines: Number(value(summaryColumns.lines)),
          payAmountMinor: statementAmountMinor(value(summaryColumns.payAmountMinor), currency),
          refundAmountMinor: statementAmountMinor(value(summaryColumns.refundAmountMinor), currency),
          feeMinor: statementAmountMinor(value(summaryColumns.feeMinor), currency),
        };
        continue;
      }
      if (fields[0] === SUMMARY.lines[0]) {
        summaryColumns = columnIndexes(fields, SUMMARY);
        continue;
      }
      totals.lines += 1;
      yield wechatLine(fields.map(unticked), columns, line, context, totals);
    }
    if (summary === null) throw new StatementRejectedError('summary_missing', 'the WeChat Pay bill has no summary row');
    totals.check(summary, WECHAT_ALL_BILL_FORMAT);
  },
};

function wechatLine(
  fields: readonly string[],
  columns: Record<Column, number>,
  sourceLine: number,
  context: StatementContext,
  totals: RunningTotals,
): StatementItem {
  const field = (column: Column) => (columns[column] < 0 ? '' : (fields[columns[column]] ?? ''));
  let currency;
  let amountMinor: bigint;
  let refundAmountMinor: bigint;
  let feeMinor: bigint;
  let channelTime: string;
  try {
    currency = parseCurrency(field('currency'));
    amountMinor = statementAmountMinor(field('amount'), currency);
    refundAmountMinor = statementAmountMinor(field('refundAmount') || '0', currency);
    feeMinor = statementAmountMinor(field('fee') || '0', currency);
    channelTime = localTimeToUtc(field('time'), BEIJING);
  } catch (error) {
    return setAside(sourceLine, 'bad_line', (error as Error).message);
  }
  const state = field('state');
  // The summary adds up every row it printed, ours or not: count them before judging the row.
  if (state === 'REFUND') {
    totals.refundCount += 1;
    totals.refundAmountMinor += refundAmountMinor;
  } else if (state === 'SUCCESS') {
    totals.payCount += 1;
    totals.payAmountMinor += amountMinor;
  }
  totals.feeMinor += feeMinor;
  if (!isOurMerchant(context, field('merchantId'), field('subMerchantId')))
    return setAside(sourceLine, 'foreign_merchant', 'the line names a merchant number that is not ours');
  if (context.appIds.length > 0 && !context.appIds.includes(field('appId')))
    return setAside(sourceLine, 'foreign_app', 'the line names an app id that is not ours');
  const common = {
    channel: context.channel,
    accountingDate: context.accountingDate,
    channelOrderNo: field('channelOrderNo'),
    merchantOrderNo: field('merchantOrderNo'),
    currency,
    channelTime,
    sourceLine,
    feeMinor: (feeMinor < 0n ? -feeMinor : feeMinor).toString(),
  };
  switch (state) {
    case 'SUCCESS':
    case 'REVOKED':
      return lineItem({
        ...common,
        kind: 'pay',
        status: state === 'SUCCESS' ? 'settled' : 'revoked',
        refundNo: null,
        channelRefundNo: null,
        amountMinor: amountMinor.toString(),
      });
    case 'REFUND':
      if (field('refundState') !== 'SUCCESS')
        return setAside(sourceLine, 'not_settled', `a refund whose state is ${field('refundState') || 'empty'}`);
      return lineItem({
        ...common,
        kind: 'refund',
        status: 'settled',
        refundNo: field('refundNo'),
        channelRefundNo: field('channelRefundNo'),
        amountMinor: refundAmountMinor.toString(),
      });
    default:
      return setAside(sourceLine, 'unknown_kind', `交易状态 ${state || 'empty'} is none of SUCCESS, REFUND, REVOKED`);
  }
}

import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import { formatAmount, parseCurrency } from '../../../domain/money/money.js';
import type { ChannelRecords } from './simulator-records.js';

/**
 * The simulator's statement of one accounting day (its time zone), format `sim-statement-csv/1`: RFC 4180
 * CSV written by csv-stringify, one header row, then every payment, payout and refund that completed
 * successfully that day, in completion order. Amounts and fees are major-unit decimals as channels print
 * them; a refund's fee column is 0.00 (these channels keep the original fee). A voided charge never
 * settles and is not listed.
 */
export const STATEMENT_FORMAT = 'sim-statement-csv/1';

export const STATEMENT_COLUMNS = [
  'trade_time',
  'mch_id',
  'trade_no',
  'out_trade_no',
  'type',
  'out_refund_no',
  'refund_no',
  'ccy',
  'amount',
  'fee',
  'state',
] as const;

export function statementCsv(
  records: ChannelRecords,
  merchantId: string,
  accountingDate: string,
  timeZone: string,
): string {
  const day = DateTime.fromISO(accountingDate, { zone: timeZone });
  const fromMs = day.startOf('day').toMillis();
  const toMs = day.plus({ days: 1 }).startOf('day').toMillis();
  const within = (atMs: number | null): atMs is number => atMs !== null && atMs >= fromMs && atMs < toMs;
  const time = (atMs: number) => DateTime.fromMillis(atMs, { zone: timeZone }).toISO()!;
  const rows: { atMs: number; fields: string[] }[] = [];
  for (const order of records.orders.values()) {
    // A charge later refunded in full still settled that day: it is listed as paid, the refund beside it.
    if (!within(order.completedAtMs) || order.state !== 'SUCCESS') continue;
    const currency = parseCurrency(order.currency);
    rows.push({
      atMs: order.completedAtMs,
      fields: [
        time(order.completedAtMs),
        merchantId,
        order.channelOrderNo,
        order.orderNo,
        order.kind,
        '',
        '',
        order.currency,
        formatAmount(order.amountMinor, currency),
        formatAmount(order.feeMinor, currency),
        order.state,
      ],
    });
  }
  for (const refund of records.refunds.values()) {
    if (!within(refund.completedAtMs) || refund.state !== 'SUCCESS') continue;
    const order = records.orders.get(refund.orderNo)!;
    const currency = parseCurrency(refund.currency);
    rows.push({
      atMs: refund.completedAtMs,
      fields: [
        time(refund.completedAtMs),
        merchantId,
        order.channelOrderNo,
        refund.orderNo,
        'REFUND',
        refund.refundNo,
        refund.channelRefundNo,
        refund.currency,
        formatAmount(refund.amountMinor, currency),
        formatAmount(0n, currency),
        refund.state,
      ],
    });
  }
  rows.sort((a, b) => a.atMs - b.atMs);
  return stringify(
    rows.map((row) => row.fields),
    { header: true, columns: [...STATEMENT_COLUMNS], record_delimiter: 'windows' },
  );
}

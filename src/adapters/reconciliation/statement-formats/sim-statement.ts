import { DateTime } from 'luxon';
import { parseCurrency } from '../../../domain/money/money.js';
import type { StatementKind } from '../../../domain/reconciliation/statement-record.js';
import {
  StatementRejectedError,
  type StatementContext,
  type StatementItem,
  type StatementParser,
} from '../../../ports/statement-parser.js';
import { STATEMENT_COLUMNS, STATEMENT_FORMAT } from '../../channels/simulator/statement-file.js';
import { isOurMerchant, lineItem, setAside } from './statement-line.js';
import { csvRows, statementAmountMinor } from './statement-rows.js';

/**
 * The simulated channels' statement (`sim-statement-csv/1`, written by the simulator's statement-file.ts):
 * RFC 4180 CSV, one header row of exactly its columns, then one row per settled pay, payout and refund
 * with an ISO-8601 time carrying its offset. It has no summary, so only its lines are checked.
 */
const KINDS: Readonly<Record<string, StatementKind>> = { PAY: 'pay', PAYOUT: 'payout', REFUND: 'refund' };

export const simStatementParser: StatementParser = {
  format: STATEMENT_FORMAT,
  async *parse(bytes, context: StatementContext): AsyncIterable<StatementItem> {
    let headerSeen = false;
    for await (const { fields, line } of csvRows(bytes, 'utf8')) {
      if (!headerSeen) {
        if (fields.join(',') !== STATEMENT_COLUMNS.join(','))
          throw new StatementRejectedError('not_this_format', `the header is not ${STATEMENT_COLUMNS.join(',')}`);
        headerSeen = true;
        continue;
      }
      yield simLine(fields, line, context);
    }
    if (!headerSeen) throw new StatementRejectedError('not_this_format', 'an empty file has no statement header');
  },
};

function simLine(fields: readonly string[], sourceLine: number, context: StatementContext): StatementItem {
  const [tradeTime, merchantId, tradeNo, outTradeNo, type, outRefundNo, refundNo, ccy, amount, fee, state] = fields;
  if (fields.length !== STATEMENT_COLUMNS.length)
    return setAside(sourceLine, 'bad_line', `${fields.length} fields, not ${STATEMENT_COLUMNS.length}`);
  if (!isOurMerchant(context, merchantId))
    return setAside(sourceLine, 'foreign_merchant', 'the line names a merchant number that is not ours');
  const kind = KINDS[type ?? ''];
  if (kind === undefined)
    return setAside(sourceLine, 'unknown_kind', `type ${type || 'empty'} is not PAY, PAYOUT, REFUND`);
  if (state !== 'SUCCESS') return setAside(sourceLine, 'not_settled', `state ${state || 'empty'}`);
  const time = DateTime.fromISO(tradeTime ?? '', { setZone: true });
  try {
    if (!time.isValid) throw new Error(`trade_time "${tradeTime}" is not an ISO-8601 time`);
    const currency = parseCurrency(ccy ?? '');
    return lineItem({
      channel: context.channel,
      accountingDate: context.accountingDate,
      kind,
      status: 'settled',
      channelOrderNo: tradeNo ?? '',
      merchantOrderNo: outTradeNo ?? '',
      refundNo: kind === 'refund' ? (outRefundNo ?? '') : null,
      channelRefundNo: kind === 'refund' ? (refundNo ?? '') : null,
      amountMinor: statementAmountMinor(amount ?? '', currency).toString(),
      feeMinor: statementAmountMinor(fee ?? '', currency).toString(),
      currency,
      channelTime: time.toUTC().toISO(),
      sourceLine,
    });
  } catch (error) {
    return setAside(sourceLine, 'bad_line', (error as Error).message);
  }
}

import type { StatementParser } from '../../../ports/statement-parser.js';
import { alipayTradeDetailParser } from './alipay-trade-detail.js';
import { normalisedStatementParser } from './normalised-statement.js';
import { simStatementParser } from './sim-statement.js';
import { wechatAllBillParser } from './wechat-all-bill.js';

/**
 * Every statement format reconciliation reads, by the name a channel's `Statement.format` (or an
 * operator's import) gives. A new channel's format is one parser file and one line here.
 */
export const STATEMENT_PARSERS: ReadonlyMap<string, StatementParser> = new Map(
  [wechatAllBillParser, alipayTradeDetailParser, simStatementParser, normalisedStatementParser].map((parser) => [
    parser.format,
    parser,
  ]),
);

export function statementParserFor(format: string): StatementParser | undefined {
  return STATEMENT_PARSERS.get(format);
}

import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { statementRecord, type StatementRecord } from '../../../domain/reconciliation/statement-record.js';
import type { StatementContext, StatementItem, StatementParser } from '../../../ports/statement-parser.js';
import { setAside } from './statement-line.js';
import { MAX_STATEMENT_LINES } from './statement-rows.js';
import { StatementRejectedError } from '../../../ports/statement-parser.js';

/**
 * Our normalised statement (`ledger-normalised/1`): JSON Lines, one StatementRecord per line as its zod
 * schema encodes it (amounts as decimal strings of minor units). What reconciliation writes under
 * `DATA_DIR/recon/<channel>/<date>/` after reading a channel's file, and what it reads back for a run: a
 * file is appended line by line and read the same way, so a day of a million lines is never held whole.
 */
export const NORMALISED_STATEMENT_FORMAT = 'ledger-normalised/1';

export function normalisedLine(record: StatementRecord): string {
  return `${JSON.stringify(statementRecord.encode(record))}\n`;
}

export const normalisedStatementParser: StatementParser = {
  format: NORMALISED_STATEMENT_FORMAT,
  async *parse(bytes, context: StatementContext): AsyncIterable<StatementItem> {
    let sourceLine = 0;
    const lines = createInterface({ input: Readable.from(bytes), crlfDelay: Infinity });
    for await (const text of lines) {
      sourceLine += 1;
      if (sourceLine > MAX_STATEMENT_LINES)
        throw new StatementRejectedError('too_many_lines', `a statement has at most ${MAX_STATEMENT_LINES} lines`);
      if (text.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        yield setAside(sourceLine, 'bad_line', 'not JSON');
        continue;
      }
      const decoded = statementRecord.safeDecode(json as never);
      if (!decoded.success) {
        yield setAside(sourceLine, 'bad_line', decoded.error.issues.map((issue) => issue.path.join('.')).join(', '));
        continue;
      }
      const record = decoded.data;
      if (record.channel !== context.channel || record.accountingDate !== context.accountingDate) {
        yield setAside(sourceLine, 'bad_line', `a line of ${record.channel} ${record.accountingDate}`);
        continue;
      }
      yield { type: 'record', record };
    }
  },
};

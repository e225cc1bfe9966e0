import { Readable, Transform, pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { DateTime } from 'luxon';
import { parseLimit } from '../../../domain/money/money.js';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { StatementRejectedError, type StatementTotals } from '../../../ports/statement-parser.js';

/** A statement longer than this is not one channel's day for one merchant: refused rather than read on. */
export const MAX_STATEMENT_LINES = 5_000_000;
/** A field longer than this is not a statement's (csv-parse refuses it: a runaway quote cannot eat the file). */
const MAX_FIELD_CHARS = 4_096;

export interface CsvRow {
  readonly fields: readonly string[];
  /** The file line the row ends on, 1-based. */
  readonly line: number;
}

/**
 * A statement file's CSV rows, streaming, through the `csv` project's parser (quotes, CRLF, a BOM, rows of
 * any width: the summary rows are narrower than the table), decoded from `encoding` by iconv-lite. Fields
 * are trimmed of spaces and tabs around the delimiter (the Alipay detail pads every field with a tab).
 */
export function csvRows(
  bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  encoding: 'utf8' | 'gbk' | 'gb18030',
): AsyncIterable<CsvRow> {
  const decoder: NodeJS.ReadWriteStream = encoding === 'utf8' ? passThrough() : iconv.decodeStream(encoding);
  const parser = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
    max_record_size: MAX_FIELD_CHARS * 64,
  });
  // pipeline destroys every stream when one fails, so a read error surfaces in the loop below.
  const rows = pipeline(Readable.from(bytes), decoder, parser, () => {});
  return (async function* () {
    for await (const { record, info } of rows as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (info.lines > MAX_STATEMENT_LINES)
        throw new StatementRejectedError('too_many_lines', `a statement has at most ${MAX_STATEMENT_LINES} lines`);
      yield { fields: record, line: info.lines };
    }
  })();
}

function passThrough(): Transform {
  return new Transform({ transform: (chunk: Buffer, _encoding, done) => done(null, chunk) });
}

/** A signed major-unit decimal from a statement ("-0.01", "0.0", "12") in minor units; throws on other text. */
export function statementAmountMinor(text: string, currency: CurrencyCode): bigint {
  const negative = text.startsWith('-');
  const { amountMinor } = parseLimit(negative ? text.slice(1) : text, currency);
  return negative ? -amountMinor : amountMinor;
}

/** A local "yyyy-MM-dd HH:mm:ss" in the channel's zone (WeChat Pay and Alipay print Beijing time) as UTC. */
export function localTimeToUtc(text: string, zone: string): string {
  const time = DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone });
  if (!time.isValid) throw new Error(`"${text}" is not a time "yyyy-MM-dd HH:mm:ss"`);
  return time.toUTC().toISO();
}

/** Running totals of the lines read, to check against the file's own summary at its end. */
export class RunningTotals implements StatementTotals {
  lines = 0;
  payCount = 0;
  payAmountMinor = 0n;
  refundCount = 0;
  refundAmountMinor = 0n;
  feeMinor = 0n;

  /** Refuses the file when what its summary says (only the figures it gives) is not what its lines add up to. */
  check(summary: Partial<StatementTotals>, format: string): void {
    const differences = (Object.keys(summary) as (keyof StatementTotals)[])
      .filter((key) => summary[key] !== this[key])
      .map((key) => `${key}: summary ${String(summary[key])}, lines ${String(this[key])}`);
    if (differences.length > 0)
      throw new StatementRejectedError(
        'summary_mismatch',
        `the ${format} summary disagrees with its lines (${differences.join('; ')})`,
      );
  }
}

import {
  statementRecord,
  type StatementRecordJson,
  type StatementRecord,
} from '../../../domain/reconciliation/statement-record.js';
import type { StatementItem, StatementContext, SetAsideReason } from '../../../ports/statement-parser.js';

/** The normalised record of a line, or the line set aside when a field breaks the record's schema. */
export function lineItem(json: StatementRecordJson): StatementItem {
  const decoded = statementRecord.safeDecode(json);
  if (decoded.success) return { type: 'record', record: decoded.data satisfies StatementRecord };
  const fields = decoded.error.issues.map((issue) => issue.path.join('.')).join(', ');
  return setAside(json.sourceLine, 'bad_line', `fields not as a statement line has them: ${fields}`);
}

export function setAside(sourceLine: number, reason: SetAsideReason, detail: string): StatementItem {
  return { type: 'set_aside', sourceLine, reason, detail };
}

/** A line's merchant (or its sub-merchant, for a service provider's bill) must be one of ours. */
export function isOurMerchant(context: StatementContext, ...ids: readonly (string | undefined)[]): boolean {
  return ids.some((id) => id !== undefined && id !== '' && context.merchantIds.includes(id));
}

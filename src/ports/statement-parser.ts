import type { StatementRecord } from '../domain/reconciliation/statement-record.js';

/**
 * Reading one channel statement file into normalised records, streaming: a parser never holds the file,
 * only the line it is on and its running totals, so a million-line day fits in bounded memory.
 */

/** Who we are at the channel: a line naming another merchant or app is set aside, never matched. */
export interface StatementContext {
  readonly channel: string;
  readonly accountingDate: string;
  /** Our merchant numbers (or account) at the channel; at least one. */
  readonly merchantIds: readonly string[];
  /** Our app ids at the channel, where its statement names one (WeChat Pay); empty: not checked. */
  readonly appIds: readonly string[];
}

/** Why a line was set aside rather than normalised: the file is still ours and whole. */
export const SET_ASIDE_REASONS = [
  'foreign_merchant',
  'foreign_app',
  'unknown_kind',
  'not_settled',
  'bad_line',
] as const;
export type SetAsideReason = (typeof SET_ASIDE_REASONS)[number];

export type StatementItem =
  | { readonly type: 'record'; readonly record: StatementRecord }
  | {
      readonly type: 'set_aside';
      readonly sourceLine: number;
      readonly reason: SetAsideReason;
      /** What was wrong, without the line's content (it may name another merchant's customers). */
      readonly detail: string;
    };

/** What the file says about itself (its summary), checked against its lines once they are all read. */
export interface StatementTotals {
  readonly lines: number;
  readonly payCount: number;
  readonly payAmountMinor: bigint;
  readonly refundCount: number;
  readonly refundAmountMinor: bigint;
  readonly feeMinor: bigint;
}

/** The whole file is refused: not ours, not this format, or its summary disagrees with its lines. */
export const STATEMENT_REJECTIONS = [
  'not_this_format',
  'foreign_account',
  'summary_missing',
  'summary_mismatch',
  'too_many_lines',
] as const;
export type StatementRejection = (typeof STATEMENT_REJECTIONS)[number];

export class StatementRejectedError extends Error {
  override readonly name = 'StatementRejectedError';
  constructor(
    readonly reason: StatementRejection,
    message: string,
  ) {
    super(message);
  }
}

export interface StatementParser {
  /** The format's name and version, as a channel's `Statement.format` names it (e.g. `wechat-all/1`). */
  readonly format: string;
  /**
   * The file's items in file order. Throws StatementRejectedError (after some items, when the summary at
   * the end disagrees: a caller keeps nothing of a rejected file).
   */
  parse(
    bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    context: StatementContext,
  ): AsyncIterable<StatementItem>;
}

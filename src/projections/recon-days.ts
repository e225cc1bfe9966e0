import type { LedgerEvent } from '../domain/event-catalogue.js';
import { isBreak } from '../domain/reconciliation/match-classes.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { compositeKey } from './read-model-keys.js';

/**
 * Reconciliation days: one document per channel per accounting day, from the day's stream (downloads,
 * files stored and refused, runs) and the breaks' streams (how many of the day's breaks are open). The
 * view an operator starts from: did the statement come, was the day run, what did the run find, what is
 * still open. Amounts in minor units (strings), per currency.
 *
 * Status: `open` until the day's current file has been run (a new file after a run opens it again),
 * then `reconciled` (the run found no break) or `reconciled_with_breaks`. Open breaks count the day's
 * breaks (by their origin day) found or re-opened and not since cleared or resolved: the break deciders
 * clear or resolve only an open break and re-open only a closed one, so each event moves the count once.
 */
export const RECON_DAYS_PROJECTION = 'recon-days';
export const RECON_DAYS_COLLECTION = 'recon_days';

export const RECON_DAY_STATUSES = ['open', 'reconciled', 'reconciled_with_breaks'] as const;
export type ReconDayStatus = (typeof RECON_DAY_STATUSES)[number];
/** waiting: no file yet (not asked, or retrying); failed: attempts used up, an operator must act. */
export const DOWNLOAD_STATUSES = ['waiting', 'failed', 'stored'] as const;
export type DownloadStatus = (typeof DOWNLOAD_STATUSES)[number];

export type AmountMinor = { currency: string; amountMinor: string };

export type ReconDayDocument = {
  channel: string;
  accountingDate: string;
  /** `<channel>|<date>`: one channel's days in date order, as one index range. */
  channelDateKey: string;
  /** `<date>|<channel>`: every channel's days in date order. */
  dateChannelKey: string;
  status: ReconDayStatus;
  download: {
    status: DownloadStatus;
    /** Failed attempts since the last file stored. */
    attempts: number;
    nextAttemptAt: string | null;
    /** The last download failure or file refused: why (a DownloadFailure or a StatementRejection). */
    lastProblem: { kind: 'download_failed' | 'file_refused'; reason: string; detail: string; at: string } | null;
  };
  /** The file stored now; null until one is. */
  statement: {
    fileSha256: string;
    source: string;
    format: string;
    lineCount: number;
    setAsideCount: number;
    storedAt: string;
  } | null;
  /** The last run; null until the day is run. */
  run: {
    runId: string;
    statementSha256: string | null;
    ranBy: string;
    ranAt: string;
    statementLines: number;
    ourOrders: number;
    matchedCount: number;
    matchedAmounts: AmountMinor[];
    breakCount: number;
    breaks: { matchClass: string; count: number; amounts: AmountMinor[] }[];
    pending: number;
    carriedIn: number;
    /** The previous day's run whose pool was carried in; null: that day was never run. */
    carriedFromRunId: string | null;
    fees: { currency: string; oursMinor: string; theirsMinor: string }[];
  } | null;
  openBreaks: number;
  updatedAt: string;
};

export function reconDayId(channel: string, accountingDate: string): string {
  return `${channel}:${accountingDate}`;
}

/** `<channel>:<originDate>:<digest>` (break-events.ts): the day a break belongs to. */
const BREAK_ID = /^(.+):(\d{4}-\d{2}-\d{2}):[^:]+$/;

export function breakDayOf(breakId: string): { channel: string; accountingDate: string } {
  const match = BREAK_ID.exec(breakId);
  if (!match) throw new Error(`recon-days: a break id ${breakId} that names no day`);
  return { channel: match[1]!, accountingDate: match[2]! };
}

function emptyDay(channel: string, accountingDate: string, at: string): ReconDayDocument {
  return {
    channel,
    accountingDate,
    channelDateKey: compositeKey(channel, accountingDate),
    dateChannelKey: compositeKey(accountingDate, channel),
    status: 'open',
    download: { status: 'waiting', attempts: 0, nextAttemptAt: null, lastProblem: null },
    statement: null,
    run: null,
    openBreaks: 0,
    updatedAt: at,
  };
}

function statusOf(doc: ReconDayDocument): ReconDayStatus {
  if (doc.run === null || doc.statement === null || doc.run.statementSha256 !== doc.statement.fileSha256) return 'open';
  return doc.run.breakCount === 0 ? 'reconciled' : 'reconciled_with_breaks';
}

const amounts = (list: readonly { currency: string; amountMinor: bigint }[]): AmountMinor[] =>
  list.map(({ currency, amountMinor }) => ({ currency, amountMinor: amountMinor.toString() }));

export const reconDaysProjection: Projection = {
  name: RECON_DAYS_PROJECTION,
  version: 1,
  collections: [{ name: RECON_DAYS_COLLECTION, indexes: ['channelDateKey', 'dateChannelKey', 'status'] }],
  eventTypes: [
    'StatementDownloadFailed',
    'StatementStored',
    'StatementRejected',
    'ReconciliationRunCompleted',
    'BreakFound',
    'BreakCleared',
    'BreakResolved',
    'BreakReopened',
  ],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    const at = envelope.metadata.occurredAt;
    const day = (
      channel: string,
      accountingDate: string,
      change: (doc: ReconDayDocument) => Partial<ReconDayDocument>,
    ): DocumentChange[] => [
      {
        collection: RECON_DAYS_COLLECTION,
        id: reconDayId(channel, accountingDate),
        apply: (previous) => {
          const doc = (previous as ReconDayDocument | null) ?? emptyDay(channel, accountingDate, at);
          const next = { ...doc, ...change(doc), updatedAt: at };
          return { ...next, status: statusOf(next) };
        },
      },
    ];
    const openBreaks = (breakId: string, delta: 1 | -1) => {
      const { channel, accountingDate } = breakDayOf(breakId);
      return day(channel, accountingDate, (doc) => ({ openBreaks: doc.openBreaks + delta }));
    };
    switch (event.type) {
      case 'StatementDownloadFailed': {
        const d = event.data;
        return day(d.channel, d.accountingDate, (doc) => ({
          download: {
            // A failed attempt after a file was stored (an operator's retry) leaves the file in place.
            status: doc.statement !== null ? 'stored' : d.nextAttemptAt === null ? 'failed' : 'waiting',
            attempts: d.attempt,
            nextAttemptAt: d.nextAttemptAt,
            lastProblem: { kind: 'download_failed', reason: d.failure, detail: d.detail, at: d.at },
          },
        }));
      }
      case 'StatementStored': {
        const d = event.data;
        return day(d.channel, d.accountingDate, (doc) => ({
          download: { ...doc.download, status: 'stored', attempts: 0, nextAttemptAt: null },
          statement: {
            fileSha256: d.fileSha256,
            source: d.source,
            format: d.format,
            lineCount: d.lineCount,
            setAsideCount: d.setAsideCount,
            storedAt: d.at,
          },
        }));
      }
      case 'StatementRejected': {
        const d = event.data;
        return day(d.channel, d.accountingDate, (doc) => ({
          download: {
            ...doc.download,
            lastProblem: { kind: 'file_refused', reason: d.reason, detail: d.detail, at: d.at },
          },
        }));
      }
      case 'ReconciliationRunCompleted': {
        const d = event.data;
        const matched = d.classes.find((c) => c.matchClass === 'matched');
        return day(d.channel, d.accountingDate, () => ({
          run: {
            runId: d.runId,
            statementSha256: d.statementSha256,
            ranBy: d.ranBy,
            ranAt: d.at,
            statementLines: d.statementLines,
            ourOrders: d.ourOrders,
            matchedCount: matched?.count ?? 0,
            matchedAmounts: amounts(matched?.amounts ?? []),
            breakCount: d.breaks,
            breaks: d.classes
              .filter((c) => isBreak(c.matchClass))
              .map((c) => ({ matchClass: c.matchClass, count: c.count, amounts: amounts(c.amounts) })),
            pending: d.pending,
            carriedIn: d.carriedIn,
            carriedFromRunId: d.carriedFromRunId,
            fees: d.fees.map((f) => ({
              currency: f.currency,
              oursMinor: f.oursMinor.toString(),
              theirsMinor: f.theirsMinor.toString(),
            })),
          },
        }));
      }
      case 'BreakFound':
        return day(event.data.channel, event.data.originDate, (doc) => ({ openBreaks: doc.openBreaks + 1 }));
      case 'BreakReopened':
        return openBreaks(event.data.breakId, 1);
      case 'BreakCleared':
      case 'BreakResolved':
        return openBreaks(event.data.breakId, -1);
      default:
        return [];
    }
  },
};

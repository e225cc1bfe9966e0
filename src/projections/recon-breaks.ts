import type { LedgerEvent, LedgerEventType } from '../domain/event-catalogue.js';
import { OPEN_BREAK_STATUSES, type BreakStatus } from '../domain/reconciliation/break-decider.js';
import type { BreakEvent } from '../domain/reconciliation/break-events.js';
import type { OurOrder } from '../domain/reconciliation/our-order.js';
import type { StatementRecord } from '../domain/reconciliation/statement-record.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Reconciliation breaks: one document per break (its stream `reconbreak-<breakId>`), as it stands: the
 * channel and the accounting day it belongs to, the last run that saw it, its class, status, age and
 * resolution, and both sides' amounts. The review queue reads it (GET /v1/reconciliation/breaks); a run
 * reads `openRunKey` to find the breaks an earlier run of its day left open, a range read per channel and
 * day. Amounts in minor units (strings).
 */
export const RECON_BREAKS_PROJECTION = 'recon-breaks';
export const RECON_BREAKS_COLLECTION = 'recon_breaks';

export type ReconBreakDocument = {
  breakId: string;
  channel: string;
  /** The accounting day the item belongs to. */
  originDate: string;
  /** The accounting day of the last run that found (or cleared) it, and that run. */
  runDate: string;
  runId: string;
  matchClass: string;
  status: BreakStatus;
  /** Days from originDate to runDate, as of that run. */
  ageDays: number;
  merchantOrderNo: string;
  refundNo: string | null;
  occurrence: number;
  /** The resolution while resolved; null otherwise (a reopened break loses it: its history keeps it). */
  resolution: string | null;
  resolvedBy: string | null;
  automatic: boolean | null;
  /** Net of what resolutions booked (signed: positive, the channel held more than we booked), its currency and account. */
  postedMinor: string;
  postedCurrency: string | null;
  postedAccount: string | null;
  /** The last operator's note (investigated) or reason (resolved, reopened). */
  note: string | null;
  statementAmountMinor: string | null;
  statementFeeMinor: string | null;
  statementCurrency: string | null;
  statementStatus: string | null;
  channelOrderNo: string | null;
  oursAmountMinor: string | null;
  oursFeeMinor: string | null;
  oursCurrency: string | null;
  oursStatus: string | null;
  foundAt: string;
  updatedAt: string;
  /** `<channel>|<runDate>|<breakId>` while open or investigated, else null: a run's open breaks, by range. */
  openRunKey: string | null;
};

const BREAK_EVENT_TYPES = [
  'BreakFound',
  'BreakSeenAgain',
  'BreakCleared',
  'BreakResolved',
  'BreakInvestigated',
  'BreakReopened',
] as const satisfies readonly LedgerEventType[];

/** The [gte, lt) range of openRunKey that holds one channel's open breaks last seen by a run of `runDate`. */
export function openRunRange(channel: string, runDate: string): { gte: string; lt: string } {
  const prefix = compositeKey(channel, runDate, '');
  return { gte: prefix, lt: `${prefix.slice(0, -1)}}` };
}

function sides(statement: StatementRecord | null, ours: OurOrder | null) {
  return {
    statementAmountMinor: statement?.amountMinor.toString() ?? null,
    statementFeeMinor: statement?.feeMinor.toString() ?? null,
    statementCurrency: statement?.currency ?? null,
    statementStatus: statement?.status ?? null,
    channelOrderNo: statement?.channelOrderNo ?? null,
    oursAmountMinor: ours?.amountMinor.toString() ?? null,
    oursFeeMinor: ours?.feeMinor?.toString() ?? null,
    oursCurrency: ours?.currency ?? null,
    oursStatus: ours?.status ?? null,
  };
}

function withKey(doc: ReconBreakDocument): ReconBreakDocument {
  const open = OPEN_BREAK_STATUSES.includes(doc.status);
  return { ...doc, openRunKey: open ? compositeKey(doc.channel, doc.runDate, doc.breakId) : null };
}

function next(doc: ReconBreakDocument, event: BreakEvent): Partial<ReconBreakDocument> {
  switch (event.type) {
    case 'BreakFound':
      throw new Error(`recon-breaks: break ${doc.breakId} found twice`);
    case 'BreakSeenAgain': {
      const d = event.data;
      return {
        runId: d.runId,
        runDate: d.runDate,
        matchClass: d.matchClass,
        ageDays: d.ageDays,
        ...sides(d.statement, d.ours),
      };
    }
    case 'BreakCleared':
      return { status: 'cleared', runId: event.data.runId, runDate: event.data.runDate };
    case 'BreakResolved': {
      const d = event.data;
      return {
        status: 'resolved',
        resolution: d.resolution,
        resolvedBy: d.by,
        automatic: d.automatic,
        note: d.reason,
        postedMinor: (BigInt(doc.postedMinor) + (d.posted?.amountMinor ?? 0n)).toString(),
        postedCurrency: d.posted?.currency ?? doc.postedCurrency,
        postedAccount: d.posted?.account ?? doc.postedAccount,
      };
    }
    case 'BreakInvestigated':
      return { status: 'investigated', note: event.data.note };
    case 'BreakReopened':
      return { status: 'open', resolution: null, resolvedBy: null, automatic: null, note: event.data.reason };
  }
}

export const reconBreaksProjection: Projection = {
  name: RECON_BREAKS_PROJECTION,
  version: 1,
  collections: [
    { name: RECON_BREAKS_COLLECTION, indexes: ['channel', 'originDate', 'matchClass', 'status', 'openRunKey'] },
  ],
  eventTypes: BREAK_EVENT_TYPES,
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    if (!(BREAK_EVENT_TYPES as readonly string[]).includes(event.type)) return [];
    const breakEvent = event as BreakEvent;
    const id = breakEvent.data.breakId;
    const updatedAt = utcInstantKey(envelope.metadata.occurredAt);
    if (breakEvent.type === 'BreakFound') {
      const d = breakEvent.data;
      const doc = withKey({
        breakId: d.breakId,
        channel: d.channel,
        originDate: d.originDate,
        runDate: d.runDate,
        runId: d.runId,
        matchClass: d.matchClass,
        status: 'open',
        ageDays: d.ageDays,
        merchantOrderNo: d.merchantOrderNo,
        refundNo: d.refundNo,
        occurrence: d.occurrence,
        resolution: null,
        resolvedBy: null,
        automatic: null,
        postedMinor: '0',
        postedCurrency: null,
        postedAccount: null,
        note: null,
        ...sides(d.statement, d.ours),
        foundAt: utcInstantKey(d.at),
        updatedAt,
        openRunKey: null,
      });
      return [{ collection: RECON_BREAKS_COLLECTION, id, apply: () => doc }];
    }
    return [
      {
        collection: RECON_BREAKS_COLLECTION,
        id,
        apply: (previous) => {
          if (previous === null) throw new Error(`recon-breaks: ${breakEvent.type} for unknown break ${id}`);
          const doc = previous as unknown as ReconBreakDocument;
          return withKey({ ...doc, ...next(doc, breakEvent), updatedAt });
        },
      },
    ];
  },
};

import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Transit fares as read models: one document per accepted scan (a payer's transit history, an operator's
 * fares) and one per payer with unpaid fares (the debt sweep's work list, the debt's figure). The debt
 * here is the read side's; GET /v1/transit/users/{userId}/debt answers from the payer's stream.
 */
export const TRANSIT_PROJECTION = 'transit';
export const TRANSIT_SCANS_COLLECTION = 'transit_scans';
export const TRANSIT_DEBTS_COLLECTION = 'transit_debts';

export interface TransitScanDocument extends JsonObject {
  scanId: string;
  userId: string;
  credentialId: string;
  batchId: string;
  operatorId: string;
  operatorAccountId: string;
  walletAccountId: string;
  terminalId: string;
  scannedAt: string;
  fareMinor: string;
  currency: string;
  /** accepted (not yet on the books: a crash between steps), booked (unpaid: the payer's debt), charged. */
  status: string;
  /** `<userId>|<scannedAt>`: one payer's history in scan order. */
  userTimeKey: string;
}

export interface TransitDebtDocument extends JsonObject {
  userId: string;
  walletAccountId: string;
  currency: string;
  outstandingMinor: string;
  unpaidCount: number;
  /** True while any fare is unpaid: the sweep's index. */
  inDebt: boolean;
}

export const transitProjection: Projection = {
  name: TRANSIT_PROJECTION,
  version: 1,
  collections: [
    { name: TRANSIT_SCANS_COLLECTION, indexes: ['userTimeKey', 'status', 'operatorId'] },
    { name: TRANSIT_DEBTS_COLLECTION, indexes: ['inDebt'] },
  ],
  eventTypes: ['TransitFareAccepted', 'TransitFareBooked', 'TransitFareCharged'],
  handle(event: LedgerEvent, _envelope: EventEnvelope): DocumentChange[] {
    switch (event.type) {
      case 'TransitFareAccepted': {
        const d = event.data;
        const scannedAt = utcInstantKey(d.scannedAt);
        const scan: TransitScanDocument = {
          scanId: d.scanId,
          userId: d.userId,
          credentialId: d.credentialId,
          batchId: d.batchId,
          operatorId: d.operatorId,
          operatorAccountId: d.operatorAccountId,
          walletAccountId: d.walletAccountId,
          terminalId: d.terminalId,
          scannedAt,
          fareMinor: d.fareMinor.toString(),
          currency: d.currency,
          status: 'accepted',
          userTimeKey: compositeKey(d.userId, scannedAt),
        };
        return [
          { collection: TRANSIT_SCANS_COLLECTION, id: d.scanId, apply: () => scan },
          {
            collection: TRANSIT_DEBTS_COLLECTION,
            id: d.userId,
            apply: (previous) => debtAfter(previous, d.userId, d.walletAccountId, d.currency, d.fareMinor, 1),
          },
        ];
      }
      case 'TransitFareBooked':
        return [withStatus(event.data.scanId, 'booked')];
      case 'TransitFareCharged': {
        const d = event.data;
        return [
          withStatus(d.scanId, 'charged'),
          {
            collection: TRANSIT_DEBTS_COLLECTION,
            id: d.userId,
            apply: (previous) => debtAfter(previous, d.userId, d.walletAccountId, d.currency, -d.fareMinor, -1),
          },
        ];
      }
      default:
        return [];
    }
  },
};

function withStatus(scanId: string, status: string): DocumentChange {
  return {
    collection: TRANSIT_SCANS_COLLECTION,
    id: scanId,
    apply: (previous) => {
      if (previous === null) throw new Error(`transit scan ${scanId} changes before it was accepted`);
      return { ...previous, status };
    },
  };
}

function debtAfter(
  previous: JsonObject | null,
  userId: string,
  walletAccountId: string,
  currency: string,
  deltaMinor: bigint,
  deltaCount: number,
): TransitDebtDocument {
  const before = previous as TransitDebtDocument | null;
  const outstandingMinor = BigInt(before?.outstandingMinor ?? '0') + deltaMinor;
  const unpaidCount = (before?.unpaidCount ?? 0) + deltaCount;
  if (outstandingMinor < 0n || unpaidCount < 0) throw new Error(`transit debt of ${userId} below zero`);
  return {
    userId,
    walletAccountId,
    currency,
    outstandingMinor: outstandingMinor.toString(),
    unpaidCount,
    inDebt: unpaidCount > 0,
  };
}

import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { utcInstantKey } from './read-model-keys.js';

/**
 * Card contracts: one document per bind-card contract (`bindcard-<contractId>`), for a user's list and
 * for the expiry sweep. Masked only, as the events are: the card as first 6 and last 4, the bank code and
 * kind, the channel, the status and its times; no fingerprint (a list needs none), no vault reference.
 */
export const CARD_CONTRACTS_PROJECTION = 'card_contracts';
export const CARD_CONTRACTS_COLLECTION = 'card_contracts';

export type CardContractStatus = 'verifying' | 'awaiting_bank_code' | 'pre_bound' | 'bound' | 'failed' | 'terminated';

export interface CardContractDocument extends JsonObject {
  contractId: string;
  userId: string;
  requestedBy: string;
  maskedCard: string;
  bankCode: string | null;
  cardKind: string;
  channelId: string;
  signing: string;
  status: CardContractStatus;
  failure: string | null;
  /** Not yet bound, failed or terminated: the sweep expires it once `expiresAt` is past. */
  unfinished: boolean;
  /** A failed pre-binding the channel has not yet confirmed unsigned: the sweep unsigns it. */
  unsignPending: boolean;
  startedAt: string;
  expiresAt: string;
  boundAt: string | null;
  /** Failed or terminated. */
  endedAt: string | null;
}

function changed(
  contractId: string,
  envelope: EventEnvelope,
  change: (
    doc: CardContractDocument,
  ) => Partial<
    Pick<CardContractDocument, 'status' | 'failure' | 'unfinished' | 'unsignPending' | 'boundAt' | 'endedAt'>
  >,
): DocumentChange {
  return {
    collection: CARD_CONTRACTS_COLLECTION,
    id: contractId,
    apply: (previous) => {
      if (previous === null)
        throw new Error(`card_contracts: event for unknown contract ${contractId} at ${envelope.position}`);
      const doc = previous as CardContractDocument;
      const next = { ...doc, ...change(doc) } as CardContractDocument;
      return next;
    },
  };
}

export const cardContractsProjection: Projection = {
  name: CARD_CONTRACTS_PROJECTION,
  version: 1,
  collections: [
    {
      name: CARD_CONTRACTS_COLLECTION,
      indexes: ['userId', 'requestedBy', 'startedAt', 'unfinished', 'unsignPending', 'expiresAt'],
    },
  ],
  eventTypes: [
    'CardBindingStarted',
    'CardBindingCodeSent',
    'CardContractPreBound',
    'CardContractBound',
    'CardBindingFailed',
    'CardContractUnsigned',
    'CardContractTerminated',
  ],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    switch (event.type) {
      case 'CardBindingStarted': {
        const d = event.data;
        const doc: CardContractDocument = {
          contractId: d.contractId,
          userId: d.userId,
          requestedBy: d.requestedBy,
          maskedCard: d.maskedCard,
          bankCode: d.bankCode,
          cardKind: d.cardKind,
          channelId: d.channelId,
          signing: d.signing,
          status: 'verifying',
          failure: null,
          unfinished: true,
          unsignPending: false,
          startedAt: utcInstantKey(d.startedAt),
          expiresAt: utcInstantKey(d.expiresAt),
          boundAt: null,
          endedAt: null,
        };
        return [{ collection: CARD_CONTRACTS_COLLECTION, id: d.contractId, apply: () => doc }];
      }
      case 'CardBindingCodeSent':
        return [changed(event.data.contractId, envelope, () => ({ status: 'awaiting_bank_code' }))];
      case 'CardContractPreBound':
        return [changed(event.data.contractId, envelope, () => ({ status: 'pre_bound' }))];
      case 'CardContractBound':
        return [
          changed(event.data.contractId, envelope, () => ({
            status: 'bound',
            unfinished: false,
            boundAt: utcInstantKey(event.data.boundAt),
          })),
        ];
      case 'CardBindingFailed':
        return [
          changed(event.data.contractId, envelope, () => ({
            status: 'failed',
            failure: event.data.reason,
            unfinished: false,
            unsignPending: event.data.unsignRequired,
            endedAt: utcInstantKey(event.data.failedAt),
          })),
        ];
      case 'CardContractUnsigned':
        return [changed(event.data.contractId, envelope, () => ({ unsignPending: false }))];
      case 'CardContractTerminated':
        return [
          changed(event.data.contractId, envelope, () => ({
            status: 'terminated',
            endedAt: utcInstantKey(event.data.terminatedAt),
          })),
        ];
      default:
        return [];
    }
  },
};

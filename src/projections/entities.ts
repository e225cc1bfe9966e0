import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Entities: one document per user, merchant and operator, so operators can list them. Only what a list
 * needs: no contact details (phone, e-mail), no password hash, no key material. The entity's own stream
 * stays the source of truth for authentication (src/commands/entities).
 */
export const ENTITIES_PROJECTION = 'entities';
export const ENTITIES_COLLECTION = 'entities';

export interface EntityDocument extends JsonObject {
  entityId: string;
  kind: string;
  displayName: string;
  mayPay: boolean;
  securityLevel: string;
  paymentPasswordSet: boolean;
  /** API keys registered and not revoked. */
  activeKeyCount: number;
  registeredAt: string;
  /** `<kind>|<registeredAt>`: the entities of one kind in registration order, as one index range. */
  kindTimeKey: string;
}

function changed(
  entityId: string,
  envelope: EventEnvelope,
  change: (
    doc: EntityDocument,
  ) =>
    | Pick<EntityDocument, 'paymentPasswordSet'>
    | Pick<EntityDocument, 'mayPay'>
    | Pick<EntityDocument, 'securityLevel'>
    | Pick<EntityDocument, 'activeKeyCount'>,
): DocumentChange {
  return {
    collection: ENTITIES_COLLECTION,
    id: entityId,
    apply: (previous) => {
      if (previous === null) throw new Error(`entities: event for unknown entity ${entityId} at ${envelope.position}`);
      const doc = previous as EntityDocument;
      const next: EntityDocument = { ...doc, ...change(doc) };
      return next;
    },
  };
}

export const entitiesProjection: Projection = {
  name: ENTITIES_PROJECTION,
  version: 1,
  collections: [{ name: ENTITIES_COLLECTION, indexes: ['registeredAt', 'kindTimeKey'] }],
  eventTypes: [
    'EntityRegistered',
    'PaymentPasswordSet',
    'EntityMayPayChanged',
    'EntitySecurityLevelChanged',
    'ApiKeyRegistered',
    'ApiKeyRevoked',
  ],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    switch (event.type) {
      case 'EntityRegistered': {
        const d = event.data;
        const at = utcInstantKey(envelope.metadata.occurredAt);
        const doc: EntityDocument = {
          entityId: d.entityId,
          kind: d.kind,
          displayName: d.displayName,
          mayPay: d.mayPay,
          securityLevel: d.securityLevel,
          paymentPasswordSet: false,
          activeKeyCount: 0,
          registeredAt: at,
          kindTimeKey: compositeKey(d.kind, at),
        };
        return [{ collection: ENTITIES_COLLECTION, id: d.entityId, apply: () => doc }];
      }
      case 'PaymentPasswordSet':
        return [changed(event.data.entityId, envelope, () => ({ paymentPasswordSet: true }))];
      case 'EntityMayPayChanged':
        return [changed(event.data.entityId, envelope, () => ({ mayPay: event.data.mayPay }))];
      case 'EntitySecurityLevelChanged':
        return [changed(event.data.entityId, envelope, () => ({ securityLevel: event.data.securityLevel }))];
      case 'ApiKeyRegistered':
        return [changed(event.data.entityId, envelope, (doc) => ({ activeKeyCount: doc.activeKeyCount + 1 }))];
      case 'ApiKeyRevoked':
        return [changed(event.data.entityId, envelope, (doc) => ({ activeKeyCount: doc.activeKeyCount - 1 }))];
      default:
        return [];
    }
  },
};

import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Webhook endpoints, one document per endpoint, so a merchant (or an operator) can list them. No secret
 * is in it, nor could be: the events hold only the secret's version. A deleted endpoint's document is
 * removed. The endpoint's stream stays the source of truth for deliveries (src/commands/webhooks).
 */
export const WEBHOOK_ENDPOINTS_PROJECTION = 'webhook_endpoints';
export const WEBHOOK_ENDPOINTS_COLLECTION = 'webhook_endpoints';

export interface WebhookEndpointDocument extends JsonObject {
  endpointId: string;
  merchantId: string;
  url: string;
  /** null: every event type. */
  eventTypes: string[] | null;
  description: string;
  status: 'enabled' | 'disabled';
  disabledReason: 'merchant' | 'gone' | null;
  secretVersion: number;
  /** Until when the secret before the last rotation still signs; null before any rotation. */
  previousSecretValidUntil: string | null;
  createdAt: string;
  /** `<merchantId>|<createdAt>`: one merchant's endpoints in creation order, as one index range. */
  merchantTimeKey: string;
}

function changed(
  endpointId: string,
  envelope: EventEnvelope,
  change: (doc: WebhookEndpointDocument) => Partial<WebhookEndpointDocument>,
): DocumentChange {
  return {
    collection: WEBHOOK_ENDPOINTS_COLLECTION,
    id: endpointId,
    apply: (previous) => {
      if (previous === null)
        throw new Error(`webhook endpoints: event for unknown endpoint ${endpointId} at ${envelope.position}`);
      const doc = previous as WebhookEndpointDocument;
      return { ...doc, ...change(doc) } as WebhookEndpointDocument;
    },
  };
}

export const webhookEndpointsProjection: Projection = {
  name: WEBHOOK_ENDPOINTS_PROJECTION,
  version: 1,
  collections: [{ name: WEBHOOK_ENDPOINTS_COLLECTION, indexes: ['createdAt', 'merchantTimeKey'] }],
  eventTypes: [
    'WebhookEndpointRegistered',
    'WebhookEndpointUpdated',
    'WebhookEndpointDisabled',
    'WebhookEndpointEnabled',
    'WebhookEndpointDeleted',
    'WebhookSecretRotated',
  ],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    switch (event.type) {
      case 'WebhookEndpointRegistered': {
        const d = event.data;
        const at = utcInstantKey(envelope.metadata.occurredAt);
        const doc: WebhookEndpointDocument = {
          endpointId: d.endpointId,
          merchantId: d.merchantId,
          url: d.url,
          eventTypes: d.eventTypes,
          description: d.description,
          status: 'enabled',
          disabledReason: null,
          secretVersion: d.secretVersion,
          previousSecretValidUntil: null,
          createdAt: at,
          merchantTimeKey: compositeKey(d.merchantId, at),
        };
        return [{ collection: WEBHOOK_ENDPOINTS_COLLECTION, id: d.endpointId, apply: () => doc }];
      }
      case 'WebhookEndpointUpdated': {
        const { url, eventTypes, description } = event.data;
        return [changed(event.data.endpointId, envelope, () => ({ url, eventTypes, description }))];
      }
      case 'WebhookEndpointDisabled':
        return [
          changed(event.data.endpointId, envelope, () => ({ status: 'disabled', disabledReason: event.data.reason })),
        ];
      case 'WebhookEndpointEnabled':
        return [changed(event.data.endpointId, envelope, () => ({ status: 'enabled', disabledReason: null }))];
      case 'WebhookSecretRotated':
        return [
          changed(event.data.endpointId, envelope, () => ({
            secretVersion: event.data.secretVersion,
            previousSecretValidUntil: event.data.previousValidUntil,
          })),
        ];
      case 'WebhookEndpointDeleted':
        return [{ collection: WEBHOOK_ENDPOINTS_COLLECTION, id: event.data.endpointId, apply: () => null }];
      default:
        return [];
    }
  },
};

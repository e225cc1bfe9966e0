import { z } from 'zod';
import { utcInstant } from '../shared/codecs.js';
import { WEBHOOK_EVENT_TYPES } from './webhook-event-types.js';

/**
 * Facts of a merchant's webhook endpoint (`webhook-<endpointId>`): where the ledger tells the merchant
 * about its orders, and which secret version signs the messages. The secret itself is never recorded:
 * it is derived from the service's webhook key, the endpoint id and the version (webhook-secrets.ts),
 * so an event, a read model or a log line holds at most a version number.
 */
const endpointId = z.uuid();

/** An absolute http(s) URL, checked further by the decider (webhook-url.ts). */
export const WEBHOOK_URL_MAX_LENGTH = 2_048;
export const webhookUrl = z.string().min(1).max(WEBHOOK_URL_MAX_LENGTH);
/** null: every event type, including those added later. */
export const webhookEventTypeFilter = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(100).nullable();
export const webhookDescription = z.string().max(200);
export const secretVersion = z.int().min(1).max(1_000_000);

export const webhookEndpointRegistered = z.strictObject({
  type: z.literal('WebhookEndpointRegistered'),
  data: z.strictObject({
    endpointId,
    merchantId: z.string(),
    url: webhookUrl,
    eventTypes: webhookEventTypeFilter,
    description: webhookDescription,
    secretVersion,
  }),
});

export const webhookEndpointUpdated = z.strictObject({
  type: z.literal('WebhookEndpointUpdated'),
  data: z.strictObject({
    endpointId,
    url: webhookUrl,
    eventTypes: webhookEventTypeFilter,
    description: webhookDescription,
  }),
});

/** merchant: asked for; gone: the endpoint answered 410 Gone (Standard Webhooks: stop sending). */
export const webhookEndpointDisabled = z.strictObject({
  type: z.literal('WebhookEndpointDisabled'),
  data: z.strictObject({ endpointId, reason: z.enum(['merchant', 'gone']) }),
});

export const webhookEndpointEnabled = z.strictObject({
  type: z.literal('WebhookEndpointEnabled'),
  data: z.strictObject({ endpointId }),
});

export const webhookEndpointDeleted = z.strictObject({
  type: z.literal('WebhookEndpointDeleted'),
  data: z.strictObject({ endpointId }),
});

/** The previous version still signs (beside the new one) until `previousValidUntil`. */
export const webhookSecretRotated = z.strictObject({
  type: z.literal('WebhookSecretRotated'),
  data: z.strictObject({ endpointId, secretVersion, previousVersion: secretVersion, previousValidUntil: utcInstant }),
});

export const webhookEventSchemas = [
  webhookEndpointRegistered,
  webhookEndpointUpdated,
  webhookEndpointDisabled,
  webhookEndpointEnabled,
  webhookEndpointDeleted,
  webhookSecretRotated,
] as const;

export type WebhookEndpointEvent = z.output<(typeof webhookEventSchemas)[number]>;
export const WEBHOOK_ENDPOINT_EVENT_TYPES = webhookEventSchemas.map((schema) => schema.shape.type.value);

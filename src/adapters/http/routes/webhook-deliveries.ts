import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../../domain/shared/domain-error.js';
import { WEBHOOK_EVENT_TYPES } from '../../../domain/webhooks/webhook-event-types.js';
import type { DeliveryAttempt, OutboxMessage } from '../../../ports/webhook-outbox.js';
import type { LedgerService } from '../../ledger-service.js';
import { positionString } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { problemResponses } from '../problem-responses.js';
import {
  boundCursor,
  cursorAfter,
  cursorString,
  LIST_PAGE_SIZE_DEFAULT,
  LIST_PAGE_SIZE_MAX,
  listPageView,
  pageLimit,
} from '../read-model-queries.js';
import { endpointParams, visibleEndpoint } from './webhook-endpoints.js';

/** The delivery log of a webhook endpoint: its messages, every attempt, and manual redelivery. */

const messageId = z
  .string()
  .regex(/^msg_[0-9a-f-]{36}$/)
  .describe('Message id: also the webhook-id header of its deliveries');

const instant = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const webhookMessageView = z
  .object({
    messageId,
    endpointId: z.uuid(),
    eventType: z.enum(WEBHOOK_EVENT_TYPES),
    state: z
      .enum(['pending', 'delivered', 'failed', 'discarded'])
      .describe('discarded: the endpoint was disabled or deleted before it was sent'),
    attempts: z.int().describe('Attempts since it was made or last redelivered'),
    totalAttempts: z.int(),
    nextAttemptAt: z.string().nullable().describe('When a pending message is tried next (UTC)'),
    lastStatusCode: z.int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    position: positionString.describe('Position of the ledger event it tells of'),
    payload: z.unknown().describe('The JSON body every attempt sends (type, timestamp, data)'),
  })
  .meta({ id: 'WebhookMessage' });

export const webhookDeliveryView = z
  .object({
    attemptId: z.string(),
    messageId,
    attemptNo: z.int().describe("The message's attempt number, counting every attempt"),
    attemptedAt: z.string(),
    durationMs: z.int(),
    statusCode: z.int().nullable().describe("The endpoint's HTTP status; null when no answer came"),
    error: z.string().nullable().describe('Timeout, refused address or network error'),
    outcome: z.enum(['delivered', 'retry', 'failed', 'gone']).describe('gone: 410, the endpoint was disabled'),
    nextAttemptAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

export const webhookMessagePageView = listPageView(webhookMessageView).meta({ id: 'WebhookMessagePage' });
export const webhookDeliveryPageView = listPageView(webhookDeliveryView).meta({ id: 'WebhookDeliveryPage' });

const pageFields = {
  limit: pageLimit(LIST_PAGE_SIZE_DEFAULT, LIST_PAGE_SIZE_MAX),
  cursor: cursorString.optional(),
  order: z.enum(['desc', 'asc']).default('desc').describe('newest first (default) or oldest first'),
};
export const webhookMessageListQuery = z.strictObject(pageFields);
export const webhookDeliveryListQuery = z.strictObject({
  ...pageFields,
  messageId: messageId.optional().describe("One message's attempts"),
});

const messageParams = endpointParams.extend({ messageId });

function toMessageView(m: OutboxMessage): z.output<typeof webhookMessageView> {
  return {
    messageId: m.messageId,
    endpointId: m.endpointId,
    eventType: m.webhookType as z.output<typeof webhookMessageView>['eventType'],
    state: m.state,
    attempts: m.attempts,
    totalAttempts: m.totalAttempts,
    nextAttemptAt: m.state === 'pending' ? instant(m.nextAttemptAtMs) : null,
    lastStatusCode: m.lastStatusCode,
    lastError: m.lastError,
    createdAt: new Date(m.createdAtMs).toISOString(),
    updatedAt: new Date(m.updatedAtMs).toISOString(),
    position: m.position.toString(),
    payload: JSON.parse(m.payload) as unknown,
  };
}

function toDeliveryView(a: DeliveryAttempt): z.output<typeof webhookDeliveryView> {
  return {
    attemptId: a.attemptId,
    messageId: a.messageId,
    attemptNo: a.attemptNo,
    attemptedAt: new Date(a.startedAtMs).toISOString(),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    error: a.error,
    outcome: a.outcome,
    nextAttemptAt: instant(a.nextAttemptAtMs),
  };
}

function messageNotFound(id: string): DomainError {
  return new DomainError('webhook_message_not_found', `webhook message ${id} does not exist`, { messageId: id });
}

export function webhookDeliveryRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/webhook-endpoints/:endpointId/messages',
      {
        schema: {
          tags: ['webhooks'],
          summary: "A webhook endpoint's messages",
          description:
            'Every message made for the endpoint, with its state and next attempt, newest first by default. Its merchant, or an operator.',
          params: endpointParams,
          querystring: webhookMessageListQuery,
          response: {
            200: webhookMessagePageView,
            ...problemResponses('webhook_endpoint_not_found', 'cursor_mismatch'),
          },
        },
      },
      async (request) => {
        const { endpointId } = request.params;
        await visibleEndpoint(service, request, endpointId);
        const q = request.query;
        const selection = `messages|${endpointId}`;
        const page = await service.webhookOutbox.listMessages(endpointId, {
          limit: q.limit,
          direction: q.order,
          ...cursorAfter(q, selection),
        });
        return { items: page.items.map(toMessageView), nextCursor: boundCursor(q, selection, page.nextCursor) };
      },
    );

    app.get(
      '/v1/webhook-endpoints/:endpointId/deliveries',
      {
        schema: {
          tags: ['webhooks'],
          summary: "A webhook endpoint's delivery log",
          description:
            'Every attempt: when, how long, the status code or the error, and the next attempt. Newest first by default; `messageId` for one message. Its merchant, or an operator.',
          params: endpointParams,
          querystring: webhookDeliveryListQuery,
          response: {
            200: webhookDeliveryPageView,
            ...problemResponses('webhook_endpoint_not_found', 'cursor_mismatch'),
          },
        },
      },
      async (request) => {
        const { endpointId } = request.params;
        await visibleEndpoint(service, request, endpointId);
        const q = request.query;
        const selection = `deliveries|${endpointId}`;
        const page = await service.webhookOutbox.listAttempts(endpointId, {
          limit: q.limit,
          direction: q.order,
          ...(q.messageId !== undefined ? { messageId: q.messageId } : {}),
          ...cursorAfter(q, selection),
        });
        return { items: page.items.map(toDeliveryView), nextCursor: boundCursor(q, selection, page.nextCursor) };
      },
    );

    app.post(
      '/v1/webhook-endpoints/:endpointId/messages/:messageId/redeliveries',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Send a webhook message again',
          description:
            'The message is due at once, with a fresh count of attempts, whatever its state (delivered, failed or discarded). The endpoint must be enabled to receive it (else it is discarded again). Its merchant only; without Idempotency-Key (each request is one more delivery).',
          params: messageParams,
          response: {
            202: webhookMessageView,
            ...problemResponses('forbidden', 'webhook_endpoint_not_found', 'webhook_message_not_found'),
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.kind !== 'merchant')
          throw new DomainError('forbidden', 'only the endpoint’s merchant redelivers its messages', {});
        const { endpointId, messageId: id } = request.params;
        await visibleEndpoint(service, request, endpointId);
        const message = await service.webhookOutbox.getMessage(id);
        if (!message || message.endpointId !== endpointId) throw messageNotFound(id);
        // Not an event: the outbox's own state. A repeated request sends the message once more, which
        // is what it asks for (deliveries are at least once; receivers dedupe by webhook-id).
        const due = await service.webhookOutbox.redeliver(id, service.clock.now().toMillis());
        if (!due) throw messageNotFound(id);
        service.webhooks.dispatcher?.wake();
        await reply.status(202).send(toMessageView(due));
      },
    );
  };
}

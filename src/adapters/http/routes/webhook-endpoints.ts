import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdempotencyKeyReusedError } from '../../../commands/idempotency.js';
import {
  webhookEndpointStreamId,
  type WebhookEndpointSettings,
} from '../../../commands/webhooks/webhook-endpoint-commands.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { WebhookEndpoint } from '../../../domain/webhooks/webhook-endpoint-state.js';
import { WEBHOOK_EVENT_TYPES } from '../../../domain/webhooks/webhook-event-types.js';
import { webhookDescription, webhookUrl } from '../../../domain/webhooks/webhook-events.js';
import { checkWebhookUrl } from '../../../domain/webhooks/webhook-url.js';
import type { StoredDocument } from '../../../ports/read-model-store.js';
import {
  WEBHOOK_ENDPOINTS_COLLECTION,
  WEBHOOK_ENDPOINTS_PROJECTION,
  type WebhookEndpointDocument,
} from '../../../projections/webhook-endpoints.js';
import type { LedgerService } from '../../ledger-service.js';
import { idempotencyHeaders, optionalIdempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf, type Principal } from '../authorization.js';
import { commandContextOf, runCommand } from '../idempotent-command.js';
import { problemResponses } from '../problem-responses.js';
import {
  awaitReadModel,
  groupInstantRange,
  listPageView,
  listQueryFields,
  pageOf,
  streamPosition,
} from '../read-model-queries.js';

/** Merchants' webhook endpoints: where the ledger tells them about their orders (docs/webhooks.md). */

export const endpointParams = z.object({ endpointId: z.uuid().describe('Webhook endpoint id') });

const eventTypeList = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, 'each event type once');

export const registerWebhookEndpointBody = z
  .strictObject({
    url: webhookUrl.describe('https:// (http:// only where WEBHOOK_ALLOW_HTTP=1); must resolve to public addresses'),
    eventTypes: eventTypeList.optional().describe('The event types to send; absent: all, including later ones'),
    description: webhookDescription.optional(),
  })
  .meta({
    example: {
      url: 'https://merchant.example/hooks/ledger',
      eventTypes: ['payment.succeeded', 'payment.failed', 'refund.succeeded'],
      description: 'order system',
    },
  });

export const updateWebhookEndpointBody = z
  .strictObject({
    url: webhookUrl.optional(),
    eventTypes: eventTypeList.nullable().optional().describe('null: every event type'),
    description: webhookDescription.optional(),
  })
  .refine((b) => b.url !== undefined || b.eventTypes !== undefined || b.description !== undefined, 'send a change')
  .meta({ example: { eventTypes: ['payment.succeeded'] } });

export const webhookEndpointView = z
  .object({
    endpointId: z.uuid(),
    merchantId: z.string(),
    url: z.string(),
    eventTypes: z.array(z.enum(WEBHOOK_EVENT_TYPES)).nullable().describe('null: every event type'),
    description: z.string(),
    status: z.enum(['enabled', 'disabled']),
    disabledReason: z
      .enum(['merchant', 'gone'])
      .nullable()
      .describe('merchant: disabled by request; gone: the endpoint answered 410'),
    secretVersion: z.int().describe('Counts rotations; the secret itself is shown only when made'),
    previousSecretValidUntil: z
      .string()
      .nullable()
      .describe('Until then the previous secret also signs every message (after a rotation)'),
    position: positionString,
  })
  .meta({ id: 'WebhookEndpoint' });

export const webhookEndpointWithSecretView = webhookEndpointView
  .extend({
    secret: z
      .string()
      .describe('Standard Webhooks signing secret (whsec_...): shown only in this answer (and its retries); keep it'),
  })
  .meta({ id: 'WebhookEndpointWithSecret' });

export const webhookEndpointPageView = listPageView(webhookEndpointView).meta({ id: 'WebhookEndpointPage' });

export const webhookEndpointListQuery = z.strictObject({
  ...listQueryFields,
  merchantId: z.string().min(1).max(100).optional().describe("Operators: one merchant's endpoints"),
});

export function toWebhookEndpointView(
  endpoint: WebhookEndpoint,
  position: bigint,
): z.output<typeof webhookEndpointView> {
  return {
    endpointId: endpoint.endpointId,
    merchantId: endpoint.merchantId,
    url: endpoint.url,
    eventTypes: endpoint.eventTypes && [...endpoint.eventTypes],
    description: endpoint.description,
    status: endpoint.status === 'enabled' ? 'enabled' : 'disabled',
    disabledReason: endpoint.disabledReason,
    secretVersion: endpoint.secretVersion,
    previousSecretValidUntil: endpoint.previousSecret?.validUntil ?? null,
    position: position.toString(),
  };
}

function fromDocument(doc: StoredDocument<WebhookEndpointDocument>): z.output<typeof webhookEndpointView> {
  const d = doc.data;
  return {
    endpointId: d.endpointId,
    merchantId: d.merchantId,
    url: d.url,
    eventTypes: d.eventTypes as z.output<typeof webhookEndpointView>['eventTypes'],
    description: d.description,
    status: d.status,
    disabledReason: d.disabledReason,
    secretVersion: d.secretVersion,
    previousSecretValidUntil: d.previousSecretValidUntil,
    position: doc.position.toString(),
  };
}

function notFound(endpointId: string): DomainError {
  return new DomainError('webhook_endpoint_not_found', `webhook endpoint ${endpointId} does not exist`, { endpointId });
}

/** Only merchants have endpoints: an operator reads them, but does not make or change them. */
function requireMerchant(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (principal.kind !== 'merchant')
    throw new DomainError('forbidden', 'webhook endpoints belong to merchants: sign as the merchant', {});
  return principal;
}

/**
 * The endpoint, if the caller may see it: its merchant, or an operator. Another merchant's endpoint
 * answers exactly as one that does not exist (404): ids cannot be probed.
 */
export async function visibleEndpoint(
  service: LedgerService,
  request: FastifyRequest,
  endpointId: string,
): Promise<WebhookEndpoint> {
  const principal = principalOf(request);
  const endpoint = await service.webhookEndpoints.get(endpointId);
  if (!endpoint || (principal.kind !== 'operator' && endpoint.merchantId !== principal.entityId))
    throw notFound(endpointId);
  return endpoint;
}

/** The URL's form (domain rules), then where it points (every address it resolves to). */
async function checkedUrl(service: LedgerService, text: string): Promise<string> {
  const url = checkWebhookUrl(text, { allowHttp: service.config.webhooks.allowHttp });
  await service.webhooks.guard.resolve(url);
  return url.toString();
}

export function webhookEndpointRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const withSecret = (endpoint: WebhookEndpoint, position: bigint) => ({
    ...toWebhookEndpointView(endpoint, position),
    secret: service.webhookSecrets.secretOf(endpoint.endpointId, endpoint.secretVersion),
  });
  return async (app) => {
    app.post(
      '/v1/webhook-endpoints',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Register a webhook endpoint',
          description:
            "The merchant's URL, told of its orders' state changes (Standard Webhooks: signed POSTs, retried with growing intervals). The answer carries the signing secret, the only time it is shown (a retry with the same Idempotency-Key and body shows it again; the same key with another body is refused). The URL must be https and resolve to public addresses only. Merchants only.",
          headers: idempotencyHeaders,
          body: registerWebhookEndpointBody,
          response: {
            201: webhookEndpointWithSecretView,
            ...problemResponses(
              'forbidden',
              'invalid_webhook_url',
              'webhook_url_not_allowed',
              'webhook_endpoint_exists',
            ),
          },
        },
      },
      async (request, reply) => {
        const principal = requireMerchant(request);
        const settings: WebhookEndpointSettings = {
          url: await checkedUrl(service, request.body.url),
          eventTypes: request.body.eventTypes ?? null,
          description: request.body.description ?? '',
        };
        // Not through the recorded answers (runCommand): they are events, and this answer holds a secret.
        // The endpoint id is derived from the key, so a retry finds its endpoint and derives its secret again.
        const { endpoint, position } = await service.webhookEndpoints.register(
          principal.entityId,
          settings,
          commandContextOf(request, service.clock),
        );
        if (
          endpoint.url !== settings.url ||
          endpoint.description !== settings.description ||
          JSON.stringify(endpoint.eventTypes) !== JSON.stringify(settings.eventTypes)
        )
          throw new IdempotencyKeyReusedError();
        await reply.status(201).send(withSecret(endpoint, position));
      },
    );

    app.get(
      '/v1/webhook-endpoints',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'List webhook endpoints',
          description:
            "A merchant lists its own; an operator all, or one merchant's (merchantId). Newest first by default. Pass `minPosition` to read your own writes.",
          querystring: webhookEndpointListQuery,
          response: { 200: webhookEndpointPageView, ...problemResponses('invalid_query', 'cursor_mismatch') },
        },
      },
      async (request) => {
        const q = request.query;
        const principal = principalOf(request);
        const merchantId = principal.kind === 'operator' ? q.merchantId : principal.entityId;
        await awaitReadModel(service, WEBHOOK_ENDPOINTS_PROJECTION, q.minPosition);
        const byMerchant =
          merchantId === undefined ? null : groupInstantRange('merchantTimeKey', merchantId, undefined, undefined);
        const paging = pageOf(q, byMerchant ? 'merchantTimeKey' : 'createdAt', merchantId ?? '');
        const page = await service.readModels.find<WebhookEndpointDocument>(WEBHOOK_ENDPOINTS_COLLECTION, {
          ...(byMerchant ? { range: byMerchant } : {}),
          ...paging.find,
        });
        return { items: page.items.map(fromDocument), nextCursor: paging.next(page.nextCursor) };
      },
    );

    app.get(
      '/v1/webhook-endpoints/:endpointId',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Get a webhook endpoint',
          description: 'From its stream (not a read model). Its merchant, or an operator; never the secret.',
          params: endpointParams,
          response: { 200: webhookEndpointView, ...problemResponses('webhook_endpoint_not_found') },
        },
      },
      async (request) => {
        const endpoint = await visibleEndpoint(service, request, request.params.endpointId);
        const position = await streamPosition(service, webhookEndpointStreamId(endpoint.endpointId));
        return toWebhookEndpointView(endpoint, position);
      },
    );

    app.put(
      '/v1/webhook-endpoints/:endpointId',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Change a webhook endpoint',
          description:
            'Its URL (checked again), event types or description; messages already made keep going to the endpoint. Its merchant only.',
          headers: optionalIdempotencyHeaders,
          params: endpointParams,
          body: updateWebhookEndpointBody,
          response: {
            200: webhookEndpointView,
            ...problemResponses(
              'forbidden',
              'webhook_endpoint_not_found',
              'invalid_webhook_url',
              'webhook_url_not_allowed',
            ),
          },
        },
      },
      async (request, reply) => {
        requireMerchant(request);
        const { endpointId } = request.params;
        await visibleEndpoint(service, request, endpointId);
        const { url, eventTypes, description } = request.body;
        const change = {
          ...(url !== undefined ? { url: await checkedUrl(service, url) } : {}),
          ...(eventTypes !== undefined ? { eventTypes } : {}),
          ...(description !== undefined ? { description } : {}),
        };
        await runCommand(request, reply, service, async (context) => {
          const { endpoint, position } = await service.webhookEndpoints.update(endpointId, change, context);
          return { statusCode: 200, body: toWebhookEndpointView(endpoint, position) };
        });
      },
    );

    const actions = [
      [
        'disable',
        'Disable a webhook endpoint',
        'No messages are made for it, and those due are discarded, until it is enabled again.',
      ],
      ['enable', 'Enable a webhook endpoint', 'Messages are made for it again (from the events after this one).'],
      [
        'delete',
        'Delete a webhook endpoint',
        'For good: its id answers 404 from now on, and its messages are discarded.',
      ],
    ] as const;
    for (const [action, summary, description] of actions) {
      app.post(
        `/v1/webhook-endpoints/:endpointId/${action}`,
        {
          schema: {
            tags: ['webhooks'],
            summary,
            description: `${description} Its merchant only.`,
            headers: optionalIdempotencyHeaders,
            params: endpointParams,
            response: { 200: webhookEndpointView, ...problemResponses('forbidden', 'webhook_endpoint_not_found') },
          },
        },
        async (request, reply) => {
          requireMerchant(request);
          const { endpointId } = request.params;
          await visibleEndpoint(service, request, endpointId);
          await runCommand(request, reply, service, async (context) => {
            const commands = service.webhookEndpoints;
            const { endpoint, position } =
              action === 'disable'
                ? await commands.disable(endpointId, 'merchant', context)
                : action === 'enable'
                  ? await commands.enable(endpointId, context)
                  : await commands.delete(endpointId, context);
            return { statusCode: 200, body: toWebhookEndpointView(endpoint, position) };
          });
        },
      );
    }

    app.post(
      '/v1/webhook-endpoints/:endpointId/secret/rotate',
      {
        schema: {
          tags: ['webhooks'],
          summary: "Rotate a webhook endpoint's secret",
          description:
            'A new secret, shown only in this answer. The previous one keeps signing beside it (two `v1,` signatures per message) for WEBHOOK_SECRET_OVERLAP_SECONDS (default 24 h) from now, so the receiver can switch over. Its merchant only.',
          headers: idempotencyHeaders,
          params: endpointParams,
          response: {
            200: webhookEndpointWithSecretView,
            ...problemResponses('forbidden', 'webhook_endpoint_not_found'),
          },
        },
      },
      async (request, reply) => {
        requireMerchant(request);
        const { endpointId } = request.params;
        await visibleEndpoint(service, request, endpointId);
        // As registration: not recorded as an answer (it holds a secret); a retry with the same key is
        // the same append (derived event id), so it rotates once and shows the current secret.
        const { endpoint, position } = await service.webhookEndpoints.rotateSecret(
          endpointId,
          service.config.webhooks.secretOverlapSeconds,
          commandContextOf(request, service.clock),
        );
        await reply.status(200).send(withSecret(endpoint, position));
      },
    );
  };
}

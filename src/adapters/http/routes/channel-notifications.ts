import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deriveId, type CommandContext } from '../../../commands/command-context.js';
import { channelProfileJson } from '../../../domain/channels/routing-record.js';
import { CHANNEL_NOTIFICATIONS_PATH } from '../../channels/channel-setup.js';
import type { LedgerService } from '../../ledger-service.js';
import { requireOperator } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';

/** A channel's callback is small (one order's state); anything bigger is not one. */
const MAX_NOTIFICATION_BYTES = 64 * 1024;

const channelParams = z.object({ channel: z.string().min(1).max(32) });

/**
 * The notify endpoint the channels post their asynchronous results to (`<base>/v1/channel-notifications/
 * <channel>`, the URL the gateway gives with each order). Not signed by a merchant: authenticated by the
 * channel's own signature (`gateway.verifyNotification`), over the exact bytes received: this plugin's
 * content-type parser keeps every body as a Buffer (this route only; the rest of the API parses JSON).
 * Applied through the decider, so a duplicate, a stale `sequence` or a result for a finished order changes
 * nothing, and answered with the channel's acknowledgement so it stops resending.
 */
/**
 * The OpenAPI description of the notify endpoint's body, which no schema validates (the route keeps the
 * raw bytes: the channel's signature is over them): added to the document by the swagger transform.
 */
export function describeRawNotificationBody<T extends { schema: object; url: string }>(transformed: T): T {
  if (!transformed.url.startsWith(`${CHANNEL_NOTIFICATIONS_PATH}/`)) return transformed;
  const body = {
    type: 'string',
    format: 'binary',
    description:
      "The channel's signed message, exactly as it sent it (its own format and content type; the signature, in the channel's headers, covers the path and these bytes). At most 64 KiB.",
  };
  return {
    ...transformed,
    schema: {
      ...transformed.schema,
      body,
      consumes: ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml'],
    },
  };
}

export function channelNotificationRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_NOTIFICATION_BYTES }, (_request, body, done) =>
      done(null, body),
    );
    app.post(
      `${CHANNEL_NOTIFICATIONS_PATH}/:channel`,
      {
        schema: {
          tags: ['channels'],
          summary: "A channel's asynchronous result (its callback)",
          description:
            "Posted by a channel, signed with the channel's key (not a merchant's): a bad signature answers 401 signature_invalid (a stale one timestamp_skewed), a body that is not the channel's message 400 validation_failed, an unknown channel 400 unknown_channel. A verified message is applied once (duplicates, out-of-order and late results change nothing) and answered with the channel's acknowledgement body.",
          params: channelParams,
          response: {
            200: z.string().describe("The channel's acknowledgement, in its own format"),
            ...problemResponses(
              'signature_invalid',
              'timestamp_skewed',
              'validation_failed',
              'unknown_channel',
              'body_too_large',
              'storage_unavailable',
              'shutting_down',
            ),
          },
        },
      },
      async (request, reply) => {
        const { channel } = request.params;
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const checked = service.channels.gateway.verifyNotification(channel, {
          path: request.url.split('?')[0]!,
          headers: request.headers,
          rawBody,
        });
        if (checked === null)
          throw new HttpProblem(400, 'unknown_channel', 'Unknown payment channel', `no channel ${channel}`);
        if (!checked.ok) {
          if (checked.reason === 'bad_signature')
            throw new HttpProblem(
              401,
              'signature_invalid',
              'Invalid signature',
              'the channel signature does not verify',
            );
          if (checked.reason === 'stale_timestamp')
            throw new HttpProblem(401, 'timestamp_skewed', 'Stale message', 'the message is too old or too far ahead');
          throw new HttpProblem(400, 'validation_failed', 'Invalid notification', `the message is ${checked.reason}`);
        }
        const now = service.clock.now().toISO()!;
        const context: CommandContext = {
          actor: `channel:${channel}`,
          correlationId: request.id,
          causationId: null,
          idempotencyKey: null,
          operationKey: deriveId(checked.notification.notificationId, `notification\u0000${channel}`),
          occurredAt: now,
        };
        await service.channelPayments.applyNotification(channel, checked.notification, context);
        const ack = checked.acknowledgement;
        // The channel's acknowledgement is its own (a 200 in every dialect we speak; asserted by the schema).
        return reply
          .code(200)
          .type(ack.contentType)
          .serializer((payload) => String(payload))
          .send(ack.body);
      },
    );
  };
}

const channelStandingView = z.object({
  channelId: z.string(),
  profile: z
    .record(z.string(), z.unknown())
    .describe('Capabilities (methods and what they cover, fees), currencies and limits; amounts in minor units'),
  health: z.object({
    breaker: z.enum(['closed', 'open', 'half_open']),
    admits: z.boolean(),
    sampleCount: z.int(),
    successRatePpm: z.int(),
    meanLatencyMs: z.int(),
  }),
  dailyUsedMinor: z.object({ charge: z.string(), payout: z.string() }).describe("This process's count for today"),
});

export const channelsView = z
  .object({
    ruleVersion: z.string(),
    explorationSharePpm: z.int(),
    minSuccessRatePpm: z.int(),
    minSamples: z.int(),
    maxMeanLatencyMs: z.int(),
    channels: z.array(channelStandingView),
  })
  .meta({ id: 'ChannelStandings' });

/** Operators: the routing table (rules and each channel's profile) and the live health the router sees. */
export function channelRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/channels',
      {
        schema: {
          tags: ['channels'],
          summary: 'Channels: the routing table and their live health (operators)',
          description:
            "The router's rules, each channel's profile, and this instance's view of its health (breaker, success rate and latency over the window) and of today's usage against its daily limit.",
          response: { 200: channelsView, ...problemResponses('forbidden') },
        },
      },
      async (request) => {
        requireOperator(request);
        const gateway = service.channels.gateway;
        const { channels: _profiles, ...rules } = gateway.rules();
        return {
          ...rules,
          channels: gateway.standings().map((standing) => ({
            channelId: standing.channelId,
            profile: channelProfileJson.encode(standing.profile),
            health: standing.health,
            dailyUsedMinor: {
              charge: standing.dailyUsedMinor.charge.toString(),
              payout: standing.dailyUsedMinor.payout.toString(),
            },
          })),
        };
      },
    );
  };
}

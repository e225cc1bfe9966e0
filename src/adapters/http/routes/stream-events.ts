import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkLink, type StreamLink } from '../../../audit/chain-link.js';
import { LEDGER_STREAM_PREFIXES } from '../../../domain/stream-categories.js';
import { eventMetadataSchema, streamIdSchema, type RecordedEvent } from '../../../ports/event-store.js';
import type { LedgerService } from '../../ledger-service.js';
import { positionString } from '../api-schemas.js';
import { requireOperator } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import { pageLimit } from '../read-model-queries.js';

/**
 * The raw events of one ledger stream (an operation's, an account's, an entity's...), each with its hash
 * and whether it links to the one before it (the hash chain of docs/auditing.md, checked as `ledger audit
 * verify` checks it, with checkLink). For operators: what happened to an operation, event by event.
 */
export const STREAM_EVENTS_PAGE_SIZE_DEFAULT = 100;
export const STREAM_EVENTS_PAGE_SIZE_MAX = 500;

export const streamEventView = z.object({
  revision: z.string().describe('Revision in the stream, from 0'),
  position: positionString.describe('Position in the global log'),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  metadata: eventMetadataSchema,
  prevHash: z.string().describe('The hash of the event before it in its stream (the genesis hash for the first)'),
  hash: z.string().describe('sha256 of prevHash and the canonical content (docs/auditing.md)'),
  linked: z.boolean().describe('Its revision follows, its prevHash is the hash before it, and its hash recomputes'),
});

export const streamEventsView = z
  .object({
    streamId: z.string(),
    events: z.array(streamEventView),
    chain: z.object({
      verified: z
        .boolean()
        .describe('Every event of this page links (and, past the first page, to the event before it)'),
      firstBreak: z
        .object({
          revision: z.string(),
          check: z.enum(['revision', 'prevHash', 'hash']),
          expected: z.string(),
          found: z.string(),
        })
        .nullable(),
    }),
    nextRevision: z.string().nullable().describe('Pass as `fromRevision` for the next page; null on the last'),
  })
  .meta({ id: 'StreamEvents' });

export const streamEventsQuery = z.strictObject({
  fromRevision: z.coerce.number().int().min(0).default(0).describe('First revision of the page (default 0)'),
  limit: pageLimit(STREAM_EVENTS_PAGE_SIZE_DEFAULT, STREAM_EVENTS_PAGE_SIZE_MAX),
});

function isLedgerStream(streamId: string): boolean {
  return streamIdSchema.safeParse(streamId).success && LEDGER_STREAM_PREFIXES.some((p) => streamId.startsWith(p));
}

export function streamEventRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/streams/:streamId/events',
      {
        schema: {
          tags: ['log'],
          summary: "A ledger stream's raw events, with their hashes and the chain checked",
          description:
            'The events of one stream (`payment-<id>`, `account-<id>`, `entity-<id>`...: the ledger categories of docs/architecture.md), in revision order, a page at a time, each with its hash and whether it links to the event before it. A stream with no events answers 404 `stream_not_found`. Operators only.',
          params: z.object({ streamId: z.string().min(1).max(100) }),
          querystring: streamEventsQuery,
          response: { 200: streamEventsView, ...problemResponses('forbidden', 'invalid_query', 'stream_not_found') },
        },
      },
      async (request) => {
        requireOperator(request);
        const { streamId } = request.params;
        if (!isLedgerStream(streamId))
          throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'streamId must name a ledger stream');
        const { fromRevision, limit } = request.query;
        // The event before the page, to check the page's first link against it.
        let last: StreamLink | undefined;
        if (fromRevision > 0) {
          for await (const before of service.eventStore.readStream(streamId, {
            fromRevision: BigInt(fromRevision - 1),
            maxCount: 1,
          })) {
            last = { revision: before.revision, hash: before.hash };
          }
        }
        const events: RecordedEvent[] = [];
        for await (const event of service.eventStore.readStream(streamId, {
          fromRevision: BigInt(fromRevision),
          maxCount: limit + 1,
        })) {
          events.push(event);
        }
        if (events.length === 0 && fromRevision === 0)
          throw new HttpProblem(404, 'stream_not_found', 'Not found', `stream ${streamId} has no events`);
        const page = events.slice(0, limit);
        let firstBreak: z.output<typeof streamEventsView>['chain']['firstBreak'] = null;
        const views = page.map((event) => {
          const broken = fromRevision > 0 && last === undefined ? undefined : checkLink(last, event);
          last = { revision: event.revision, hash: event.hash };
          if (broken && !firstBreak)
            firstBreak = {
              revision: broken.revision.toString(),
              check: broken.check,
              expected: broken.expected,
              found: broken.found,
            };
          return {
            revision: event.revision.toString(),
            position: event.position.toString(),
            type: event.type,
            data: event.data,
            metadata: event.metadata,
            prevHash: event.prevHash,
            hash: event.hash,
            linked: broken === undefined,
          };
        });
        return {
          streamId,
          events: views,
          chain: { verified: firstBreak === null, firstBreak },
          nextRevision: events.length > limit ? String(fromRevision + limit) : null,
        };
      },
    );
  };
}

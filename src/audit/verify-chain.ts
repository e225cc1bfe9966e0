import type { EventStore } from '../ports/event-store.js';
import { PROGRESS_EVERY_EVENTS, auditedEvents, type AuditScope } from './audited-events.js';
import { checkLink, type ChainBreak, type StreamLink } from './chain-link.js';

export interface VerifyOptions extends AuditScope {
  /** `done` and `total` are in the units of AuditedEvents: positions (whole log) or events (one stream). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface VerifyResult {
  readonly streams: number;
  readonly events: number;
  /** Position of the last event checked; 'start' when nothing was. */
  readonly lastPosition: bigint | 'start';
  /** The first event, in log order, that breaks its stream's chain; the walk stops there. */
  readonly firstBreak: ChainBreak | null;
}

/**
 * Recomputes the per-stream hash chains (see src/domain/audit/hash-chain.ts) over the whole log or one
 * stream, through the event store port, so it audits every adapter alike. Idempotency streams are
 * chained like every other stream and are checked too.
 *
 * Memory: one `readAll` page, plus one entry per stream seen (stream id, last revision, last hash:
 * about 200 bytes), because a stream's next event may come any number of pages later. A million
 * streams (accounts plus idempotency keys) cost about 200 MB; verify one stream at a time beyond that.
 */
export async function verifyChain(eventStore: EventStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  const walk = await auditedEvents(eventStore, options);
  const links = new Map<string, StreamLink>();
  let events = 0;
  let lastPosition: bigint | 'start' = 'start';
  for await (const event of walk.events) {
    const broken = checkLink(links.get(event.streamId), event);
    if (broken) {
      // The broken event counts as checked, and so does its stream if this was its first event.
      const streams = links.size + (links.has(event.streamId) ? 0 : 1);
      return { streams, events: events + 1, lastPosition: event.position, firstBreak: broken };
    }
    links.set(event.streamId, { revision: event.revision, hash: event.hash });
    events += 1;
    lastPosition = event.position;
    if (events % PROGRESS_EVERY_EVENTS === 0) options.onProgress?.(walk.progressOf(event), walk.total);
  }
  options.onProgress?.(walk.total, walk.total);
  return { streams: links.size, events, lastPosition, firstBreak: null };
}

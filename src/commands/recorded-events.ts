import type { EventStore, RecordedEvent } from '../ports/event-store.js';

/**
 * How far back a retried command looks for its own earlier events. A retry comes within the
 * idempotency claim lease (seconds), so its events are among the stream's latest; the bound keeps a
 * retry's cost fixed on a stream of any length.
 */
export const RETRY_LOOKBACK_EVENTS = 10_000;

/** Finds an event by id among the stream's most recent events (newest first). */
export async function findRecentEvent(
  eventStore: EventStore,
  streamId: string,
  eventId: string,
): Promise<RecordedEvent | undefined> {
  for await (const event of eventStore.readStream(streamId, {
    direction: 'backwards',
    maxCount: RETRY_LOOKBACK_EVENTS,
  })) {
    if (event.metadata.eventId === eventId) return event;
  }
  return undefined;
}

/**
 * Finds an event by id among the stream's events at or after a global position (newest first). Exact,
 * however many events the stream took since: the cost is the number of events after `notBeforePosition`,
 * which is why callers bound it by when the work that could have written the event began.
 */
export async function findEventSince(
  eventStore: EventStore,
  streamId: string,
  eventId: string,
  notBeforePosition: bigint,
): Promise<RecordedEvent | undefined> {
  for await (const event of eventStore.readStream(streamId, { direction: 'backwards' })) {
    if (event.position < notBeforePosition) return undefined;
    if (event.metadata.eventId === eventId) return event;
  }
  return undefined;
}

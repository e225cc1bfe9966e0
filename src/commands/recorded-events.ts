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

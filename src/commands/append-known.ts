import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppendOutcomeUnknownError,
  EventStoreUnavailableError,
  readBackAppend,
  type AppendResult,
  type EventStore,
  type NewEvent,
} from '../ports/event-store.js';

/** Read-backs of an append whose outcome the store could not tell, before giving up on knowing it. */
export const MAX_READ_BACKS = 3;
/** Pause before each read-back, times its number: a commit in flight gets time to land or fail. */
export const READ_BACK_BACKOFF_MS = 100;

/**
 * Appends at an exact expected revision and, when the store cannot tell whether the append was written
 * (AppendOutcomeUnknownError), reads it back before anything else is tried:
 *   - written: answers as the append would have;
 *   - absent or superseded: appends the same events at the same expected revision again. At most one of
 *     the two appends can commit (they expect the same revision), and one that already landed is answered
 *     as a repeat by the port's idempotency, so the events are stored once; a revision another writer took
 *     comes back as WrongExpectedRevisionError, to decide again on the new state.
 * A store that stays unavailable leaves the outcome unknown: the last AppendOutcomeUnknownError is thrown,
 * and the caller must not act as if nothing was written.
 */
export async function appendKnown(
  store: EventStore,
  streamId: string,
  events: readonly NewEvent[],
  expected: bigint | 'no_stream',
): Promise<AppendResult> {
  let unknown: AppendOutcomeUnknownError;
  try {
    return await store.appendToStream(streamId, events, expected);
  } catch (error) {
    if (!(error instanceof AppendOutcomeUnknownError)) throw error;
    unknown = error;
  }
  for (let readBack = 1; readBack <= MAX_READ_BACKS; readBack += 1) {
    await sleep(READ_BACK_BACKOFF_MS * readBack);
    try {
      const back = await readBackAppend(store, streamId, events, expected);
      if (back.outcome === 'written') return back.result;
      return await store.appendToStream(streamId, events, expected);
    } catch (error) {
      if (error instanceof AppendOutcomeUnknownError) unknown = error;
      else if (!(error instanceof EventStoreUnavailableError)) throw error;
    }
  }
  throw unknown;
}

import { randomUUID } from 'node:crypto';
import {
  IDEMPOTENCY_WINDOW_EVENTS,
  type AppendResult,
  type ExpectedRevision,
  type NewEvent,
} from '../../src/ports/event-store.js';
import { EventStoreWrapper } from './event-store-wrapper.js';
import { collect } from '../support/events.js';

/**
 * Wraps an event store so that it recognises a repeated event id only as far back as the port promises
 * (IDEMPOTENCY_WINDOW_EVENTS), and beyond that stores the events again, as EventStoreDB does for an append
 * written exactly at the stream's head. The embedded store recognises repeats at any depth; code tested
 * through this wrapper cannot lean on that. Every other call passes through. Test-only: it reads the whole
 * stream on each append.
 */
export class WindowOnlyEventStore extends EventStoreWrapper {
  /** Appends that repeated ids from beyond the window and were stored again. */
  storedAgain = 0;

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    const newestFirst = await collect(this.inner.readStream(streamId, { direction: 'backwards' }));
    const inWindow = new Set(newestFirst.slice(0, IDEMPOTENCY_WINDOW_EVENTS).map((e) => e.metadata.eventId));
    const deeper = new Set(newestFirst.slice(IDEMPOTENCY_WINDOW_EVENTS).map((e) => e.metadata.eventId));
    const forgotten = events.some((e) => deeper.has(e.metadata.eventId) && !inWindow.has(e.metadata.eventId));
    if (!forgotten) return this.inner.appendToStream(streamId, events, expectedRevision);
    this.storedAgain += 1;
    const again = events.map((e) => ({ ...e, metadata: { ...e.metadata, eventId: randomUUID() } }));
    return this.inner.appendToStream(streamId, again, expectedRevision);
  }
}

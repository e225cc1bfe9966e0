import type { EventStore, RecordedEvent } from '../ports/event-store.js';

/** Events fetched per `readAll` call: one page is all an audit holds of the log at a time. */
export const AUDIT_PAGE_SIZE_EVENTS = 1_000;
/** How often (in events) audits report progress: often enough for a smooth bar, rarely enough to cost nothing. */
export const PROGRESS_EVERY_EVENTS = 500;

/** What an audit walks: the whole global log, or one stream. */
export interface AuditScope {
  /** One stream; absent: every stream, in global log order. */
  readonly streamId?: string;
  readonly pageSizeEvents?: number;
}

export interface AuditedEvents {
  /** Log order for the whole log, revision order for one stream. */
  readonly events: AsyncIterable<RecordedEvent>;
  /** Progress units of the whole walk: the head position (whole log) or the event count (one stream). */
  readonly total: number;
  /** How far along `total` an event is. */
  progressOf(event: RecordedEvent): number;
}

/**
 * The events an audit reads, fixed at the moment it starts: the log's head (or the stream's last
 * revision) is read first and nothing appended after it is included, so a walk of a live store ends and
 * its summary describes one definite prefix of the log.
 */
export async function auditedEvents(eventStore: EventStore, scope: AuditScope = {}): Promise<AuditedEvents> {
  const pageSizeEvents = scope.pageSizeEvents ?? AUDIT_PAGE_SIZE_EVENTS;
  if (scope.streamId !== undefined) {
    const streamId = scope.streamId;
    let count = 0n;
    for await (const last of eventStore.readStream(streamId, { direction: 'backwards', maxCount: 1 }))
      count = last.revision + 1n;
    return {
      events:
        count === 0n
          ? emptyLog()
          : eventStore.readStream(streamId, { direction: 'forwards', fromRevision: 0n, maxCount: Number(count) }),
      total: Number(count),
      progressOf: (event) => Number(event.revision) + 1,
    };
  }
  const head = await eventStore.headPosition();
  return {
    events: head === 'start' ? emptyLog() : readLogThrough(eventStore, head, pageSizeEvents),
    total: head === 'start' ? 0 : Number(head),
    progressOf: (event) => Number(event.position),
  };
}

/** Every event of the global log up to `lastPosition`, one `readAll` page in memory at a time. */
async function* readLogThrough(
  eventStore: EventStore,
  lastPosition: bigint,
  pageSizeEvents: number,
): AsyncGenerator<RecordedEvent> {
  let after: bigint | 'start' = 'start';
  while (after === 'start' || after < lastPosition) {
    const page = await readPage(eventStore, after, pageSizeEvents);
    if (page.length === 0) return;
    for (const event of page) {
      if (event.position > lastPosition) return;
      yield event;
    }
    after = page[page.length - 1]!.position;
  }
}

/** A page that cannot be read (say, an event whose stored JSON was damaged) is reported by where it starts. */
async function readPage(
  eventStore: EventStore,
  after: bigint | 'start',
  pageSizeEvents: number,
): Promise<RecordedEvent[]> {
  try {
    return await eventStore.readAll({ after, maxCount: pageSizeEvents });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot read the page of up to ${pageSizeEvents} events after position ${String(after)}: ${message}`,
      { cause: error },
    );
  }
}

async function* emptyLog(): AsyncGenerator<RecordedEvent> {
  // Yields nothing: an empty log, or a stream with no events.
}

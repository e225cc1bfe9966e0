import {
  AccessDeniedError,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamSubscription,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
  type StreamingRead,
} from '@eventstore/db-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { GENESIS_HASH, chainHash } from '../../domain/audit/hash-chain.js';
import type { JsonObject } from '../../domain/shared/json.js';
import {
  EventStoreUnavailableError,
  IDEMPOTENCY_WINDOW_EVENTS,
  InvalidEventError,
  MAX_READ_ALL_PAGE,
  WrongExpectedRevisionError,
  matchesFilter,
  readBackAppend,
  validateAppend,
  type AllSubscription,
  type AppendResult,
  type EventFilter,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '../../ports/event-store.js';
import { appendErrorOf, isTransportError, messageOf, readErrorOf } from './esdb-errors.js';

/**
 * Appends with 'any' or 'stream_exists' re-read the head and retry when another writer got in between. When
 * every attempt collides the append fails as unavailable (nothing written), never as a wrong revision: a
 * caller that expects 'any' cannot act on one, and the embedded adapter never answers it one.
 */
export const MAX_APPEND_ATTEMPTS = 10;
/** Upper bound of the random pause before such a retry, times the attempt number: writers that collided spread out. */
export const APPEND_RETRY_BACKOFF_MS = 20;
/**
 * EventStoreDB's client (6.x) cannot filter a `$all` read on the server, so `readAll` filters here. Once a
 * call has found at least one match it stops after skipping this many other events and returns a short
 * page; a call that has found nothing keeps reading, so an empty page always means "nothing after `after`".
 */
export const MAX_SKIPPED_EVENTS_PER_READ_ALL = 50_000;
/**
 * Positions handed out by this adapter are record positions. A caller may pass any other number as
 * `after` (it only means "strictly after"); the server cannot start a read there, so the adapter walks the
 * log back from the end to the first record at or before it, at most this many events.
 */
export const MAX_POSITION_RESOLVE_EVENTS = 100_000;
/** How long `connect` waits for the server to answer its first read. */
export const CONNECT_TIMEOUT_MS = 5_000;
/**
 * The commit and prepare positions a server sends for an event it has no `$all` position for (2^64 - 1, an
 * unsigned -1). Taken as a position, it is above every real one: a read model would never reach it.
 */
export const NO_POSITION = 2n ** 64n - 1n;

/** The parts of a recorded event the adapter reads; stream reads and `$all` reads share them. */
export interface EsdbRecord {
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position;
}

/**
 * The part of EventStoreDB's client the adapter calls. `EsdbEventStore.connect` is the way to get a store;
 * `EsdbEventStore.over` takes any object of this shape, so tests can put the adapter over an emulation of
 * the server's rules (tests/support/esdb-server-emulator.ts) and see the adapter's own decisions.
 */
export type EsdbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

/** One of a stream's latest events, as the append path needs it. */
interface TailEvent {
  readonly eventId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly hash: string;
}

/** Another writer appended to the stream between the head read and the append. */
class StreamMovedError extends Error {
  constructor(streamId: string) {
    super(`stream ${streamId} moved while appending`);
  }
}

/**
 * The production event store: EventStoreDB over gRPC.
 *
 * Each event's EventStoreDB metadata is our EventMetadata plus `prevHash` and `hash`, the same chain the
 * embedded adapter keeps (src/domain/audit/hash-chain.ts). The chain must never fork, so every append is
 * made at the exact revision whose hash it chained from: the adapter reads the stream's head, chains the
 * new events from it, and appends with that revision as EventStoreDB's expected revision. A caller's own
 * exact expectation ('no_stream' or a revision) is checked against the head first; 'any' and
 * 'stream_exists' retry on a concurrent writer, at most MAX_APPEND_ATTEMPTS times.
 *
 * Positions are EventStoreDB commit positions. For events appended by this adapter the commit and prepare
 * positions are equal, so one bigint is a complete `$all` position.
 */
export class EsdbEventStore implements EventStore {
  readonly engine = 'esdb' as const;
  private closed = false;
  private readonly subscriptions = new Set<AllSubscription>();
  /** The last queued append of each stream with appends in flight (see `appendToStream`). */
  private readonly appendQueues = new Map<string, Promise<unknown>>();

  private constructor(
    private readonly client: EsdbClient,
    /** The server, without credentials: for error messages. */
    private readonly endpoint: string,
  ) {}

  /** Connects and reads once, so a wrong address or a stopped server fails here rather than later. */
  static async connect(connectionString: string): Promise<EsdbEventStore> {
    const endpoint = describeEndpoint(connectionString);
    return EsdbEventStore.over(EventStoreDBClient.connectionString(connectionString), endpoint);
  }

  /**
   * A store over a client already made; `endpoint` names the server in messages and must hold no
   * credentials. Reads once, as `connect` does; on failure the client is disposed.
   */
  static async over(client: EsdbClient, endpoint: string): Promise<EsdbEventStore> {
    const store = new EsdbEventStore(client, endpoint);
    try {
      await store.probe();
    } catch (error) {
      await client.dispose().catch(() => undefined);
      throw error;
    }
    return store;
  }

  private async probe(): Promise<void> {
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new EventStoreUnavailableError(
              `EventStoreDB at ${this.endpoint} did not answer within ${CONNECT_TIMEOUT_MS} ms`,
            ),
          ),
        CONNECT_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([readToEnd(read), timeout]);
    } catch (error) {
      if (error instanceof EventStoreUnavailableError) throw error;
      // Unreachable, refused, not an EventStoreDB (a proxy answering 404), access denied: at start-up
      // each means the same, there is no event store to use; the reason is in the message.
      const reason = isTransportError(error) ? 'is unreachable' : 'cannot be used';
      throw new EventStoreUnavailableError(`EventStoreDB at ${this.endpoint} ${reason}: ${messageOf(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      await read.cancel().catch(() => undefined);
    }
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    validateAppend(streamId, events, expectedRevision);
    this.assertOpen();
    try {
      // Appends to one stream from this process run one after another: concurrent ones would chain from the
      // same head and all but one would fail. Other processes are handled by the expected-revision check.
      return await this.queued(streamId, () => this.appendChained(streamId, events, expectedRevision));
    } catch (error) {
      // Met while reading the stream's tail: as much a refusal of the append as when appending.
      if (error instanceof StreamDeletedError || error instanceof AccessDeniedError) {
        throw appendErrorOf(error, this.endpoint, streamId);
      }
      throw this.toPortError(error);
    }
  }

  private queued<R>(streamId: string, work: () => Promise<R>): Promise<R> {
    const previous = this.appendQueues.get(streamId) ?? Promise.resolve();
    const result = previous.then(work);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.appendQueues.set(streamId, settled);
    void settled.then(() => {
      if (this.appendQueues.get(streamId) === settled) this.appendQueues.delete(streamId);
    });
    return result;
  }

  /**
   * Every kind reads the idempotency window before appending at the head: the server compares event ids
   * only for an expected revision behind the head (and, for any / stream_exists, through a bounded cache),
   * so "writing exactly to the end" is accepted as new whatever the ids, and a step run twice (a resume and
   * a client retry, or an append that timed out and landed late) would be stored twice.
   */
  private async appendChained(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const exact = expected === 'no_stream' || typeof expected === 'bigint';
    for (let attempt = 1; ; attempt += 1) {
      const tail = await this.readTail(streamId, IDEMPOTENCY_WINDOW_EVENTS);
      const head = tail[0];
      if (!accepts(expected, head)) return this.replayOrConflict(streamId, events, expected, tail);
      const replay = findReplay(tail, streamId, events);
      if (replay) return replay;
      try {
        return await this.appendAfter(streamId, events, head);
      } catch (error) {
        if (!(error instanceof StreamMovedError)) throw error;
        // Another writer got in between the read and the append (perhaps with these very events).
        if (exact) return this.replayOrConflict(streamId, events, expected);
        if (attempt < MAX_APPEND_ATTEMPTS) {
          await sleep(Math.random() * APPEND_RETRY_BACKOFF_MS * attempt);
          continue;
        }
        const replayed = findReplay(await this.readTail(streamId, IDEMPOTENCY_WINDOW_EVENTS), streamId, events);
        if (replayed) return replayed;
        throw new EventStoreUnavailableError(
          `stream ${streamId}: ${MAX_APPEND_ATTEMPTS} appends in a row collided with other writers; nothing was written`,
        );
      }
    }
  }

  /** Appends `events` chained from `head`, expecting the stream to be exactly there. */
  private async appendAfter(
    streamId: string,
    events: readonly NewEvent[],
    head: TailEvent | undefined,
  ): Promise<AppendResult> {
    let revision = head ? head.revision : -1n;
    let prevHash = head ? head.hash : GENESIS_HASH;
    const proposed = events.map((event) => {
      revision += 1n;
      const metadata = event.metadata as unknown as JsonObject;
      const hash = chainHash(prevHash, {
        streamId,
        revision,
        eventId: event.metadata.eventId,
        type: event.type,
        data: event.data,
        metadata,
      });
      const stored = { ...event.metadata, prevHash, hash };
      prevHash = hash;
      // Our event id is EventStoreDB's event id, so the server's own duplicate detection agrees with ours.
      return jsonEvent({ id: event.metadata.eventId, type: event.type, data: event.data, metadata: stored });
    });
    let result;
    try {
      result = await this.client.appendToStream(streamId, proposed, {
        expectedRevision: head ? head.revision : NO_STREAM,
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) throw new StreamMovedError(streamId);
      throw appendErrorOf(error, this.endpoint, streamId);
    }
    // With throwOnAppendFailure=false in the connection string the client reports a conflict this way.
    if (!result.success) throw new StreamMovedError(streamId);
    // The append's position is the commit position of its last event. The server omits it (or sends
    // NO_POSITION) when it recognised the append as a repeat of one it already holds; then the event says.
    const position =
      result.position && result.position.commit >= 0n && result.position.commit !== NO_POSITION
        ? result.position.commit
        : await this.positionOfRevision(streamId, result.nextExpectedRevision);
    return { nextExpectedRevision: result.nextExpectedRevision, position };
  }

  /**
   * The append cannot go ahead: answer as the original if it is a repeat, else refuse it. An exact expected
   * revision behind the head is compared with the events right after it, at any depth, as the server does.
   */
  private async replayOrConflict(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    window?: readonly TailEvent[],
  ): Promise<AppendResult> {
    if (expected === 'no_stream' || typeof expected === 'bigint') {
      const back = await readBackAppend(this, streamId, events, expected);
      if (back.outcome === 'written') return back.result;
    }
    const tail = window ?? (await this.readTail(streamId, IDEMPOTENCY_WINDOW_EVENTS));
    const replay = findReplay(tail, streamId, events);
    if (replay) return replay;
    throw new WrongExpectedRevisionError(streamId, expected, tail[0]?.revision ?? 'no_stream');
  }

  /** The stream's latest events, newest first. */
  private async readTail(streamId: string, maxCount: number): Promise<TailEvent[]> {
    const tail: TailEvent[] = [];
    for await (const event of this.readStream(streamId, { direction: 'backwards', maxCount })) {
      tail.push({
        eventId: event.metadata.eventId,
        revision: event.revision,
        position: event.position,
        hash: event.hash,
      });
    }
    return tail;
  }

  private async positionOfRevision(streamId: string, revision: bigint): Promise<bigint> {
    for await (const event of this.readStream(streamId, { fromRevision: revision, maxCount: 1 })) {
      if (event.revision === revision) return event.position;
    }
    throw new Error(`stream ${streamId}: revision ${revision} was appended but cannot be read back`);
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return;
    let fromRevision: ReadRevision = backwards ? END : START;
    if (options.fromRevision !== undefined) {
      // Like the embedded adapter: forwards from a negative revision is from the start, backwards is nothing.
      if (options.fromRevision < 0n && backwards) return;
      if (options.fromRevision >= 0n) fromRevision = options.fromRevision;
    }
    const read = this.client.readStream(streamId, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision,
      maxCount,
    });
    try {
      for await (const resolved of drain(read)) {
        if (resolved.event) yield toRecordedEvent(resolved.event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return;
      throw this.toPortError(error);
    }
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    assertOneFilterKind(options.filter);
    const limit = Math.min(options.maxCount, MAX_READ_ALL_PAGE);
    if (!(limit > 0)) return [];
    const { after, filter } = options;
    try {
      try {
        return await this.scanAll(startOf(after), after, limit, filter);
      } catch (error) {
        // A position that is not a record's is refused by the server, for reads as gRPC Unknown (only
        // subscriptions say "invalid position", code 3): any answer but a transport failure is worth one
        // retry from a record position, unless `after` was one already.
        if (after === 'start' || isTransportError(error)) throw error;
        const start = await this.findReadableStart(after);
        if (typeof start === 'object' && start.commit === after) throw error;
        return await this.scanAll(start, after, limit, filter);
      }
    } catch (error) {
      throw this.toPortError(error);
    }
  }

  /** Reads `$all` forwards from `from`, keeping user events after `after` that pass the filter. */
  private async scanAll(
    from: ReadPosition,
    after: bigint | 'start',
    limit: number,
    filter: EventFilter | undefined,
  ): Promise<RecordedEvent[]> {
    const afterCommit = after === 'start' ? -1n : after;
    const found: RecordedEvent[] = [];
    let skippedSinceMatch = 0;
    const read = this.client.readAll({ direction: FORWARDS, fromPosition: from });
    for await (const resolved of drain(read)) {
      const event = resolved.event;
      if (
        event &&
        event.position.commit > afterCommit &&
        isUserEvent(event) &&
        matchesFilter(filter, event.streamId, event.type)
      ) {
        found.push(toRecordedEvent(event));
        if (found.length >= limit) break;
        skippedSinceMatch = 0;
      } else if (found.length > 0 && ++skippedSinceMatch >= MAX_SKIPPED_EVENTS_PER_READ_ALL) {
        break;
      }
    }
    return found;
  }

  /**
   * A position the server can read forwards from such that every event after `after` is at or after it:
   * the position of the last record at or before `after`, or the start of the log.
   */
  private async findReadableStart(after: bigint): Promise<ReadPosition> {
    const read = this.client.readAll({
      direction: BACKWARDS,
      fromPosition: END,
      maxCount: MAX_POSITION_RESOLVE_EVENTS,
    });
    let scanned = 0;
    for await (const resolved of drain(read)) {
      scanned += 1;
      const position = resolved.event?.position;
      if (position && position.commit <= after) return position;
    }
    if (scanned < MAX_POSITION_RESOLVE_EVENTS) return START;
    throw new RangeError(
      `position ${after} is not a position EventStoreDB returned, and lies more than ${MAX_POSITION_RESOLVE_EVENTS} events back: cannot read from it`,
    );
  }

  async headPosition(): Promise<bigint | 'start'> {
    this.assertOpen();
    try {
      // No count bound: the read stops at the first user event, and system events (stats, settings,
      // projection links) never run long at the end of a ledger's log. A bound would make the answer wrong.
      const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
      for await (const resolved of drain(read)) {
        if (resolved.event && isUserEvent(resolved.event)) return resolved.event.position.commit;
      }
      return 'start';
    } catch (error) {
      throw this.toPortError(error);
    }
  }

  subscribeToAll(options: SubscribeOptions): AllSubscription {
    this.assertOpen();
    assertOneFilterKind(options.filter);
    const store = this;
    const serverFilter = serverFilterFor(options.filter);
    let closed = false;
    let live: AllStreamSubscription | undefined;

    async function* iterate(): AsyncGenerator<RecordedEvent> {
      let lastDelivered = options.after === 'start' ? -1n : options.after;
      let from = startOf(options.after);
      let startResolved = options.after === 'start';
      while (!closed) {
        const subscription = store.client.subscribeToAll({ fromPosition: from, filter: serverFilter });
        live = subscription;
        try {
          for await (const resolved of subscription) {
            if (closed) return;
            const event = resolved.event;
            // The server filter already excludes system events and non-matching ones; checking again keeps
            // the port's exact semantics (prefixes starting with '$', the resolved start's own event).
            if (!event || event.position.commit <= lastDelivered || !isUserEvent(event)) continue;
            if (!matchesFilter(options.filter, event.streamId, event.type)) continue;
            const recorded = toRecordedEvent(event);
            lastDelivered = recorded.position;
            yield recorded;
          }
          if (closed) return;
          throw new EventStoreUnavailableError(`EventStoreDB at ${store.endpoint} ended the subscription`);
        } catch (error) {
          if (closed) return;
          if (!startResolved && options.after !== 'start' && !isTransportError(error)) {
            // `after` is not a record position (see MAX_POSITION_RESOLVE_EVENTS): start from one before it.
            from = await store.findReadableStart(options.after);
            startResolved = true;
            continue;
          }
          throw store.toPortError(error);
        } finally {
          live = undefined;
          await stopSubscription(subscription);
        }
      }
    }

    const iterator = iterate();
    const handle: AllSubscription = {
      [Symbol.asyncIterator]: () => iterator,
      close: async () => {
        closed = true;
        this.subscriptions.delete(handle);
        // Cancelling the gRPC call does not end the client's stream; destroying it wakes a pending read,
        // which then sees `closed` and ends the iteration.
        if (live) await stopSubscription(live);
        await iterator.return(undefined);
      },
    };
    this.subscriptions.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }

  /** The port's error for a client error met while reading: unavailability becomes EventStoreUnavailableError. */
  private toPortError(error: unknown): unknown {
    return readErrorOf(error, this.endpoint);
  }
}

function accepts(expected: ExpectedRevision, head: TailEvent | undefined): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return head === undefined;
  if (expected === 'stream_exists') return head !== undefined;
  return head !== undefined && head.revision === expected;
}

/**
 * EventStoreDB's idempotence, as the embedded adapter has it: when the first event id is among the
 * stream's latest events and the ids that follow it are exactly the appended ones, the append is a repeat
 * and answers as the original did. `tail` is newest first.
 */
function findReplay(
  tail: readonly TailEvent[],
  streamId: string,
  events: readonly NewEvent[],
): AppendResult | undefined {
  const firstId = events[0]!.metadata.eventId;
  const at = tail.findIndex((event) => event.eventId === firstId);
  if (at === -1) {
    const recorded = new Set(tail.map((event) => event.eventId));
    const reused = events.find((event) => recorded.has(event.metadata.eventId));
    if (reused) throw new InvalidEventError(`event id ${reused.metadata.eventId} is already recorded`);
    return undefined;
  }
  // The events recorded after the first id sit before it in the newest-first tail.
  const stored = tail.slice(Math.max(0, at - events.length + 1), at + 1).reverse();
  const same =
    stored.length === events.length && stored.every((event, i) => event.eventId === events[i]!.metadata.eventId);
  if (!same) throw new WrongExpectedRevisionError(streamId, tail[at]!.revision, tail[at]!.revision);
  const last = stored[stored.length - 1]!;
  return { nextExpectedRevision: last.revision, position: last.position };
}

export function toRecordedEvent(record: EsdbRecord): RecordedEvent {
  if (!record.isJson || !isPlainObject(record.data) || !isPlainObject(record.metadata)) throw notOurs(record);
  const { prevHash, hash, ...metadata } = record.metadata;
  if (typeof prevHash !== 'string' || typeof hash !== 'string') throw notOurs(record);
  if (!record.position || record.position.commit < 0n || record.position.commit >= NO_POSITION)
    throw new Error('EventStoreDB returned an event without its position: version 22.6 or later is required');
  return {
    streamId: record.streamId,
    revision: record.revision,
    position: record.position.commit,
    type: record.type,
    data: record.data as JsonObject,
    metadata: metadata as unknown as EventMetadata,
    prevHash,
    hash,
  };
}

function notOurs(record: EsdbRecord): Error {
  return new Error(
    `event ${record.revision} of stream ${record.streamId} was not written by this ledger: it lacks JSON data or hash-chain metadata`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** EventStoreDB reserves '$' for its own streams and event types (settings, stats, projection links). */
function isUserEvent(event: { readonly streamId: string; readonly type: string }): boolean {
  return !event.streamId.startsWith('$') && !event.type.startsWith('$');
}

function assertOneFilterKind(filter: EventFilter | undefined): void {
  if (filter?.streamPrefixes && filter?.eventTypes)
    throw new InvalidEventError('filter by stream prefixes or event types, not both');
}

function startOf(after: bigint | 'start'): ReadPosition {
  return after === 'start' ? START : { commit: after, prepare: after };
}

/** The server-side part of a subscription's filter; system events are always left out. */
function serverFilterFor(filter: EventFilter | undefined): Filter {
  if (filter?.streamPrefixes && filter.streamPrefixes.length > 0)
    return streamNameFilter({ prefixes: [...filter.streamPrefixes] });
  if (filter?.eventTypes && filter.eventTypes.length > 0) {
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` });
  }
  // No filter, or an empty list (which matches nothing: the client-side check drops everything).
  return excludeSystemEvents();
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Iterates a client read; when the consumer stops early, cancels the gRPC call and lets whatever already
 * arrived flow through unread. Destroying the client's stream instead (what a plain `for await` does on
 * `break`) leaves the underlying call paused with its last messages unread: it never finishes, and the
 * client's dispose() waits for it forever.
 */
async function* drain<T>(read: StreamingRead<T>): AsyncGenerator<T> {
  let finished = false;
  try {
    for await (const item of read.iterator({ destroyOnReturn: false }) as AsyncIterable<T>) yield item;
    finished = true;
  } finally {
    if (!finished) {
      await read.cancel().catch(() => undefined);
      read.resume();
    }
  }
}

async function readToEnd<T>(read: StreamingRead<T>): Promise<void> {
  for await (const _ of drain(read)) {
    // only whether the read succeeds matters
  }
}

async function stopSubscription(subscription: AllStreamSubscription): Promise<void> {
  await subscription.unsubscribe().catch(() => undefined);
  subscription.destroy();
}

/** The connection string without credentials or options: safe for logs and error messages. */
function describeEndpoint(connectionString: string): string {
  return connectionString.replace(/^([a-z+]+:\/\/)[^@/?]*@/i, '$1').split('?')[0]!;
}

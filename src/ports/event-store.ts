import { z } from 'zod';
import type { JsonObject } from '../domain/shared/json.js';

/**
 * The event store port, with EventStoreDB semantics: streams of events numbered by revision (from 0),
 * one global log (`$all`) ordered by position, optimistic concurrency by expected revision, idempotent
 * re-append of the same event ids, and catch-up subscriptions to the global log.
 *
 * Idempotency by event id, what every adapter guarantees for EVERY expected-revision kind:
 *   - an append whose first event id is among the stream's last IDEMPOTENCY_WINDOW_EVENTS events, followed
 *     there by exactly the appended ids, is a repeat: nothing is written and it answers as the first did;
 *   - an append that reuses any of those events' ids otherwise is refused (InvalidEventError or
 *     WrongExpectedRevisionError): an event id in the window is never stored twice;
 *   - with an exact expected revision (a number, or 'no_stream' = -1) behind the head, the events right
 *     after that revision are compared whatever their depth: the same ids there make a repeat.
 * Beyond the window an adapter may recognise more (SQLite: a unique index over all ids) or not
 * (EventStoreDB: an append at the head is not checked by the server). Callers never depend on more.
 *
 * Outcomes of an append, and what the caller may do next:
 *   - written: the AppendResult;
 *   - refused, nothing written: WrongExpectedRevisionError (decide again on the new state),
 *     InvalidEventError (a bug: do not retry), AppendRefusedError (the store will not take it: operators);
 *   - unavailable, nothing written: EventStoreUnavailableError (retry later);
 *   - unknown, may have been written: AppendOutcomeUnknownError. Resolve with `readBackAppend` before
 *     anything is retried or decided again.
 *
 * Adapters: `sqlite` (embedded default) and `esdb` (EventStoreDB). Both are held to
 * tests/contract/event-store.contract.ts, also through tests/contract/faulty-event-store.ts.
 */

/** What the appender expects the stream's last revision to be. */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | bigint;

/** Metadata every event carries. Validated on write; part of the hashed content. */
export const eventMetadataSchema = z.strictObject({
  eventId: z.uuid(),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  idempotencyKey: z.string().min(1).max(255).nullable(),
  actor: z.string().min(1).max(200),
  occurredAt: z.iso.datetime({ offset: false }),
  schemaVersion: z.int().min(1).max(1000),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

/** Event types are PascalCase business facts ("FundsRecharged"); `$` names are reserved by EventStoreDB. */
export const eventTypeSchema = z.string().regex(/^[A-Z][A-Za-z0-9]{0,99}$/);
/** Stream ids are "<category>-<id>" (EventStoreDB's category convention). */
export const streamIdSchema = z.string().regex(/^[a-z][a-z0-9]*-[A-Za-z0-9_.:-]{1,200}$/);

export interface NewEvent {
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent extends NewEvent {
  readonly streamId: string;
  readonly revision: bigint;
  /** Position in the global log. Strictly increasing in commit order. */
  readonly position: bigint;
  /** Hash of the previous event of this stream (GENESIS_HASH for revision 0). */
  readonly prevHash: string;
  /** sha256(prevHash, canonical content): see src/domain/audit/hash-chain.ts. */
  readonly hash: string;
}

export interface AppendResult {
  /** The stream's revision after the append: pass it as the next expected revision. */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last event appended. */
  readonly position: bigint;
}

/** Which events a global read or subscription returns. Stream prefixes or event types, not both. */
export interface EventFilter {
  readonly streamPrefixes?: readonly string[];
  readonly eventTypes?: readonly string[];
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the first revision (forwards) or the last one (backwards). */
  readonly fromRevision?: bigint;
  /** Upper bound on the number of events returned. */
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. 'start' reads from the first event. */
  readonly after: bigint | 'start';
  readonly maxCount: number;
  readonly filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive: the checkpoint already processed. */
  readonly after: bigint | 'start';
  readonly filter?: EventFilter;
}

/**
 * A catch-up subscription: reads the past, then goes live. Iterating yields events in position order,
 * each exactly once per subscription; `close()` ends the iteration.
 */
export interface AllSubscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/** One stream's part of a multi-stream append. */
export interface StreamAppend {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
  readonly expectedRevision: ExpectedRevision;
}

export interface EventStore {
  readonly engine: 'sqlite' | 'esdb';
  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult>;
  /**
   * Optional capability: appends to several streams in ONE commit, all or nothing. Each stream's part is
   * judged exactly as `appendToStream` judges an append (expected revision, idempotency by event id: a part
   * that repeats the stream's events writes nothing and answers as the first did); one part refused refuses
   * the whole, and nothing of it is written. Answers one AppendResult per part, in order. A stream appears
   * at most once. Engines without it (EventStoreDB through the named client) leave it undefined: callers
   * then append stream by stream, a process that must stay correct without the atomicity.
   */
  appendToStreams?(appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  /** Events of one stream. A stream that does not exist reads as empty. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /** One page of the global log. */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the last event in the global log ('start' when empty). */
  headPosition(): Promise<bigint | 'start'>;
  subscribeToAll(options: SubscribeOptions): AllSubscription;
  close(): Promise<void>;
}

/** Largest number of events one append may carry. Commands produce a handful; more is a bug. */
export const MAX_EVENTS_PER_APPEND = 100;
/**
 * Largest append, in bytes of the events' JSON data and metadata (UTF-8). EventStoreDB refuses appends over
 * its MaxAppendSize (1 MiB by default, counted on what it stores: our data, metadata and the hash chain's
 * ~200 bytes per event); half of it keeps every adapter below that whatever the chain adds, and makes the
 * limit the port's, the same on every engine, checked before anything is written.
 */
export const MAX_APPEND_BYTES = 512 * 1024;
/** Most streams one multi-stream append may touch: a batch of 1,000 transfers touches ~2,000. */
export const MAX_STREAMS_PER_MULTI_APPEND = 4_096;
/** Most events one multi-stream append may carry (a stream's part may then exceed MAX_EVENTS_PER_APPEND). */
export const MAX_EVENTS_PER_MULTI_APPEND = 10_000;
/** Largest multi-stream append, counted as MAX_APPEND_BYTES is: one commit stays a few MiB of WAL. */
export const MAX_MULTI_APPEND_BYTES = 16 * 1024 * 1024;
/** See the port's description: how far back every adapter recognises a repeated append at the head. */
export const IDEMPOTENCY_WINDOW_EVENTS = 1_000;
/** Largest page a global read returns. */
export const MAX_READ_ALL_PAGE = 10_000;

export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual last revision, or 'no_stream'. */
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

export class EventStoreUnavailableError extends Error {
  override readonly name = 'EventStoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The append may have been written, or not: the store timed out after it was sent, the connection dropped
 * with it in flight, or the leader did not confirm the commit in time. It may still land later. Resolve it
 * with `readBackAppend` before retrying or deciding again.
 */
export class AppendOutcomeUnknownError extends Error {
  override readonly name = 'AppendOutcomeUnknownError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The store refuses this append whatever the retry (too large for it, no permission, stream deleted). */
export class AppendRefusedError extends Error {
  override readonly name = 'AppendRefusedError';
  constructor(
    readonly reason: 'too_large' | 'access_denied' | 'stream_deleted',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/**
 * What reading back an append of unknown outcome found, at the revision it expected:
 *   - `written`: its events are there (answer as if the append had succeeded);
 *   - `absent`: the stream is still at the expected revision. The append may yet land; appending the same
 *     events at the same expected revision again is safe, as at most one of the two can commit;
 *   - `superseded`: other events hold those revisions, so an append expecting that revision can never
 *     commit now: decide again on the new state.
 */
export type ReadBack =
  | { readonly outcome: 'written'; readonly result: AppendResult }
  | { readonly outcome: 'absent' }
  | { readonly outcome: 'superseded' };

/** Resolves an AppendOutcomeUnknownError of an append at an exact expected revision (see ReadBack). */
export async function readBackAppend(
  store: EventStore,
  streamId: string,
  events: readonly NewEvent[],
  expected: bigint | 'no_stream',
): Promise<ReadBack> {
  const from = expected === 'no_stream' ? 0n : expected + 1n;
  const found: RecordedEvent[] = [];
  for await (const event of store.readStream(streamId, { fromRevision: from, maxCount: events.length })) {
    found.push(event);
  }
  if (found.length === 0) return { outcome: 'absent' };
  const written =
    found.length === events.length && found.every((event, i) => event.metadata.eventId === events[i]!.metadata.eventId);
  if (!written) return { outcome: 'superseded' };
  const last = found[found.length - 1]!;
  return { outcome: 'written', result: { nextExpectedRevision: last.revision, position: last.position } };
}

/** Validates what an adapter is asked to append; both adapters call it before touching storage. */
export function validateAppend(
  streamId: string,
  events: readonly NewEvent[],
  expectedRevision: ExpectedRevision,
): void {
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidEventError(`an append carries at most ${MAX_EVENTS_PER_APPEND} events, got ${events.length}`);
  }
  const bytes = validateStreamPart(streamId, events, expectedRevision, new Set());
  if (bytes > MAX_APPEND_BYTES) {
    throw new InvalidEventError(`an append carries at most ${MAX_APPEND_BYTES} bytes of events, got ${bytes}`);
  }
}

/** Validates a multi-stream append: every part as an append, plus the limits of the whole. */
export function validateMultiAppend(appends: readonly StreamAppend[]): void {
  if (appends.length === 0) throw new InvalidEventError('a multi-stream append needs at least one stream');
  if (appends.length > MAX_STREAMS_PER_MULTI_APPEND) {
    throw new InvalidEventError(
      `a multi-stream append touches at most ${MAX_STREAMS_PER_MULTI_APPEND} streams, got ${appends.length}`,
    );
  }
  const streams = new Set<string>();
  const ids = new Set<string>();
  let events = 0;
  let bytes = 0;
  for (const append of appends) {
    if (streams.has(append.streamId))
      throw new InvalidEventError(`stream ${append.streamId} appears twice in one multi-stream append`);
    streams.add(append.streamId);
    events += append.events.length;
    if (events > MAX_EVENTS_PER_MULTI_APPEND) {
      throw new InvalidEventError(`a multi-stream append carries at most ${MAX_EVENTS_PER_MULTI_APPEND} events`);
    }
    bytes += validateStreamPart(append.streamId, append.events, append.expectedRevision, ids);
  }
  if (bytes > MAX_MULTI_APPEND_BYTES) {
    throw new InvalidEventError(
      `a multi-stream append carries at most ${MAX_MULTI_APPEND_BYTES} bytes of events, got ${bytes}`,
    );
  }
}

/** Checks one stream's part; `ids` collects event ids across parts (an id is never stored twice). */
function validateStreamPart(
  streamId: string,
  events: readonly NewEvent[],
  expectedRevision: ExpectedRevision,
  ids: Set<string>,
): number {
  if (!streamIdSchema.safeParse(streamId).success) throw new InvalidEventError(`invalid stream id: ${streamId}`);
  if (events.length === 0) throw new InvalidEventError('an append needs at least one event');
  if (typeof expectedRevision === 'bigint' && expectedRevision < 0n) {
    throw new InvalidEventError('expected revision must not be negative');
  }
  let bytes = 0;
  for (const event of events) {
    if (!eventTypeSchema.safeParse(event.type).success)
      throw new InvalidEventError(`invalid event type: ${event.type}`);
    const metadata = eventMetadataSchema.safeParse(event.metadata);
    if (!metadata.success) {
      throw new InvalidEventError(
        `invalid metadata on ${event.type}: ${metadata.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) {
      throw new InvalidEventError(`event data of ${event.type} must be a JSON object`);
    }
    if (ids.has(event.metadata.eventId))
      throw new InvalidEventError(`duplicate event id in one append: ${event.metadata.eventId}`);
    ids.add(event.metadata.eventId);
    bytes += Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(event.metadata));
  }
  return bytes;
}

export function matchesFilter(filter: EventFilter | undefined, streamId: string, type: string): boolean {
  if (!filter) return true;
  if (filter.streamPrefixes && !filter.streamPrefixes.some((p) => streamId.startsWith(p))) return false;
  if (filter.eventTypes && !filter.eventTypes.includes(type)) return false;
  return true;
}

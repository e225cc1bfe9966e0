import {
  END,
  MaxAppendSizeExceededError,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  convertToCommandError,
  type AppendExpectedRevision,
  type AppendResult,
  type EventData,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';
import { Readable } from 'node:stream';
import type { EsdbClient } from '../../src/adapters/esdb/esdb-event-store.js';
import { serviceError } from './esdb-service-error.js';

/**
 * A TEST DOUBLE of the EventStoreDB server's documented rules, seen through the client's API
 * (@eventstore/db-client 6.2): results in the client's shapes, failures as the client's own error classes,
 * built as the client builds them. It exists to test the adapter's decisions (src/adapters/esdb) against
 * the rules where the embedded SQLite adapter behaves better than the real engine, and so hides defects.
 * It is NOT a substitute for running the contract suite against a real server (tests/contract/
 * event-store.esdb.test.ts, when EVENTSTORE_URL is set): where a rule below was read wrongly, both the
 * emulator and the adapter are wrong together.
 *
 * It implements only what the adapter calls: appendToStream (expected revision no_stream, stream_exists,
 * any, or a revision), readStream (forwards or backwards, from a revision or an end, with a count),
 * readAll (forwards from the start or a position, backwards from the end, with a count), subscribeToAll
 * (from the start or a position, with the client's stream-name or event-type filters), dispose.
 *
 * The rules, from KurrentDB's source (kurrent-io/KurrentDB):
 * - Idempotency is decided by event id in `IndexWriter.CheckCommit`
 *   (src/KurrentDB.Core/Services/Storage/ReaderIndex/IndexWriter.cs):
 *   - expected revision exactly the head ("writing exactly to the end -> ok"): written, ids NOT compared;
 *   - behind the head (and no_stream on an existing stream, no_stream being -1): the events from
 *     expected + 1 on are compared with the appended ids, at any depth (the index is read); all equal is a
 *     repeat (answered as the original: its last revision and position), the first different is a wrong
 *     expected version, a later one different is "corrupted idempotency", answered as a wrong expected
 *     version too (StorageWriterService: "part of transaction is ok, other is different");
 *   - ahead of the head: wrong expected version;
 *   - any / stream_exists: the ids are looked up in a bounded cache of recently committed events
 *     (`_committedEvents`, a BoundedCache bounded in bytes by ESConsts.CommittedEventsMemCacheLimit; here
 *     in events, `idempotencyCacheEvents`). First id not there: written as new. All there, in this
 *     stream: a repeat. First there and a later one not: wrong expected version. stream_exists on a missing
 *     stream: wrong expected version.
 * - An append over MaxAppendSize (1 MiB by default) is refused before anything is written
 *   (src/KurrentDB.Core/Services/Transport/Grpc/Streams.Append.cs); the size here is data + metadata +
 *   type bytes, close to but not exactly `Event.SizeOnDisk`.
 * - A successful append answers its last event's position; a repeat may have none: the Append RPC then
 *   sends NoPosition (Streams.Append.cs: `completed.CommitPosition == -1`), which the client turns into
 *   `position: undefined`, and a position taken from -1 as an unsigned number is 2^64 - 1. Option
 *   `repeatPosition` chooses what a repeat answers.
 * - `readAll` from a position that is not an event's fails the read with gRPC Unknown (code 2), which the
 *   client turns into UnknownError: the read enumerator passes ReadAllResult.InvalidPosition to its
 *   default case, ReadResponseException.UnknownError (src/KurrentDB.Core/Services/Transport/Enumerators/
 *   Enumerator.ReadAllForwards.cs). Only subscriptions throw ReadResponseException.InvalidPosition
 *   (Enumerator.AllSubscription.cs), which RpcExceptions.InvalidPositionException answers as
 *   InvalidArgument (code 3). A position past the end is treated as a non-record one here (not checked
 *   against the source).
 * - Positions grow by each record's size, so a position plus or minus one is never an event's. The log
 *   begins with a system event, as a fresh server's `$all` does.
 */

/** The server's default MaxAppendSize (1 MiB). */
export const EMULATED_MAX_APPEND_BYTES = 1024 * 1024;
/** Bytes a record takes in the emulated log besides its data, metadata and type. */
const RECORD_OVERHEAD_BYTES = 128;
/** The position a server sends for a position it does not have: -1 as an unsigned 64-bit number. */
const UNSIGNED_MINUS_ONE = 2n ** 64n - 1n;

interface StoredEvent {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: string;
  readonly metadata: string | undefined;
  readonly position: Position;
  readonly created: Date;
}

export interface EmulatorOptions {
  /** How many recently committed event ids the any / stream_exists idempotency cache holds. */
  readonly idempotencyCacheEvents?: number;
  /** What a repeat recognised by the server answers as its position. */
  readonly repeatPosition?: 'original' | 'none' | 'unsigned-minus-one';
}

export interface ClientOptions {
  /**
   * Runs when an append reaches the server, before it is decided: a test puts another writer's append
   * here to land between the adapter's read of the head and its append.
   */
  readonly beforeAppend?: (streamName: string) => Promise<void>;
}

/** The emulated server: one log shared by every client made from it. */
export class EsdbServerEmulator {
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  /** Event id -> event, oldest first (a Map keeps insertion order): the bounded recent-commits cache. */
  private readonly committed = new Map<string, StoredEvent>();
  private readonly subscribers = new Set<(event: StoredEvent) => void>();
  private nextPosition = 0n;
  private readonly cacheEvents: number;
  readonly repeatPosition: NonNullable<EmulatorOptions['repeatPosition']>;

  constructor(options: EmulatorOptions = {}) {
    this.cacheEvents = options.idempotencyCacheEvents ?? 100_000;
    this.repeatPosition = options.repeatPosition ?? 'original';
    this.record('$settings', crypto.randomUUID(), '$settings', '{}', undefined);
  }

  /** A client connected to this server, as EventStoreDBClient.connectionString(...) would give. */
  client(options: ClientOptions = {}): EsdbClient {
    let disposed = false;
    const assertOpen = (): void => {
      if (disposed) throw new Error('emulated client disposed');
    };
    const client = {
      appendToStream: async (
        streamName: string,
        events: EventData | EventData[],
        appendOptions: { expectedRevision?: AppendExpectedRevision } = {},
      ): Promise<AppendResult> => {
        assertOpen();
        await options.beforeAppend?.(streamName);
        return this.append(streamName, Array.isArray(events) ? events : [events], appendOptions.expectedRevision);
      },
      readStream: (
        streamName: string,
        readOptions: { fromRevision?: ReadRevision; direction?: string; maxCount?: number | bigint } = {},
      ) => {
        assertOpen();
        return this.readStream(streamName, readOptions);
      },
      readAll: (readOptions: { fromPosition?: ReadPosition; direction?: string; maxCount?: number | bigint } = {}) => {
        assertOpen();
        return this.readAll(readOptions);
      },
      subscribeToAll: (subscribeOptions: { fromPosition?: ReadPosition; filter?: Filter } = {}) => {
        assertOpen();
        return this.subscribeToAll(subscribeOptions);
      },
      dispose: async () => {
        disposed = true;
      },
    };
    // The client's methods are overloaded generics; the emulator answers the subset of them the adapter calls.
    return client as unknown as EsdbClient;
  }

  /** The number of events stored in a stream (what a test checks was written, bypassing the adapter). */
  streamLength(streamName: string): number {
    return this.streams.get(streamName)?.length ?? 0;
  }

  private append(streamName: string, events: EventData[], expected: AppendExpectedRevision = 'any'): AppendResult {
    let size = 0;
    for (const event of events) size += byteLength(serialize(event.data)) + byteLength(serialize(event.metadata));
    size += events.reduce((sum, event) => sum + byteLength(event.type), 0);
    if (size > EMULATED_MAX_APPEND_BYTES) throw MaxAppendSizeExceededError.fromMaxAppendSize(EMULATED_MAX_APPEND_BYTES);
    const stream = this.streams.get(streamName) ?? [];
    const current = BigInt(stream.length) - 1n;
    const refuse = (): never => {
      throw new WrongExpectedVersionError(null as never, {
        streamName,
        current: current < 0n ? 'no_stream' : current,
        expected,
      });
    };
    if (expected === 'stream_exists' && current < 0n) return refuse();
    if (expected === 'any' || expected === 'stream_exists') {
      const cached = events.map((event) => this.committed.get(event.id));
      const inStream = (found: StoredEvent | undefined) => found !== undefined && found.streamId === streamName;
      if (events.length > 0 && !inStream(cached[0])) return this.write(streamName, events);
      if (!cached.every(inStream)) return refuse();
      return this.repeatOf(cached[cached.length - 1]!);
    }
    const expectedRevision = expected === 'no_stream' ? -1n : expected;
    if (expectedRevision === current) return this.write(streamName, events);
    if (expectedRevision > current) return refuse();
    // Behind the head: the appended ids against the events after the expected revision, read from the index.
    for (let i = 0; i < events.length; i += 1) {
      const stored = stream[Number(expectedRevision) + 1 + i];
      if (stored?.id !== events[i]!.id) return refuse();
    }
    if (events.length === 0) return refuse();
    return this.repeatOf(stream[Number(expectedRevision) + events.length]!);
  }

  private repeatOf(last: StoredEvent): AppendResult {
    const position =
      this.repeatPosition === 'original'
        ? last.position
        : this.repeatPosition === 'none'
          ? undefined
          : { commit: UNSIGNED_MINUS_ONE, prepare: UNSIGNED_MINUS_ONE };
    return { success: true, nextExpectedRevision: last.revision, position };
  }

  private write(streamName: string, events: EventData[]): AppendResult {
    let last: StoredEvent | undefined;
    for (const event of events) {
      last = this.record(streamName, event.id, event.type, serialize(event.data), serialize(event.metadata));
    }
    if (!last) {
      const stream = this.streams.get(streamName);
      return { success: true, nextExpectedRevision: BigInt(stream?.length ?? 0) - 1n, position: undefined };
    }
    return { success: true, nextExpectedRevision: last.revision, position: last.position };
  }

  private record(
    streamName: string,
    id: string,
    type: string,
    data: string,
    metadata: string | undefined,
  ): StoredEvent {
    const stream = this.streams.get(streamName) ?? [];
    this.streams.set(streamName, stream);
    const stored: StoredEvent = {
      streamId: streamName,
      id,
      revision: BigInt(stream.length),
      type,
      data,
      metadata,
      position: { commit: this.nextPosition, prepare: this.nextPosition },
      created: new Date(),
    };
    this.nextPosition += BigInt(
      RECORD_OVERHEAD_BYTES + byteLength(data) + byteLength(metadata ?? '') + byteLength(type),
    );
    stream.push(stored);
    this.log.push(stored);
    this.committed.set(id, stored);
    if (this.committed.size > this.cacheEvents) this.committed.delete(this.committed.keys().next().value!);
    for (const notify of this.subscribers) notify(stored);
    return stored;
  }

  private readStream(
    streamName: string,
    options: { fromRevision?: ReadRevision; direction?: string; maxCount?: number | bigint },
  ): Readable {
    const stream = this.streams.get(streamName);
    if (!stream) return failedRead(new StreamNotFoundError(null as never, streamName));
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? END : START);
    let selected: StoredEvent[];
    if (backwards) {
      const top = from === END ? stream.length - 1 : from === START ? 0 : Number(from);
      selected = stream.slice(0, top + 1).reverse();
    } else {
      selected = from === END ? [] : stream.slice(from === START ? 0 : Number(from));
    }
    return readOf(selected.slice(0, countOf(options.maxCount)).map(resolved));
  }

  private readAll(options: { fromPosition?: ReadPosition; direction?: string; maxCount?: number | bigint }): Readable {
    const from = options.fromPosition ?? START;
    const count = countOf(options.maxCount);
    if (options.direction === 'backwards') {
      if (from !== END) throw new Error('the emulator reads $all backwards from the end only (what the adapter does)');
      return readOf([...this.log].reverse().slice(0, count).map(resolved));
    }
    if (from === END) return readOf([]);
    if (from === START) return readOf(this.log.slice(0, count).map(resolved));
    const at = this.log.findIndex((event) => event.position.commit === from.commit);
    if (at === -1) {
      // As the server answers a read from a position that is no record's: gRPC Unknown.
      return failedRead(convertToCommandError(serviceError(status.UNKNOWN, 'Invalid position.')));
    }
    return readOf(this.log.slice(at, at + count).map(resolved));
  }

  private subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter }): Readable {
    const from = options.fromPosition ?? START;
    const passes = (event: StoredEvent) => matches(options.filter, event);
    const subscription = new Readable({ objectMode: true, read() {} });
    const stop = () => this.subscribers.delete(notify);
    const notify = (event: StoredEvent) => {
      if (passes(event)) subscription.push(resolved(event));
    };
    const handle = Object.assign(subscription, {
      unsubscribe: async () => {
        stop();
        subscription.push(null);
      },
    });
    const at = typeof from === 'object' ? this.log.findIndex((event) => event.position.commit === from.commit) : 0;
    if (at === -1) {
      // Subscriptions, unlike reads, answer a position that is no record's with InvalidArgument.
      subscription.destroy(convertToCommandError(serviceError(status.INVALID_ARGUMENT, 'Invalid position.')));
      return handle;
    }
    // A subscription from a position starts after it.
    const past = from === START ? this.log : from === END ? [] : this.log.slice(at + 1);
    for (const event of past) if (passes(event)) subscription.push(resolved(event));
    this.subscribers.add(notify);
    subscription.on('close', stop);
    return handle;
  }
}

function serialize(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

function byteLength(text: string | undefined): number {
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

function countOf(maxCount: number | bigint | undefined): number {
  return maxCount === undefined ? Number.MAX_SAFE_INTEGER : Number(maxCount);
}

/** The client's ResolvedEvent for a stored event, as convertGrpcEvent makes it (JSON parsed, position set). */
function resolved(event: StoredEvent) {
  return {
    event: {
      streamId: event.streamId,
      id: event.id,
      revision: event.revision,
      type: event.type,
      data: JSON.parse(event.data) as unknown,
      metadata: event.metadata ? (JSON.parse(event.metadata) as unknown) : undefined,
      isJson: true,
      created: event.created,
      position: event.position,
    },
    commitPosition: event.position.commit,
  };
}

/** A finished read, with the client's ReadStream's `cancel` (which ends the gRPC call). */
function readOf(items: readonly unknown[]): Readable {
  const read = Readable.from(items, { objectMode: true });
  return Object.assign(read, { cancel: async () => void read.destroy() });
}

/** A read that fails as the client's ReadStream does: the error is emitted on the stream. */
function failedRead(error: unknown): Readable {
  const read = new Readable({
    objectMode: true,
    read() {
      this.destroy(error as Error);
    },
  });
  return Object.assign(read, { cancel: async () => void read.destroy() });
}

/** The client's server-side filters: stream-name or event-type prefixes or regex. */
function matches(filter: Filter | undefined, event: StoredEvent): boolean {
  if (!filter) return true;
  const subject = filter.filterOn === 'streamName' ? event.streamId : event.type;
  if ('prefixes' in filter) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
  return new RegExp(filter.regex).test(subject);
}

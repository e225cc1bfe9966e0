import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/audit/canonical-json.js';
import type { StateCodec } from '../domain/shared/state-codec.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.js';
import type { SnapshotStore, StoredSnapshot } from '../ports/snapshot-store.js';

/** Where a stream stands: its state as of its last folded event (what a StreamCommandHandler caches). */
export interface StreamPoint<State> {
  readonly state: State;
  /** Last revision folded into `state`; -1n for a stream with no events. */
  readonly revision: bigint;
  /** Global position of that event; -1n for a stream with no events. */
  readonly position: bigint;
}

/** A snapshot was ignored or not saved; the service carries on (reads the stream in full, or skips it). */
export type SnapshotWarning = (message: string, details: Readonly<Record<string, string>>) => void;

export interface StreamSnapshotsOptions {
  /** A snapshot each time a stream's event count passes a multiple of this; 0 turns snapshots off. */
  readonly everyEvents: number;
  /** Snapshots waiting to be written; offers beyond are dropped (and taken again later, see `offer`). */
  readonly maxPending?: number;
  readonly warn?: SnapshotWarning;
}

export const DEFAULT_MAX_PENDING_SNAPSHOTS = 64;
/** How long `close` lets pending snapshots finish before dropping them. */
export const MAX_CLOSE_WAIT_MS = 2_000;

/**
 * Snapshots of one decider's streams, for its StreamCommandHandler.
 *
 * Taking: after an append, or after reading a stream, `offer` queues the state when the stream's event
 * count passed a multiple of `everyEvents` since the state it started from. A background writer (one
 * write at a time, at most `maxPending` queued, the latest state per stream) reads the hash of the event
 * at the state's revision, encodes the state with the decider's codec, seals it with a digest and saves
 * it. Nothing of this runs before the command is answered, and no failure reaches a command: it is
 * logged and the snapshot skipped. A skipped snapshot is taken again by the next cold read of the
 * stream, which starts from the older snapshot and so passes the same multiple.
 *
 * Restoring (a stream not in the handler's memory): the stream's snapshot is trusted only when its
 * schema and version are the codec's, its digest matches its content, and the event store's event at its
 * revision has the hash it recorded; then only the events after that revision are read. Otherwise it is
 * logged at warn and the stream is read in full.
 */
export class StreamSnapshots<State> {
  private readonly everyEvents: bigint;
  private readonly maxPending: number;
  private readonly warn: SnapshotWarning;
  /** Streams whose snapshot is due, with the state to write (Map order: oldest offer first). */
  private readonly pending = new Map<string, StreamPoint<State>>();
  private writer: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly eventStore: EventStore,
    private readonly store: SnapshotStore,
    private readonly codec: StateCodec<State>,
    options: StreamSnapshotsOptions,
  ) {
    if (!Number.isSafeInteger(options.everyEvents) || options.everyEvents < 0)
      throw new RangeError(`everyEvents must be a whole number of events, got ${options.everyEvents}`);
    this.everyEvents = BigInt(options.everyEvents);
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING_SNAPSHOTS;
    this.warn = options.warn ?? ((message, details) => console.warn(message, details));
  }

  /** The stream's verified snapshot as a starting point, or undefined: read the stream from its start. */
  async restore(streamId: string): Promise<StreamPoint<State> | undefined> {
    if (this.everyEvents === 0n) return undefined;
    let snapshot: StoredSnapshot | undefined;
    try {
      snapshot = await this.store.load(streamId);
    } catch (error) {
      this.warn('snapshot not readable; reading the stream in full', { streamId, reason: messageOf(error) });
      return undefined;
    }
    if (snapshot === undefined) return undefined;
    const refusal = this.refusalOf(snapshot);
    if (refusal !== undefined) {
      this.warn('snapshot ignored; reading the stream in full', { streamId, reason: refusal });
      return undefined;
    }
    // The event store's own failures are not a snapshot's: a full read would meet them too.
    const event = await eventAt(this.eventStore, streamId, snapshot.revision);
    if (event === undefined || event.hash !== snapshot.eventHash) {
      this.warn('snapshot ignored; reading the stream in full', {
        streamId,
        reason:
          event === undefined
            ? `the stream has no event at revision ${snapshot.revision}`
            : `the event at revision ${snapshot.revision} has another hash: the snapshot is of another history`,
      });
      return undefined;
    }
    let state: State;
    try {
      state = this.codec.decode(snapshot.state);
    } catch (error) {
      this.warn('snapshot ignored; reading the stream in full', {
        streamId,
        reason: `its state does not decode: ${messageOf(error)}`,
      });
      return undefined;
    }
    return { state, revision: event.revision, position: event.position };
  }

  /**
   * The stream went from `fromRevision` to `point` (an append, or a read of its events): queue a
   * snapshot of `point` if the stream's event count passed a multiple of `everyEvents` meanwhile.
   * Synchronous and never throws: the writer starts after the caller's turn of the event loop.
   */
  offer(streamId: string, fromRevision: bigint, point: StreamPoint<State>): void {
    if (this.closed || this.everyEvents === 0n || point.revision < 0n) return;
    // Event counts are revision + 1.
    if ((point.revision + 1n) / this.everyEvents === (fromRevision + 1n) / this.everyEvents) return;
    if (!this.pending.has(streamId) && this.pending.size >= this.maxPending) {
      this.warn('snapshot skipped: too many waiting to be written', { streamId, limit: String(this.maxPending) });
      return;
    }
    this.pending.set(streamId, point);
    if (this.writer === undefined) this.writer = this.writeAll();
  }

  /** Resolves once every queued snapshot is written (or skipped). */
  async idle(): Promise<void> {
    while (this.writer !== undefined) await this.writer;
  }

  /** Takes no more offers; lets the queued ones finish for up to MAX_CLOSE_WAIT_MS, then drops the rest. */
  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise((resolve) => (timer = setTimeout(resolve, MAX_CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    this.pending.clear();
  }

  private async writeAll(): Promise<void> {
    // Off the caller's path: the command that offered is answered first.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      for (;;) {
        const next = this.pending.entries().next();
        if (next.done) return;
        const [streamId, point] = next.value;
        this.pending.delete(streamId);
        try {
          await this.write(streamId, point);
        } catch (error) {
          this.warn('snapshot not saved', { streamId, revision: point.revision.toString(), reason: messageOf(error) });
        }
      }
    } finally {
      this.writer = undefined;
    }
  }

  private async write(streamId: string, point: StreamPoint<State>): Promise<void> {
    const event = await eventAt(this.eventStore, streamId, point.revision);
    if (event === undefined) throw new Error(`the stream has no event at revision ${point.revision}`);
    const unsealed = {
      streamId,
      revision: point.revision,
      eventHash: event.hash,
      schema: this.codec.schema,
      schemaVersion: this.codec.version,
      state: this.codec.encode(point.state),
    };
    await this.store.save({ ...unsealed, digest: snapshotDigest(unsealed) });
  }

  private refusalOf(snapshot: StoredSnapshot): string | undefined {
    if (snapshot.schema !== this.codec.schema)
      return `it holds ${snapshot.schema}, not ${this.codec.schema}: written by another decider`;
    if (snapshot.schemaVersion !== this.codec.version)
      return `schema version ${snapshot.schemaVersion}; this code folds version ${this.codec.version}`;
    if (snapshotDigest(snapshot) !== snapshot.digest) return 'its digest does not match its content: damaged or edited';
    return undefined;
  }
}

/**
 * sha256 of the snapshot's content in canonical JSON: damage (or an edit that did not recompute it) is
 * noticed before anything is decoded. Not a signature: whoever can write the snapshot store can
 * recompute it. The hash chain, not the digest, ties a snapshot to the stream's history.
 */
export function snapshotDigest(snapshot: Omit<StoredSnapshot, 'digest'>): string {
  const content = canonicalJson({
    streamId: snapshot.streamId,
    revision: snapshot.revision.toString(),
    eventHash: snapshot.eventHash,
    schema: snapshot.schema,
    schemaVersion: snapshot.schemaVersion,
    state: snapshot.state,
  });
  return createHash('sha256').update(content).digest('hex');
}

async function eventAt(eventStore: EventStore, streamId: string, revision: bigint): Promise<RecordedEvent | undefined> {
  for await (const event of eventStore.readStream(streamId, { fromRevision: revision, maxCount: 1 }))
    return event.revision === revision ? event : undefined;
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

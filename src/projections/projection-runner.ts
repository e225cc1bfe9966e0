import { decodeEvent, type LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { AllSubscription, EventFilter, EventStore, RecordedEvent } from '../ports/event-store.js';
import {
  LeaseLostError,
  MAX_WRITES_PER_BATCH,
  type DocumentWrite,
  type LeaseFence,
  type ReadModelStore,
  type StoredDocument,
} from '../ports/read-model-store.js';
import { PositionWaiter } from './position-wait.js';
import { UNCHANGED, isLedgerStream, logFilterFor, type Projection } from './projection.js';

export { PositionWaitTimeoutError } from './position-wait.js';

export interface ProjectionRunnerOptions {
  /** Most events applied per read-model transaction. */
  readonly maxBatchEvents?: number;
  /**
   * Documents kept in memory between batches (least recently used beyond this are dropped), so a hot
   * document (a busy account's balance) is read from the store once, not once per batch.
   */
  readonly maxCachedDocuments?: number;
  /**
   * Live coalescing: events are applied in memory and written (each document's latest version once, with
   * the checkpoint) when this many have gathered since the last write...
   */
  readonly maxPendingEvents?: number;
  /** ...or this long after the first of them, whichever comes first. */
  readonly flushIntervalMs?: number;
  /** ...or when this many documents are waiting to be written (bounds memory whatever the events). */
  readonly maxPendingDocuments?: number;
  /** `catchUp` writes what it has applied once this many events have gathered (or maxPendingDocuments). */
  readonly catchUpFlushEvents?: number;
  /** How often `waitForPosition` re-reads checkpoints written by another process. */
  readonly checkpointPollIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
  /** Told each checkpoint once it is written (a worker thread reports them to the request thread). */
  readonly onCheckpoint?: (projection: string, position: bigint) => void;
  /**
   * The lease this runner holds (src/projections/leased-projections.ts): every batch is written fenced by
   * it, and once the store refuses one (LeaseLostError: taken over) the live loop ends instead of retrying.
   */
  readonly fence?: LeaseFence;
}

const NOTHING_READY = Symbol('nothing-ready');
const FLUSH_NOW = Symbol('flush-now');

type CachedDocument = { data: JsonObject | null; position: bigint };
/** Longest pause before the live loop starts again after a failure. */
const MAX_RESTART_BACKOFF_MS = 30_000;

/**
 * Keeps projections up to date: one catch-up subscription to the global log from the lowest checkpoint,
 * events applied in batches, each projection's documents and checkpoint written together.
 *
 * At-least-once and idempotent: an event at or below a document's stored position is not applied to it
 * again, and a projection skips events at or below its checkpoint, so a crash between writes, a replay or
 * a second runner changes nothing.
 */
export class ProjectionRunner {
  private readonly maxBatchEvents: number;
  private readonly checkpoints = new Map<string, bigint | 'start'>();
  private readonly maxCachedDocuments: number;
  private readonly evictionBatch: number;
  /**
   * Documents as this runner last wrote or read them. Every runner applies the same log in the same
   * order, so a cached document equals what any other runner would have built at that position.
   */
  private readonly documents = new Map<string, CachedDocument>();
  private subscription: AllSubscription | undefined;
  /** The tail of the steps that must not interleave (live batches, a paused caller's work): see exclusively. */
  private gate: Promise<void> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private stopped = false;
  /** Consecutive failures of the live loop; reset once a batch is applied again. */
  private failures = 0;
  private interruptBackoff: (() => void) | undefined;
  private readonly positions: PositionWaiter;
  /**
   * Applied in memory, not yet written: per projection, the latest version of each changed document,
   * and the position applied up to. The stored checkpoint (`checkpoints`) stays at what is written, so it
   * never runs ahead of the documents; `waitForPosition` answers from it.
   */
  private readonly unwritten = new Map<string, Map<string, CachedDocument>>();
  private readonly appliedUpTo = new Map<string, bigint>();
  private unwrittenEvents = 0;
  private unwrittenDocuments = 0;
  private firstUnwrittenAtMs: number | undefined;
  private readonly maxPendingEvents: number;
  private readonly flushIntervalMs: number;
  private readonly maxPendingDocuments: number;
  private readonly catchUpFlushEvents: number;
  /** Set by a caller that needs what is applied in memory written now (a read-your-writes wait). */
  private flushRequested: (() => void) | undefined;
  private flushWanted = false;
  /** The event types some projection here reads: the log is read for these only. */
  private readonly filter: EventFilter;

  constructor(
    private readonly eventStore: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.maxBatchEvents = options.maxBatchEvents ?? 1_000;
    this.filter = logFilterFor(projections);
    this.positions = new PositionWaiter({
      eventStore,
      readModels,
      eventTypesOf: (name) => projections.find((p) => p.name === name)?.eventTypes,
      knownCheckpoint: (projection) => this.checkpoints.get(projection),
      onBehind: () => {
        if (this.unwrittenEvents > 0) this.requestFlush();
      },
      pollIntervalMs: options.checkpointPollIntervalMs ?? 25,
    });
    // ~1 KB a document: the bound keeps the cache to tens of megabytes whatever the data.
    this.maxCachedDocuments = options.maxCachedDocuments ?? 20_000;
    this.evictionBatch = Math.max(1, Math.floor(this.maxCachedDocuments / 8));
    this.maxPendingEvents = options.maxPendingEvents ?? 2_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
    this.maxPendingDocuments = options.maxPendingDocuments ?? 10_000;
    this.catchUpFlushEvents = options.catchUpFlushEvents ?? 20_000;
    if (this.maxPendingDocuments > MAX_WRITES_PER_BATCH)
      throw new RangeError(`maxPendingDocuments is at most ${MAX_WRITES_PER_BATCH} (one store batch)`);
  }

  /**
   * Writes what is applied in memory as soon as the live loop is free (a read-your-writes wait asks for
   * it, so coalescing never delays an answer by the flush interval).
   */
  requestFlush(): void {
    this.flushWanted = true;
    this.flushRequested?.();
  }

  async prepare(): Promise<void> {
    await this.readModels.ensureCollections(this.projections.flatMap((p) => p.collections));
    for (const projection of this.projections) {
      this.checkpoints.set(projection.name, await this.readModels.getCheckpoint(projection.name));
    }
  }

  /** Runs live until stop(). */
  /**
   * Runs live until stop(). A failure (storage unavailable, a bad event) is reported and the runner
   * starts again from the stored checkpoints after a back-off, so the read models never stop for good.
   */
  async start(): Promise<void> {
    await this.exclusively(() => this.prepare());
    this.loop = this.runLive();
  }

  /**
   * Runs `work` between two of the live loop's batches, with everything applied so far written first,
   * then forgets what it holds in memory and reads the checkpoints again: for an online rebuild's switch
   * (src/projections/online-rebuild.ts), which replaces a projection's documents and checkpoint under
   * the runner. The subscription goes on where it was; a projection whose checkpoint moved past the
   * events it delivers skips them, as after any replay. Each checkpoint that moved is reported.
   */
  async whilePaused<T>(work: () => Promise<T>): Promise<T> {
    return this.exclusively(async () => {
      await this.flush();
      try {
        return await work();
      } finally {
        this.forgetUnwritten();
        for (const projection of this.projections) {
          const before = this.checkpoints.get(projection.name);
          const after = await this.readModels.getCheckpoint(projection.name);
          this.checkpoints.set(projection.name, after);
          if (after !== 'start' && after !== before) this.options.onCheckpoint?.(projection.name, after);
        }
        this.positions.wake();
      }
    });
  }

  /** One of the live loop's steps, or a caller's `whilePaused` work, at a time (a promise chain). */
  private exclusively<T>(step: () => Promise<T>): Promise<T> {
    const run = this.gate.then(step);
    this.gate = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** True while the live loop is applying events; false while it backs off after a failure. */
  get healthy(): boolean {
    return this.failures === 0;
  }

  private async runLive(): Promise<void> {
    while (!this.stopped) {
      try {
        this.subscription = this.eventStore.subscribeToAll({
          after: this.lowestCheckpoint(),
          filter: this.filter,
        });
        await this.consume(this.subscription);
        return;
      } catch (error) {
        if (this.stopped) return;
        this.failures += 1;
        const report = this.options.onError ?? ((e) => console.error('projection runner failed; restarting', e));
        report(error);
        // Someone else holds the lease now: retrying cannot succeed, and must not be tried.
        if (error instanceof LeaseLostError) return;
        await this.subscription?.close().catch(() => undefined);
        const backoffMs = Math.min(MAX_RESTART_BACKOFF_MS, 250 * 2 ** Math.min(this.failures, 8));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoffMs);
          this.interruptBackoff = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.interruptBackoff = undefined;
        if (this.stopped) return;
        // What was applied is in the store; memory may be ahead of it after a failed write.
        await this.exclusively(async () => {
          this.forgetUnwritten();
          await this.prepare();
        }).catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.interruptBackoff?.();
    this.flushRequested?.();
    await this.subscription?.close();
    await this.loop;
  }

  /**
   * Applies everything up to the log's current head, then returns the number of events read (used by
   * audits, a worker's graceful stop and tests). `onProgress` gets the position read after each page.
   *
   * Pages are applied in memory and written every catchUpFlushEvents events (or maxPendingDocuments
   * documents), not once per page: a hot document (a balance) is written once per write, not once per
   * page, and a commit of a read-model file costs its WAL writes whatever it carries (measured: commits
   * per page were two thirds of a balances catch-up's time on a 1,000,000-event log).
   *
   * Every checkpoint ends at the head at least: the log is read for the projections' event types only, so
   * the last event read may lie before it, yet nothing any of them reads lies between (the head was read
   * first, and every event at or before it was committed by then). A bulk rebuild through the same head
   * ends at the same checkpoints.
   */
  async catchUp(onProgress?: (position: bigint, events: number) => void): Promise<number> {
    await this.prepare();
    const head = await this.eventStore.headPosition();
    if (head === 'start') return 0;
    let applied = 0;
    let after = this.lowestCheckpoint();
    try {
      while (after === 'start' || after < head) {
        const page = await this.eventStore.readAll({ after, maxCount: this.maxBatchEvents, filter: this.filter });
        if (page.length === 0) break;
        await this.stage(page);
        if (this.unwrittenEvents >= this.catchUpFlushEvents || this.unwrittenDocuments >= this.maxPendingDocuments)
          await this.flush();
        applied += page.length;
        after = page[page.length - 1]!.position;
        onProgress?.(after, applied);
      }
      await this.flush();
    } catch (error) {
      this.forgetUnwritten();
      throw error;
    }
    for (const projection of this.projections) {
      const checkpoint = this.checkpoints.get(projection.name) ?? 'start';
      if (checkpoint !== 'start' && checkpoint >= head) continue;
      await this.readModels.applyBatch(projection.name, [], head, this.options.fence);
      this.checkpoints.set(projection.name, head);
      this.options.onCheckpoint?.(projection.name, head);
    }
    this.positions.wake();
    return applied;
  }

  /** Resolves once `projection` has applied `position` (read-your-writes), or fails after `timeoutMs`. */
  waitForPosition(projection: string, position: bigint, timeoutMs: number): Promise<void> {
    return this.positions.waitForPosition(projection, position, timeoutMs);
  }

  /**
   * Least recently used first: a Map keeps insertion order, and a document moved to the end on each use.
   * Evicted in batches of an eighth of the bound: `keys().next()` after many deletions walks the Map's
   * holes (12.7 us a call when evicting one at a time in a rebuild); one pass per batch is ~1 us a key.
   */
  private remember(key: string, doc: CachedDocument): void {
    this.documents.delete(key);
    this.documents.set(key, doc);
    if (this.documents.size > this.maxCachedDocuments + this.evictionBatch) {
      let evict = this.documents.size - this.maxCachedDocuments;
      for (const oldest of this.documents.keys()) {
        if (evict-- <= 0) break;
        this.documents.delete(oldest);
      }
    }
  }

  private lowestCheckpoint(): bigint | 'start' {
    let lowest: bigint | undefined;
    for (const projection of this.projections) {
      const checkpoint = this.checkpoints.get(projection.name) ?? 'start';
      if (checkpoint === 'start') return 'start';
      if (lowest === undefined || checkpoint < lowest) lowest = checkpoint;
    }
    return lowest ?? 'start';
  }

  private async consume(subscription: AllSubscription): Promise<void> {
    const iterator = subscription[Symbol.asyncIterator]();
    let pending = iterator.next();
    try {
      while (!this.stopped) {
        const first = await this.nextOrFlushTime(pending);
        if (first === FLUSH_NOW) {
          await this.exclusively(() => this.flush());
          continue;
        }
        if (first.done) break;
        const batch: RecordedEvent[] = [first.value];
        pending = iterator.next();
        // Take whatever else is ready now, without waiting for more to arrive.
        while (batch.length < this.maxBatchEvents) {
          const next = await Promise.race([
            pending,
            new Promise<typeof NOTHING_READY>((resolve) => setImmediate(() => resolve(NOTHING_READY))),
          ]);
          if (next === NOTHING_READY) break;
          if (next.done) break;
          batch.push(next.value);
          pending = iterator.next();
        }
        await this.exclusively(async () => {
          await this.stage(batch);
          if (this.flushDue()) await this.flush();
        });
      }
      // Stopping (or the log closing) writes what is applied: a graceful stop loses no work.
      await this.exclusively(() => this.flush());
    } finally {
      this.flushRequested = undefined;
    }
  }

  /** The next event, or FLUSH_NOW once the unwritten events are due (interval over, or asked for). */
  private async nextOrFlushTime(
    pending: Promise<IteratorResult<RecordedEvent>>,
  ): Promise<IteratorResult<RecordedEvent> | typeof FLUSH_NOW> {
    if (this.unwrittenEvents === 0) {
      this.flushWanted = false;
      return pending;
    }
    if (this.flushDue()) return FLUSH_NOW;
    const waitMs = this.firstUnwrittenAtMs! + this.flushIntervalMs - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const due = new Promise<typeof FLUSH_NOW>((resolve) => {
      timer = setTimeout(() => resolve(FLUSH_NOW), Math.max(0, waitMs));
      this.flushRequested = () => resolve(FLUSH_NOW);
    });
    try {
      return await Promise.race([pending, due]);
    } finally {
      clearTimeout(timer);
      this.flushRequested = undefined;
    }
  }

  private flushDue(): boolean {
    return (
      this.unwrittenEvents > 0 &&
      (this.flushWanted ||
        this.unwrittenEvents >= this.maxPendingEvents ||
        this.unwrittenDocuments >= this.maxPendingDocuments ||
        performance.now() - this.firstUnwrittenAtMs! >= this.flushIntervalMs)
    );
  }

  /** Forgets everything not known to be stored: the next batch reads documents and checkpoints again. */
  private forgetUnwritten(): void {
    this.documents.clear();
    this.unwritten.clear();
    this.appliedUpTo.clear();
    this.unwrittenEvents = 0;
    this.unwrittenDocuments = 0;
    this.firstUnwrittenAtMs = undefined;
  }

  /**
   * Writes each projection's unwritten documents with its checkpoint, one store batch per projection.
   * The checkpoint written is the position applied in memory, and it goes in the same batch as the
   * documents (the store writes it last where it cannot be atomic): never ahead of them.
   */
  private async flush(): Promise<void> {
    this.flushWanted = false;
    if (this.appliedUpTo.size === 0) return;
    for (const projection of this.projections) {
      const applied = this.appliedUpTo.get(projection.name);
      if (applied === undefined) continue;
      const documents = this.unwritten.get(projection.name) ?? new Map<string, CachedDocument>();
      const writes: DocumentWrite[] = [];
      for (const [key, doc] of documents) {
        const [collection, id] = splitDocumentKey(key);
        writes.push({ collection, id, data: doc.data, position: doc.position });
      }
      try {
        await this.readModels.applyBatch(projection.name, writes, applied, this.options.fence);
      } catch (error) {
        // The store did not take this batch: forget what we believed it holds, and read it again.
        this.forgetUnwritten();
        throw error;
      }
      this.checkpoints.set(projection.name, applied);
      this.options.onCheckpoint?.(projection.name, applied);
      this.appliedUpTo.delete(projection.name);
      this.unwrittenDocuments -= documents.size;
      this.unwritten.delete(projection.name);
    }
    this.unwrittenEvents = 0;
    this.unwrittenDocuments = 0;
    this.firstUnwrittenAtMs = undefined;
    this.failures = 0;
    this.positions.wake();
  }

  /** Applies a batch in memory: the latest version of each changed document waits in `unwritten`. */
  private async stage(batch: readonly RecordedEvent[]): Promise<void> {
    const decoded: Array<{ recorded: RecordedEvent; event: LedgerEvent }> = [];
    for (const recorded of batch) {
      if (isLedgerStream(recorded.streamId))
        decoded.push({ recorded, event: decodeEvent(recorded.type, recorded.data) });
    }
    if (decoded.length === 0) return;
    for (const projection of this.projections) {
      const done = this.appliedUpTo.get(projection.name) ?? this.checkpoints.get(projection.name) ?? 'start';
      const fresh = decoded.filter(({ recorded }) => done === 'start' || recorded.position > done);
      if (fresh.length === 0) continue;
      const changesByEvent = fresh.map(({ recorded, event }) => ({
        recorded,
        changes: projection.handle(event, recorded),
      }));
      const unwritten = this.unwritten.get(projection.name) ?? new Map<string, CachedDocument>();

      const keysByCollection = new Map<string, Set<string>>();
      for (const { changes } of changesByEvent) {
        for (const change of changes) {
          const ids = keysByCollection.get(change.collection) ?? new Set<string>();
          ids.add(change.id);
          keysByCollection.set(change.collection, ids);
        }
      }
      const working = new Map<string, CachedDocument>();
      const writeOnce = new Set(projection.collections.filter((c) => c.writeOnce).map((c) => c.name));
      for (const [collection, ids] of keysByCollection) {
        if (writeOnce.has(collection)) {
          // Written once, never read back: a replayed write carries the same position and the store ignores it.
          for (const id of ids) {
            const key = documentKey(collection, id);
            working.set(key, unwritten.get(key) ?? { data: null, position: -1n });
          }
          continue;
        }
        const missing: string[] = [];
        for (const id of ids) {
          const key = documentKey(collection, id);
          // Unwritten first: the cache may have dropped a document that is not in the store yet.
          const known = unwritten.get(key) ?? this.documents.get(key);
          if (known) working.set(key, known);
          else missing.push(id);
        }
        if (missing.length === 0) continue;
        const stored = await this.readModels.getMany(collection, missing);
        for (const id of missing) {
          const doc: StoredDocument | undefined = stored.get(id);
          working.set(documentKey(collection, id), { data: doc?.data ?? null, position: doc?.position ?? -1n });
        }
      }
      for (const { recorded, changes } of changesByEvent) {
        for (const change of changes) {
          const key = documentKey(change.collection, change.id);
          const current = working.get(key)!;
          if (current.position >= recorded.position) continue; // already applied: a replay
          const next = change.apply(current.data);
          if (next === UNCHANGED) continue;
          const doc = { data: next, position: recorded.position };
          working.set(key, doc);
          if (!unwritten.has(key)) this.unwrittenDocuments += 1;
          unwritten.set(key, doc);
        }
      }
      this.unwritten.set(projection.name, unwritten);
      this.appliedUpTo.set(projection.name, fresh[fresh.length - 1]!.recorded.position);
      for (const [key, doc] of working) {
        if (!writeOnce.has(splitDocumentKey(key)[0])) this.remember(key, doc);
      }
    }
    if (this.unwrittenEvents === 0) this.firstUnwrittenAtMs = performance.now();
    this.unwrittenEvents += decoded.length;
  }
}

function documentKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

function splitDocumentKey(key: string): [string, string] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
}

import { decodeEvent, type LedgerEvent } from '../domain/event-catalogue.js';
import { LEDGER_STREAM_PREFIXES } from '../domain/stream-categories.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { AllSubscription, EventStore, RecordedEvent } from '../ports/event-store.js';
import type { DocumentWrite, ReadModelStore, StoredDocument } from '../ports/read-model-store.js';
import { UNCHANGED, type Projection } from './projection.js';

export interface ProjectionRunnerOptions {
  /** Most events applied per read-model transaction. */
  readonly maxBatchEvents?: number;
  /**
   * Documents kept in memory between batches (least recently used beyond this are dropped), so a hot
   * document (a busy account's balance) is read from the store once, not once per batch.
   */
  readonly maxCachedDocuments?: number;
  /** How often `waitForPosition` re-reads checkpoints written by another process. */
  readonly checkpointPollIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

export class PositionWaitTimeoutError extends Error {
  override readonly name = 'PositionWaitTimeoutError';
  constructor(
    readonly position: bigint,
    readonly timeoutMs: number,
  ) {
    super(`read model did not reach position ${position} within ${timeoutMs} ms`);
  }
}

const NOTHING_READY = Symbol('nothing-ready');
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
  private readonly checkpointPollIntervalMs: number;
  private readonly checkpoints = new Map<string, bigint | 'start'>();
  private readonly maxCachedDocuments: number;
  private readonly evictionBatch: number;
  /**
   * Documents as this runner last wrote or read them. Every runner applies the same log in the same
   * order, so a cached document equals what any other runner would have built at that position.
   */
  private readonly documents = new Map<string, { data: JsonObject | null; position: bigint }>();
  private subscription: AllSubscription | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  /** Consecutive failures of the live loop; reset once a batch is applied again. */
  private failures = 0;
  private interruptBackoff: (() => void) | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly eventStore: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.maxBatchEvents = options.maxBatchEvents ?? 1_000;
    this.checkpointPollIntervalMs = options.checkpointPollIntervalMs ?? 25;
    // ~1 KB a document: the bound keeps the cache to tens of megabytes whatever the data.
    this.maxCachedDocuments = options.maxCachedDocuments ?? 20_000;
    this.evictionBatch = Math.max(1, Math.floor(this.maxCachedDocuments / 8));
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
    await this.prepare();
    this.loop = this.runLive();
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
          filter: { streamPrefixes: LEDGER_STREAM_PREFIXES },
        });
        await this.consume(this.subscription);
        return;
      } catch (error) {
        if (this.stopped) return;
        this.failures += 1;
        (this.options.onError ?? ((e) => console.error('projection runner failed; restarting', e)))(error);
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
        this.documents.clear();
        await this.prepare().catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.interruptBackoff?.();
    await this.subscription?.close();
    await this.loop;
  }

  /**
   * Applies everything up to the log's current head, then returns (used by rebuild and audits).
   * `onProgress` gets the position reached after each batch.
   */
  async catchUp(onProgress?: (position: bigint, events: number) => void): Promise<number> {
    await this.prepare();
    const head = await this.eventStore.headPosition();
    if (head === 'start') return 0;
    let applied = 0;
    let after = this.lowestCheckpoint();
    while (after === 'start' || after < head) {
      const page = await this.eventStore.readAll({
        after,
        maxCount: this.maxBatchEvents,
        filter: { streamPrefixes: LEDGER_STREAM_PREFIXES },
      });
      if (page.length === 0) break;
      await this.applyBatch(page);
      applied += page.length;
      after = page[page.length - 1]!.position;
      onProgress?.(after, applied);
    }
    return applied;
  }

  /** Resolves once `projection` has applied `position` (read-your-writes), or fails after `timeoutMs`. */
  async waitForPosition(projection: string, position: bigint, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // A checkpoint below a ledger event at or before `position`: nothing to look up until it moves.
    let pendingFrom: bigint | 'start' | undefined;
    for (;;) {
      const checkpoint = this.checkpoints.get(projection) ?? (await this.readModels.getCheckpoint(projection));
      if (checkpoint !== 'start' && checkpoint >= position) return;
      const fresh = await this.readModels.getCheckpoint(projection);
      if (fresh !== 'start' && fresh >= position) return;
      if (fresh !== pendingFrom) {
        const left = await this.leftToApplyUpTo(fresh, position);
        if (left === 'nothing') return;
        if (left === 'ledger_events') pendingFrom = fresh;
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new PositionWaitTimeoutError(position, timeoutMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(remainingMs, this.checkpointPollIntervalMs));
        const waiters = this.waiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /**
   * What lies between the checkpoint and `position`: ledger events the projection has still to apply,
   * nothing (the log has reached `position` and only records no read model applies, such as idempotency
   * records, lie in between: the projection is there), or the log has not reached `position` yet. The
   * log's head (GET /v1/log/head) is often an idempotency record: waiting for it must not time out.
   */
  private async leftToApplyUpTo(
    checkpoint: bigint | 'start',
    position: bigint,
  ): Promise<'ledger_events' | 'nothing' | 'log_behind'> {
    // The head first: once it has reached `position`, every event at or before it is committed, so the
    // read that follows sees them all.
    const head = await this.eventStore.headPosition();
    const [next] = await this.eventStore.readAll({
      after: checkpoint,
      maxCount: 1,
      filter: { streamPrefixes: LEDGER_STREAM_PREFIXES },
    });
    if (next !== undefined && next.position <= position) return 'ledger_events';
    return head !== 'start' && head >= position ? 'nothing' : 'log_behind';
  }

  /**
   * Least recently used first: a Map keeps insertion order, and a document moved to the end on each use.
   * Evicted in batches of an eighth of the bound: `keys().next()` after many deletions walks the Map's
   * holes (12.7 us a call when evicting one at a time in a rebuild); one pass per batch is ~1 us a key.
   */
  private remember(key: string, doc: { data: JsonObject | null; position: bigint }): void {
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
    while (!this.stopped) {
      const first = await pending;
      if (first.done) return;
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
      await this.applyBatch(batch);
      this.failures = 0;
    }
  }

  private async applyBatch(batch: readonly RecordedEvent[]): Promise<void> {
    const decoded: Array<{ recorded: RecordedEvent; event: LedgerEvent }> = batch.map((recorded) => ({
      recorded,
      event: decodeEvent(recorded.type, recorded.data),
    }));
    for (const projection of this.projections) {
      const checkpoint = this.checkpoints.get(projection.name) ?? 'start';
      const fresh = decoded.filter(({ recorded }) => checkpoint === 'start' || recorded.position > checkpoint);
      if (fresh.length === 0) continue;
      const changesByEvent = fresh.map(({ recorded, event }) => ({
        recorded,
        changes: projection.handle(event, recorded),
      }));

      const keysByCollection = new Map<string, Set<string>>();
      for (const { changes } of changesByEvent) {
        for (const change of changes) {
          const ids = keysByCollection.get(change.collection) ?? new Set<string>();
          ids.add(change.id);
          keysByCollection.set(change.collection, ids);
        }
      }
      const working = new Map<string, { data: JsonObject | null; position: bigint }>();
      const writeOnce = new Set(projection.collections.filter((c) => c.writeOnce).map((c) => c.name));
      for (const [collection, ids] of keysByCollection) {
        if (writeOnce.has(collection)) {
          // Written once, never read back: a replayed write carries the same position and the store ignores it.
          for (const id of ids) working.set(documentKey(collection, id), { data: null, position: -1n });
          continue;
        }
        const missing: string[] = [];
        for (const id of ids) {
          const cached = this.documents.get(documentKey(collection, id));
          if (cached) working.set(documentKey(collection, id), cached);
          else missing.push(id);
        }
        if (missing.length === 0) continue;
        const stored = await this.readModels.getMany(collection, missing);
        for (const id of missing) {
          const doc: StoredDocument | undefined = stored.get(id);
          working.set(documentKey(collection, id), { data: doc?.data ?? null, position: doc?.position ?? -1n });
        }
      }
      const dirty = new Set<string>();
      for (const { recorded, changes } of changesByEvent) {
        for (const change of changes) {
          const key = documentKey(change.collection, change.id);
          const current = working.get(key)!;
          if (current.position >= recorded.position) continue; // already applied: a replay
          const next = change.apply(current.data);
          if (next === UNCHANGED) continue;
          working.set(key, { data: next, position: recorded.position });
          dirty.add(key);
        }
      }
      const writes: DocumentWrite[] = [...dirty].map((key) => {
        const [collection, id] = splitDocumentKey(key);
        const doc = working.get(key)!;
        return { collection, id, data: doc.data, position: doc.position };
      });
      const last = fresh[fresh.length - 1]!.recorded.position;
      try {
        await this.readModels.applyBatch(projection.name, writes, last);
      } catch (error) {
        // The store did not take this batch: forget what we believed it holds, and read it again.
        this.documents.clear();
        throw error;
      }
      this.checkpoints.set(projection.name, last);
      for (const [key, doc] of working) {
        if (!writeOnce.has(splitDocumentKey(key)[0])) this.remember(key, doc);
      }
    }
    for (const wake of [...this.waiters]) wake();
  }
}

function documentKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

function splitDocumentKey(key: string): [string, string] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
}

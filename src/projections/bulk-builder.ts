import { BloomFilter } from 'bloomfilter';
import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { RecordedEvent } from '../ports/event-store.js';
import { MAX_STAGED_WRITES_PER_CALL, type ReadModelStaging } from '../ports/read-model-staging.js';
import type { DocumentWrite } from '../ports/read-model-store.js';
import { UNCHANGED, type Projection } from './projection.js';

/**
 * One projection's documents on their way into a rebuild's staging area (see bulk-rebuild.ts), applied
 * with the live runner's rules (ProjectionRunner.applyBatch), so they come out byte for byte the same:
 * - a change is skipped when the document's position is at or above the event's (one event changing a
 *   document twice changes it once), and a change that answers UNCHANGED writes nothing;
 * - a write-once document is never read back: its change sees what the same batch made of it, or null,
 *   as in the live runner's batch-local copy.
 * What differs is what nobody sees during a rebuild: a document changed by many events (a balance) stays
 * in memory and is written when it leaves the bounded cache or at the end, not once per batch, and a
 * document is read back only if it may have been written (a Bloom filter of those let go).
 */

export interface BulkBuilderLimits {
  /** Documents kept in memory (all collections together); beyond it an eighth is written and let go. */
  readonly maxCachedDocuments: number;
  /** Documents waiting to be written; reaching it writes them (one staging call). */
  readonly maxPendingWrites: number;
}

/**
 * Bits of each collection's filter of documents let go (1 MiB), four hashes: under 0.02% false
 * "maybe written" up to 250,000 such documents, 2% at 1,000,000; beyond that more reads that find
 * nothing, never a wrong document.
 */
const SPILL_FILTER_BITS = 8 * 1024 * 1024;
const SPILL_FILTER_HASHES = 4;

export interface DecodedEvent {
  readonly recorded: RecordedEvent;
  readonly event: LedgerEvent;
}

interface CachedDocument {
  data: JsonObject | null;
  position: bigint;
  /** Changed since it was last written to the staging area. */
  dirty: boolean;
  /** The batch that last used it: an eviction spares documents used since the one before. */
  usedInBatch: number;
  /** The batch it came into the cache in: used in no other, it is the first to go. */
  readonly cachedInBatch: number;
}

interface CollectionState {
  readonly name: string;
  readonly writeOnce: boolean;
  /** Cached documents by id, in the order loaded or last spared by an eviction. */
  readonly documents: Map<string, CachedDocument>;
  /** Ids of documents let go (so possibly in the staging area); created at the first. */
  spilled: BloomFilter | undefined;
}

export class BulkBuilder {
  private readonly collections = new Map<string, CollectionState>();
  private cached = 0;
  private batches = 0;
  private lastEvictionBatch = 0;
  private pending: DocumentWrite[] = [];

  constructor(
    private readonly staging: ReadModelStaging,
    private readonly projection: Projection,
    private readonly limits: BulkBuilderLimits,
  ) {
    for (const spec of projection.collections) {
      this.collections.set(spec.name, {
        name: spec.name,
        writeOnce: spec.writeOnce ?? false,
        documents: new Map(),
        spilled: undefined,
      });
    }
  }

  async apply(batch: readonly DecodedEvent[]): Promise<void> {
    this.batches += 1;
    const changesByEvent = batch.map(({ recorded, event }) => ({
      position: recorded.position,
      changes: this.projection.handle(event, recorded),
    }));
    await this.loadSpilled(changesByEvent);
    // Write-once documents, as the live runner sees them: what this batch made of them, else nothing.
    const writtenOnce = new Map<CollectionState, Map<string, CachedDocument>>();
    for (const { position, changes } of changesByEvent) {
      for (const change of changes) {
        const collection = this.collection(change.collection);
        let once: Map<string, CachedDocument> | undefined;
        if (collection.writeOnce) {
          once = writtenOnce.get(collection) ?? new Map<string, CachedDocument>();
          writtenOnce.set(collection, once);
        }
        const current = (once ?? collection.documents).get(change.id);
        if (current && current.position >= position) continue;
        const next = change.apply(current?.data ?? null);
        if (next === UNCHANGED) continue;
        if (current) {
          current.data = next;
          current.position = position;
          current.dirty = true;
          current.usedInBatch = this.batches;
        } else {
          (once ?? collection.documents).set(change.id, {
            data: next,
            position,
            dirty: true,
            usedInBatch: this.batches,
            cachedInBatch: this.batches,
          });
          if (!once) this.cached += 1;
        }
      }
    }
    for (const [collection, documents] of writtenOnce) {
      for (const [id, document] of documents) this.pending.push(writeOf(collection, id, document));
    }
    const spilled = this.evictIfFull();
    // A document let go must be in the staging area before a later batch may read it back.
    if (spilled || this.pending.length >= this.limits.maxPendingWrites) await this.flush();
  }

  /** Writes every document still in memory, then completes the projection in the staging area. */
  async complete(checkpoint: bigint | 'start'): Promise<void> {
    for (const collection of this.collections.values()) {
      for (const [id, document] of collection.documents) {
        if (document.dirty) this.pending.push(writeOf(collection, id, document));
      }
      collection.documents.clear();
    }
    this.cached = 0;
    await this.flush();
    await this.staging.completeProjection(
      this.projection.name,
      this.projection.collections.map((c) => c.name),
      checkpoint,
    );
  }

  private collection(name: string): CollectionState {
    const collection = this.collections.get(name);
    if (!collection) throw new Error(`${this.projection.name} changed ${name}, a collection it does not declare`);
    return collection;
  }

  /**
   * Marks the cached documents the batch uses, and reads back those it needs that were let go earlier
   * (none until the cache first fills; only ids the filter says may have been written).
   */
  private async loadSpilled(
    changesByEvent: readonly { changes: readonly { collection: string; id: string }[] }[],
  ): Promise<void> {
    const missing = new Map<CollectionState, Set<string>>();
    for (const { changes } of changesByEvent) {
      for (const { collection: name, id } of changes) {
        const collection = this.collection(name);
        if (collection.writeOnce) continue;
        const cached = collection.documents.get(id);
        if (cached) cached.usedInBatch = this.batches;
        else if (collection.spilled?.test(id)) {
          const ids = missing.get(collection) ?? new Set<string>();
          ids.add(id);
          missing.set(collection, ids);
        }
      }
    }
    for (const [collection, ids] of missing) {
      const list = [...ids];
      for (let i = 0; i < list.length; i += MAX_STAGED_WRITES_PER_CALL) {
        const stored = await this.staging.getMany(collection.name, list.slice(i, i + MAX_STAGED_WRITES_PER_CALL));
        for (const [id, document] of stored) {
          collection.documents.set(id, {
            data: document.data,
            position: document.position,
            dirty: false,
            usedInBatch: this.batches,
            // Read back, so used in an earlier batch too: not one to go first.
            cachedInBatch: 0,
          });
          this.cached += 1;
        }
      }
    }
  }

  /**
   * Over the bound, an eighth of the documents is let go (dirty ones queued for writing), each collection
   * its share, oldest first and in three passes over its cache at most: first documents used in one batch
   * only (an operation's documents, written by a few consecutive events), then any not used since the
   * last eviction, then the oldest. A document used in several batches (an account's) outlives a stream
   * of single-batch ones, which a plain least-recently-used order would let push it out and read it back.
   * Using a document costs one field write, and one eviction serves an eighth of the bound.
   */
  private evictIfFull(): boolean {
    if (this.cached <= this.limits.maxCachedDocuments) return false;
    const target = this.limits.maxCachedDocuments - Math.ceil(this.limits.maxCachedDocuments / 8);
    const excess = this.cached - target;
    for (const collection of this.collections.values()) {
      const share = Math.ceil((excess * collection.documents.size) / this.cached);
      const keep = collection.documents.size - Math.min(share, collection.documents.size);
      const idle = (d: CachedDocument) => d.usedInBatch <= this.lastEvictionBatch;
      this.evictFrom(collection, keep, (d) => idle(d) && d.usedInBatch === d.cachedInBatch);
      this.evictFrom(collection, keep, idle);
      this.evictFrom(collection, keep, () => true);
    }
    this.cached = 0;
    for (const collection of this.collections.values()) this.cached += collection.documents.size;
    this.lastEvictionBatch = this.batches;
    return true;
  }

  private evictFrom(collection: CollectionState, keep: number, evictable: (d: CachedDocument) => boolean): void {
    const documents = collection.documents;
    for (const [id, document] of documents) {
      if (documents.size <= keep) return;
      if (!evictable(document)) continue;
      documents.delete(id);
      this.letGo(collection, id, document);
    }
  }

  private letGo(collection: CollectionState, id: string, document: CachedDocument): void {
    if (document.dirty) this.pending.push(writeOf(collection, id, document));
    collection.spilled ??= new BloomFilter(SPILL_FILTER_BITS, SPILL_FILTER_HASHES);
    collection.spilled.add(id);
  }

  private async flush(): Promise<void> {
    const writes = this.pending;
    this.pending = [];
    for (let i = 0; i < writes.length; i += this.limits.maxPendingWrites) {
      await this.staging.writeDocuments(writes.slice(i, i + this.limits.maxPendingWrites));
    }
  }
}

function writeOf(collection: CollectionState, id: string, document: CachedDocument): DocumentWrite {
  return { collection: collection.name, id, data: document.data, position: document.position };
}

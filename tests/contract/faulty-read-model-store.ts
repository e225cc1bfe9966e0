import type { JsonObject } from '../../src/domain/shared/json.js';
import {
  ReadModelStoreUnavailableError,
  ReadModelWriteUnknownError,
  type CollectionSpec,
  type DocumentWrite,
  type FindPage,
  type FindQuery,
  type LeaseFence,
  type LeaseGrant,
  type LeaseState,
  type ReadModelStore,
  type StoredDocument,
} from '../../src/ports/read-model-store.js';

/**
 * How the next `applyBatch` fails, the ways a real engine's batch write fails:
 *   - `none`: it does not;
 *   - `unavailable`: refused before anything is written;
 *   - `half-written`: the first half of the documents is stored, the rest and the checkpoint are not (a
 *     non-transactional write cut short, a connection lost mid-batch); the caller hears "unknown";
 *   - `written-unconfirmed`: all of it is stored but the answer is lost (a write concern timeout);
 *   - `crash-after-documents`: the documents are stored, then the process dies (SIGKILL) before the
 *     checkpoint is: a non-transactional store's crash between its two writes.
 */
export type BatchFault = 'none' | 'unavailable' | 'half-written' | 'written-unconfirmed' | 'crash-after-documents';

/** Prefix of the checkpoint a half-written batch's documents are written under, so the real one stays put. */
export const SCRATCH_PROJECTION_PREFIX = 'fault-scratch-';

/**
 * Wraps any read-model store (the embedded one, or a real MongoDB) and injects batch-write faults; reads
 * pass through.
 */
export class FaultyReadModelStore implements ReadModelStore {
  readonly engine: ReadModelStore['engine'];
  private readonly faults: BatchFault[] = [];

  constructor(private readonly inner: ReadModelStore) {
    this.engine = inner.engine;
  }

  failNextBatches(...faults: BatchFault[]): void {
    this.faults.push(...faults);
  }

  async applyBatch(
    projection: string,
    writes: readonly DocumentWrite[],
    checkpoint: bigint,
    fence?: LeaseFence,
  ): Promise<void> {
    const fault = this.faults.shift() ?? 'none';
    switch (fault) {
      case 'none':
        return this.inner.applyBatch(projection, writes, checkpoint, fence);
      case 'unavailable':
        throw new ReadModelStoreUnavailableError(`injected: ${projection}'s batch refused, nothing written`);
      case 'half-written':
        await this.inner.applyBatch(
          `${SCRATCH_PROJECTION_PREFIX}${projection}`,
          writes.slice(0, Math.ceil(writes.length / 2)),
          checkpoint,
        );
        throw new ReadModelWriteUnknownError(`injected: ${projection}'s batch was cut short half-way`);
      case 'crash-after-documents':
        await this.inner.applyBatch(`${SCRATCH_PROJECTION_PREFIX}${projection}`, writes, checkpoint);
        process.kill(process.pid, 'SIGKILL');
        throw new Error('unreachable: the process was killed');
      case 'written-unconfirmed':
        await this.inner.applyBatch(projection, writes, checkpoint, fence);
        throw new ReadModelWriteUnknownError(`injected: ${projection}'s batch was written, unconfirmed`);
    }
  }

  ensureCollections(specs: readonly CollectionSpec[]): Promise<void> {
    return this.inner.ensureCollections(specs);
  }

  get<T extends JsonObject = JsonObject>(collection: string, id: string): Promise<StoredDocument<T> | null> {
    return this.inner.get<T>(collection, id);
  }

  getMany<T extends JsonObject = JsonObject>(
    collection: string,
    ids: readonly string[],
  ): Promise<Map<string, StoredDocument<T>>> {
    return this.inner.getMany<T>(collection, ids);
  }

  find<T extends JsonObject = JsonObject>(collection: string, query: FindQuery): Promise<FindPage<T>> {
    return this.inner.find<T>(collection, query);
  }

  getCheckpoint(projection: string): Promise<bigint | 'start'> {
    return this.inner.getCheckpoint(projection);
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseGrant | null> {
    return this.inner.acquireLease(name, holder, ttlMs);
  }

  renewLease(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | null> {
    return this.inner.renewLease(grant, ttlMs);
  }

  releaseLease(grant: LeaseGrant): Promise<void> {
    return this.inner.releaseLease(grant);
  }

  listLeases(): Promise<LeaseState[]> {
    return this.inner.listLeases();
  }

  freeAllLeases(): Promise<void> {
    return this.inner.freeAllLeases();
  }

  getProjectionVersions(): Promise<Map<string, number>> {
    return this.inner.getProjectionVersions();
  }

  recordProjectionVersion(projection: string, version: number): Promise<void> {
    return this.inner.recordProjectionVersion(projection, version);
  }

  resetProjection(projection: string, collections: readonly string[]): Promise<void> {
    return this.inner.resetProjection(projection, collections);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

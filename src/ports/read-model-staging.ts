import type { CollectionSpec, DocumentWrite, StoredDocument } from './read-model-store.js';

/**
 * Where `ledger rebuild` builds read models beside the live ones before swapping them in at once (a new
 * SQLite file, MongoDB collections under a prefix). Nothing reads it while it is built, so it needs less
 * than a live store: no checkpoint per batch, no secondary index until the documents are all there, no
 * flush to disk per write (a crash leaves a staging area that the next rebuild throws away).
 *
 * One projection's collections are built through one staging connection, by one writer, in log order.
 * Adapters: SqliteReadModelStore in bulk mode, MongoReadModelStore with a staging prefix.
 */
export interface ReadModelStaging {
  /** Creates the collections, without the indexes that `completeProjection` creates. */
  ensureCollections(specs: readonly CollectionSpec[]): Promise<void>;
  /** Documents written earlier by `writeDocuments` (the builder reads back what it let go of). */
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, StoredDocument>>;
  /**
   * Writes documents, each replacing the stored one when its position is higher. A write-once
   * collection's document is inserted: a second write of one fails, as a write-once document is written
   * once (so a projection that breaks the promise stops the rebuild instead of losing an update).
   */
  writeDocuments(writes: readonly DocumentWrite[]): Promise<void>;
  /**
   * Every document of the projection is written: creates the deferred indexes of its collections and
   * records its checkpoint ('start': nothing applied, no checkpoint, as a live store has none).
   */
  completeProjection(projection: string, collections: readonly string[], checkpoint: bigint | 'start'): Promise<void>;
  close(): Promise<void>;
}

/** Largest number of writes one `writeDocuments` may carry. */
export const MAX_STAGED_WRITES_PER_CALL = 10_000;

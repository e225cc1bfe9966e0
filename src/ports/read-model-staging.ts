import type { CollectionSpec, DocumentWrite, LeaseFence, ReadModelStore, StoredDocument } from './read-model-store.js';

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

/**
 * Where an online rebuild (src/projections/online-rebuild.ts) builds one projection beside its live
 * documents while the service runs, and how it switches them in. One area per live store; one build per
 * projection at a time.
 *
 * Adapters (src/adapters/online-rebuild-area.ts): SQLite, a file of its own per projection
 * (`read-models.sqlite.online-<projection>`) copied into the live file in one transaction; MongoDB,
 * collections under `_online.<projection>.` renamed over the live ones.
 */
export interface OnlineRebuildArea {
  /** Removes every build an interrupted online rebuild left (a crash mid-rebuild): called on start. */
  discardAll(): Promise<void>;
  /** Removes `projection`'s build, if any. */
  discard(projection: string): Promise<void>;
  /** An empty staging area for `projection`'s bulk build. */
  openBuild(projection: string): Promise<ReadModelStaging>;
  /** The completed bulk build as a store, for catching it up with the log's head (ProjectionRunner). */
  openCatchUp(projection: string): Promise<ReadModelStore>;
  /**
   * Replaces the live documents and checkpoint of `projection` by its build's (closed first), and records
   * `version` as the one they were built with. Fenced by the projections lease when `fence` is given:
   * refused (LeaseLostError, nothing switched) once another instance holds it.
   */
  switchIn(
    projection: { readonly name: string; readonly collections: readonly string[]; readonly version: number },
    fence?: LeaseFence,
  ): Promise<void>;
}

import type { JsonObject } from '../domain/shared/json.js';

/**
 * The read-model store port: a small document store for projections.
 *
 * Documents live in named collections; each remembers the global position of the last event applied to
 * it, and a write carrying an older or equal position is ignored, so replaying any range of the log twice
 * changes nothing. Each projection keeps a checkpoint (the last position it has fully applied), written
 * in the same batch as its documents.
 *
 * Durability: a write is acknowledged only once it survives the loss of the node that took it (MongoDB:
 * majority write concern, journaled), and reads see only such writes (majority read concern, primary), so
 * a checkpoint or document read back is never one a failover takes away.
 *
 * Adapters: `sqlite` (embedded default) and `mongo` (MongoDB). Both are held to
 * tests/contract/read-model-store.contract.ts, also through tests/contract/faulty-read-model-store.ts.
 */

/** A scalar a document field may be queried by. */
export type IndexValue = string | number | boolean;

export interface CollectionSpec {
  /** lower_snake_case; becomes a table or collection name. */
  readonly name: string;
  /** Top-level document fields that `find` may filter, range over or order by. */
  readonly indexes: readonly string[];
  /**
   * Each document is written once and never changed (statement lines, journal entries): a projection
   * runner need not read it back before writing, nor keep it in memory. Stores ignore the flag.
   */
  readonly writeOnce?: boolean;
}

export interface StoredDocument<T extends JsonObject = JsonObject> {
  readonly id: string;
  /** Global position of the last event applied to this document. */
  readonly position: bigint;
  readonly data: T;
}

export interface FindQuery {
  /** Equality on indexed fields. */
  readonly where?: Readonly<Record<string, IndexValue>>;
  /** A half-open range [gte, lt) on one indexed field. */
  readonly range?: { readonly field: string; readonly gte?: IndexValue; readonly lt?: IndexValue };
  /** An indexed field (ties broken by id); default: id. */
  readonly orderBy?: string;
  readonly direction?: 'asc' | 'desc';
  /** Opaque cursor from the previous page's `nextCursor`. */
  readonly after?: string;
  readonly limit: number;
}

export interface FindPage<T extends JsonObject = JsonObject> {
  readonly items: StoredDocument<T>[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface DocumentWrite {
  readonly collection: string;
  readonly id: string;
  /** The whole new document; null removes it (a tombstone keeps its position). */
  readonly data: JsonObject | null;
  /** Position of the event this write comes from. */
  readonly position: bigint;
}

export interface ReadModelStore {
  readonly engine: 'sqlite' | 'mongo';
  /** Creates collections and their indexes if missing. Idempotent. */
  ensureCollections(specs: readonly CollectionSpec[]): Promise<void>;
  get<T extends JsonObject = JsonObject>(collection: string, id: string): Promise<StoredDocument<T> | null>;
  getMany<T extends JsonObject = JsonObject>(
    collection: string,
    ids: readonly string[],
  ): Promise<Map<string, StoredDocument<T>>>;
  find<T extends JsonObject = JsonObject>(collection: string, query: FindQuery): Promise<FindPage<T>>;
  /**
   * Applies document writes and moves the projection's checkpoint forward, atomically where the engine
   * allows. A write whose position is not above the document's stored position is skipped; a checkpoint
   * never moves backwards.
   */
  applyBatch(projection: string, writes: readonly DocumentWrite[], checkpoint: bigint): Promise<void>;
  getCheckpoint(projection: string): Promise<bigint | 'start'>;
  /** Removes a projection's documents and checkpoint (before a rebuild). */
  resetProjection(projection: string, collections: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Largest page `find` returns. */
export const MAX_FIND_LIMIT = 1_000;
/** Largest number of writes one `applyBatch` may carry. */
export const MAX_WRITES_PER_BATCH = 50_000;

export const COLLECTION_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const FIELD_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

export class InvalidQueryError extends Error {
  override readonly name = 'InvalidQueryError';
}

/**
 * Failures by outcome. Every write of the port is idempotent (position-guarded documents, a checkpoint
 * that only moves forward), so a caller retries the same batch after any of the first two; it must not
 * believe the batch is stored until a retry succeeds.
 */
/** Nothing was written (no primary, no connection): retry later. */
export class ReadModelStoreUnavailableError extends Error {
  override readonly name: string = 'ReadModelStoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The write may or may not have been applied (not confirmed by a majority, connection lost mid-write). */
export class ReadModelWriteUnknownError extends ReadModelStoreUnavailableError {
  override readonly name = 'ReadModelWriteUnknownError';
}

/** The store refuses whatever the retry (credentials, permissions, limits): an operator has to act. */
export class ReadModelStoreRefusedError extends Error {
  override readonly name = 'ReadModelStoreRefusedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Cursor encoding shared by the adapters: the last item's order value and id, base64url JSON. */
export function encodeCursor(orderValue: IndexValue | null, id: string): string {
  return Buffer.from(JSON.stringify([orderValue, id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { orderValue: IndexValue | null; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[1] === 'string') {
      const [orderValue, id] = parsed as [unknown, string];
      if (orderValue === null || ['string', 'number', 'boolean'].includes(typeof orderValue)) {
        return { orderValue: orderValue as IndexValue | null, id };
      }
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidQueryError('malformed cursor');
}

/** Checks a query against the collection's declared indexes; both adapters call it. */
export function validateFindQuery(spec: CollectionSpec | undefined, collection: string, query: FindQuery): void {
  if (!spec) throw new InvalidQueryError(`unknown collection: ${collection}`);
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_FIND_LIMIT) {
    throw new InvalidQueryError(`limit must be an integer from 1 to ${MAX_FIND_LIMIT}`);
  }
  const indexed = (field: string): boolean => spec.indexes.includes(field);
  for (const field of Object.keys(query.where ?? {})) {
    if (!indexed(field)) throw new InvalidQueryError(`${collection}.${field} is not indexed`);
  }
  if (query.range && !indexed(query.range.field))
    throw new InvalidQueryError(`${collection}.${query.range.field} is not indexed`);
  if (query.orderBy !== undefined && query.orderBy !== 'id' && !indexed(query.orderBy)) {
    throw new InvalidQueryError(`${collection}.${query.orderBy} is not indexed`);
  }
}

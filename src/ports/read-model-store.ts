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
  /**
   * Indexed fields whose index also carries each document (on SQLite a covering index), for reads that
   * sweep a long range in that field's order: a reconciliation day reads a million orders in match order,
   * and through a plain index each order is a table page of its own, read in no order at all. Costs a
   * second copy of each document on disk. A subset of `indexes`; a store that has no such notion (MongoDB
   * here) serves these fields from its ordinary index.
   */
  readonly documentIndexes?: readonly string[];
}

/** Checks a collection's declared fields; both adapters call it. */
export function validateCollectionSpec(spec: CollectionSpec): void {
  if (!COLLECTION_NAME_PATTERN.test(spec.name)) throw new InvalidQueryError(`invalid collection name: ${spec.name}`);
  for (const field of spec.indexes)
    if (!FIELD_NAME_PATTERN.test(field)) throw new InvalidQueryError(`invalid index field: ${field}`);
  for (const field of spec.documentIndexes ?? [])
    if (!spec.indexes.includes(field))
      throw new InvalidQueryError(`${spec.name}.${field} carries documents in its index but is not indexed`);
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
   * never moves backwards. With a `fence`, the batch is refused (LeaseLostError, nothing written) unless
   * the fence's token is still the lease's current one, checked in the same transaction as the writes.
   */
  applyBatch(
    projection: string,
    writes: readonly DocumentWrite[],
    checkpoint: bigint,
    fence?: LeaseFence,
  ): Promise<void>;
  getCheckpoint(projection: string): Promise<bigint | 'start'>;
  /**
   * Takes the named lease for `holder` when it is free (never held, released, or expired by the store's
   * clock) or already `holder`'s (a restarted worker of the same instance), with the next fencing token,
   * which fences off whatever wrote under the previous one; null when someone else holds it. Atomic: of
   * several callers at once, at most one gets it.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseGrant | null>;
  /**
   * Extends a lease `ttlMs` from now (the store's clock) while `grant`'s holder and token are still the
   * current ones (even past its expiry, if nobody took it since: its token still fences out nobody else);
   * null once it was taken over or released.
   */
  renewLease(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | null>;
  /** Frees a lease at once if `grant` still holds it (a graceful stop: another instance need not wait). */
  releaseLease(grant: LeaseGrant): Promise<void>;
  /** Every lease the store knows, with the store's clock, for status output. */
  listLeases(): Promise<LeaseState[]>;
  /**
   * Frees every lease, keeping their tokens: for a tool that holds the store exclusively (`ledger rebuild`
   * under the DATA_DIR lock), so no holder can be alive, and a lease a killed service left behind does
   * not keep the next service waiting for it to expire.
   */
  freeAllLeases(): Promise<void>;
  /**
   * The version each projection's stored documents were built with (Projection.version), as recorded by
   * `recordProjectionVersion` or an online rebuild's switch; a projection never recorded is absent.
   */
  getProjectionVersions(): Promise<Map<string, number>>;
  /** Records the version a projection's stored documents are built with (replacing what was recorded). */
  recordProjectionVersion(projection: string, version: number): Promise<void>;
  /** Removes a projection's documents and checkpoint (before a rebuild). */
  resetProjection(projection: string, collections: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** A lease held: who holds it, its fencing token and until when (the store's clock, ms since the epoch). */
export interface LeaseGrant {
  readonly name: string;
  readonly holder: string;
  /** Strictly increasing per lease name, whoever acquires it: a later holder always has a larger one. */
  readonly token: bigint;
  readonly expiresAtMs: number;
}

/** A lease as stored, read with the store's clock: expired when `expiresAtMs <= nowMs`. */
export interface LeaseState {
  readonly name: string;
  /** null: released (or freed by a rebuild). */
  readonly holder: string | null;
  readonly token: bigint;
  readonly expiresAtMs: number;
  readonly nowMs: number;
}

/** What a fenced `applyBatch` carries: the lease and the token its writer acquired it with. */
export interface LeaseFence {
  readonly lease: string;
  readonly token: bigint;
}

/** Lease TTLs a store accepts: long enough to renew in, short enough that a dead holder is replaced. */
export const MIN_LEASE_TTL_MS = 100;
export const MAX_LEASE_TTL_MS = 10 * 60_000;

/** Checks a TTL before it reaches a store; both adapters call it. */
export function validateLeaseTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < MIN_LEASE_TTL_MS || ttlMs > MAX_LEASE_TTL_MS) {
    throw new InvalidQueryError(`a lease TTL is an integer from ${MIN_LEASE_TTL_MS} to ${MAX_LEASE_TTL_MS} ms`);
  }
}

/** Checks a projection version before it reaches a store (Projection.version); both adapters call it. */
export function validateProjectionVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1)
    throw new InvalidQueryError(`a projection version is a positive integer: ${version}`);
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

/**
 * A fenced batch was refused: its lease was taken over (a later token is current) or freed. Nothing was
 * written; the writer no longer holds the lease and must stop (retrying cannot succeed).
 */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(
    readonly fence: LeaseFence,
    readonly currentToken: bigint | null,
  ) {
    super(
      `lease ${fence.lease} is no longer held with token ${fence.token} (current: ${currentToken ?? 'none'}): batch refused`,
    );
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

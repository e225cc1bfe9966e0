import {
  Long,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type ClientSession,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type Sort,
} from 'mongodb';
import type { JsonObject } from '../../domain/shared/json.js';
import {
  COLLECTION_NAME_PATTERN,
  InvalidQueryError,
  LeaseLostError,
  MAX_WRITES_PER_BATCH,
  ReadModelStoreRefusedError,
  ReadModelStoreUnavailableError,
  ReadModelWriteUnknownError,
  decodeCursor,
  encodeCursor,
  validateCollectionSpec,
  validateFindQuery,
  validateLeaseTtl,
  validateProjectionVersion,
  type CollectionSpec,
  type DocumentWrite,
  type FindPage,
  type FindQuery,
  type IndexValue,
  type LeaseFence,
  type LeaseGrant,
  type LeaseState,
  type ReadModelStore,
  type StoredDocument,
} from '../../ports/read-model-store.js';
import { MAX_STAGED_WRITES_PER_CALL, type ReadModelStaging } from '../../ports/read-model-staging.js';
import { DURABLE_TRANSACTION_OPTIONS, MAJORITY_WRITE_CONCERN, durableCollection } from './mongo-concerns.js';
import { classifyMongoError, describeOutcome } from './mongo-errors.js';

export interface MongoReadModelStoreOptions {
  /** Defaults to the database named in the URL, else DEFAULT_DATABASE_NAME. */
  readonly databaseName?: string;
  /** How long the driver looks for a usable server before an operation fails. */
  readonly serverSelectionTimeoutMs?: number;
  /**
   * A rebuild's staging area (src/ports/read-model-staging.ts): every collection, the checkpoints'
   * included, is `<prefix><name>`, and indexes wait for `completeProjection`. The prefix must not be able
   * to begin a read-model name (COLLECTION_NAME_PATTERN), so staging never meets a live collection.
   */
  readonly stagingPrefix?: string;
}

export const DEFAULT_DATABASE_NAME = 'ledger';
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3_000;
/** Projection checkpoints: `{ _id: projection, position }`. Not available as a read-model collection name. */
export const CHECKPOINT_COLLECTION = 'projection_checkpoints';
/**
 * Named leases: `{ _id: name, holder, token, expiresAt }`, judged by the server's clock (`$$NOW`), so
 * instances on hosts whose clocks differ agree on when a lease has expired. Not a collection name either.
 */
export const LEASE_COLLECTION = 'projection_leases';
/** The version each projection's documents were built with: `{ _id: projection, version }`. Not a collection name either. */
export const VERSION_COLLECTION = 'projection_versions';
/** Ids per `$in` query in `getMany`: keeps each query document small whatever the caller asks for. */
const GET_MANY_CHUNK_SIZE = 1_000;
/** Top-level fields the adapter keeps beside a document's data fields. */
const RESERVED_FIELDS: ReadonlySet<string> = new Set(['_id', '_position', '_deleted']);
// MongoDB server error codes.
const DUPLICATE_KEY = 11000;
const NAMESPACE_EXISTS = 48;

/** A read-model document as stored: the data fields at top level, beside the adapter's own. */
interface StoredRecord extends Document {
  _id: string;
  /** Int64; the driver returns it as a number when it fits in 53 bits, else as a Long. */
  _position: unknown;
  _deleted?: true;
}

interface LeaseRecord extends Document {
  _id: string;
  holder: string | null;
  token: unknown;
  expiresAt: Date;
}

interface VersionRecord extends Document {
  _id: string;
  version: number;
}

interface CheckpointRecord extends Document {
  _id: string;
  position: unknown;
}

/**
 * The production read-model store: MongoDB. One MongoDB collection per port collection, documents with
 * their data fields at top level (so reporting tools can query them as they are), `_id` = the document
 * id, `_position` = the position of the last event applied, and `_deleted: true` tombstones that keep
 * their position so an older write cannot bring a removed document back.
 *
 * Every document write is conditional on its position being above the stored one, so replays are
 * harmless. On a replica set (or sharded cluster) a batch and its checkpoint commit in one transaction;
 * on a standalone server they are written one after the other, documents first, which is still correct:
 * a crash in between leaves documents ahead of the checkpoint, and the replay after it changes nothing.
 *
 * Every read and write asks for majority concerns on the primary (src/adapters/mongo/mongo-concerns.ts),
 * and every driver error becomes the port's refused / unavailable / unknown (mongo-errors.ts).
 */
export class MongoReadModelStore implements ReadModelStore, ReadModelStaging {
  readonly engine = 'mongo' as const;
  private readonly specs = new Map<string, CollectionSpec>();

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    /** The server can run multi-document transactions (replica set or mongos). */
    private readonly transactional: boolean,
    /** Hosts from the URL, without credentials: for error messages. */
    private readonly hosts: string,
    /** Set for a rebuild's staging area (see MongoReadModelStoreOptions.stagingPrefix). */
    private readonly stagingPrefix: string | undefined,
    /** Where it connected: an online rebuild opens its staging stores there (online-rebuild-area.ts). */
    readonly connection: { readonly url: string; readonly databaseName: string },
  ) {}

  /** Connects and pings, so a wrong address or a stopped server fails here rather than later. */
  static async connect(url: string, options: MongoReadModelStoreOptions = {}): Promise<MongoReadModelStore> {
    const hosts = hostsOf(url);
    const prefix = options.stagingPrefix;
    if (prefix !== undefined && (prefix === '' || COLLECTION_NAME_PATTERN.test(prefix)))
      throw new Error(`a staging prefix must not begin a read-model name: ${JSON.stringify(prefix)}`);
    let client: MongoClient | undefined;
    try {
      client = new MongoClient(url, {
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
      });
      await client.connect();
      const databaseName = options.databaseName ?? databaseNameOf(url) ?? DEFAULT_DATABASE_NAME;
      const db = client.db(databaseName);
      await db.command({ ping: 1 });
      const hello = await db.command({ hello: 1 });
      // Transactions need a replica set member (setName) or a mongos router ('isdbgrid').
      const transactional = typeof hello['setName'] === 'string' || hello['msg'] === 'isdbgrid';
      const store = new MongoReadModelStore(client, db, transactional, hosts, prefix, { url, databaseName });
      // Created up front: implicit creation inside a transaction is not allowed on every deployment.
      await store.createCollectionIfMissing(store.physical(CHECKPOINT_COLLECTION));
      // Leases are the live store's only: never staged, never renamed by a rebuild's swap.
      await store.createCollectionIfMissing(LEASE_COLLECTION);
      return store;
    } catch (error) {
      await client?.close().catch(() => undefined);
      const message = redact(messageOf(error), url);
      // Wrong credentials or a bad URL are not an outage: say which, so nobody waits for a server to return.
      if (classifyMongoError(error, 'read') === 'refused') {
        throw new ReadModelStoreRefusedError(`MongoDB at ${hosts} refused the connection: ${message}`, {
          cause: error,
        });
      }
      throw new ReadModelStoreUnavailableError(`MongoDB at ${hosts} is unreachable: ${message}`, { cause: error });
    }
  }

  async ensureCollections(specs: readonly CollectionSpec[]): Promise<void> {
    for (const spec of specs) {
      validateCollectionSpec(spec);
      if (spec.name === CHECKPOINT_COLLECTION || spec.name === LEASE_COLLECTION || spec.name === VERSION_COLLECTION)
        throw new InvalidQueryError(`${spec.name} is reserved for checkpoints, leases and versions`);
    }
    await this.guard('write', async () => {
      for (const spec of specs) {
        await this.createCollectionIfMissing(this.physical(spec.name));
        // A staging area builds its indexes once its documents are in (completeProjection).
        if (this.stagingPrefix === undefined) await this.createIndexes(spec);
        this.specs.set(spec.name, spec);
      }
    });
  }

  /** createIndexes is a no-op for an index that already exists with the same keys and name. */
  private async createIndexes(spec: CollectionSpec): Promise<void> {
    if (spec.indexes.length === 0) return;
    await durableCollection(this.db, this.physical(spec.name)).createIndexes(
      spec.indexes.map((field) => ({ key: { [field]: 1, _id: 1 }, name: `${field}_1__id_1` })),
    );
  }

  async get<T extends JsonObject = JsonObject>(collection: string, id: string): Promise<StoredDocument<T> | null> {
    const target = this.collectionFor(collection);
    const record = await this.guard('read', () => target.findOne({ _id: id, _deleted: { $ne: true } }));
    return record ? toStoredDocument<T>(record) : null;
  }

  async getMany<T extends JsonObject = JsonObject>(
    collection: string,
    ids: readonly string[],
  ): Promise<Map<string, StoredDocument<T>>> {
    const target = this.collectionFor(collection);
    const found = new Map<string, StoredDocument<T>>();
    for (let i = 0; i < ids.length; i += GET_MANY_CHUNK_SIZE) {
      const chunk = ids.slice(i, i + GET_MANY_CHUNK_SIZE);
      const records = await this.guard('read', () =>
        target.find({ _id: { $in: chunk }, _deleted: { $ne: true } }).toArray(),
      );
      for (const record of records) found.set(record._id, toStoredDocument<T>(record));
    }
    return found;
  }

  async find<T extends JsonObject = JsonObject>(collection: string, query: FindQuery): Promise<FindPage<T>> {
    validateFindQuery(this.specs.get(collection), collection, query);
    const target = this.collectionFor(collection);
    const orderField = fieldPath(query.orderBy ?? 'id');
    const descending = query.direction === 'desc';

    const clauses: Filter<StoredRecord>[] = [{ _deleted: { $ne: true } }];
    for (const [name, value] of Object.entries(query.where ?? {})) clauses.push({ [fieldPath(name)]: value });
    if (query.range) {
      const bounds: Document = {};
      if (query.range.gte !== undefined) bounds['$gte'] = query.range.gte;
      if (query.range.lt !== undefined) bounds['$lt'] = query.range.lt;
      if (Object.keys(bounds).length > 0) clauses.push({ [fieldPath(query.range.field)]: bounds });
    }
    if (query.after !== undefined) clauses.push(afterCursor(orderField, decodeCursor(query.after), descending));

    const direction = descending ? -1 : 1;
    // The `{field: 1, _id: 1}` index serves this sort in either direction.
    const sort: Sort = orderField === '_id' ? { _id: direction } : { [orderField]: direction, _id: direction };
    // One more than asked for says whether there is a next page.
    const records = await this.guard('read', () =>
      target
        .find({ $and: clauses })
        .sort(sort)
        .limit(query.limit + 1)
        .toArray(),
    );
    const page = records.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor =
      records.length > query.limit && last
        ? encodeCursor(orderField === '_id' ? last._id : orderValueOf(last[orderField]), last._id)
        : null;
    return { items: page.map((record) => toStoredDocument<T>(record)), nextCursor };
  }

  async applyBatch(
    projection: string,
    writes: readonly DocumentWrite[],
    checkpoint: bigint,
    fence?: LeaseFence,
  ): Promise<void> {
    if (writes.length > MAX_WRITES_PER_BATCH)
      throw new InvalidQueryError(`a batch carries at most ${MAX_WRITES_PER_BATCH} writes`);
    for (const write of writes) {
      this.collectionFor(write.collection);
      if (write.data !== null) assertStorable(write.collection, write.id, write.data);
    }
    const operationsByCollection = new Map<string, AnyBulkWriteOperation<StoredRecord>[]>();
    for (const write of winningWrites(writes)) {
      const operations = operationsByCollection.get(write.collection) ?? [];
      operations.push(guardedUpsert(write));
      operationsByCollection.set(write.collection, operations);
    }
    const apply = async (session?: ClientSession): Promise<void> => {
      if (fence) await this.checkFence(fence, session);
      for (const [collection, operations] of operationsByCollection) {
        await this.bulkUpsert(durableCollection<StoredRecord>(this.db, collection), operations, session);
      }
      // Written last: without a transaction a crash leaves documents ahead of the checkpoint, never behind.
      await this.checkpoints().updateOne(
        { _id: projection },
        { $max: { position: Long.fromBigInt(checkpoint) } },
        { upsert: true, ...(session ? { session } : {}) },
      );
    };
    await this.guard('write', async () => {
      if (!this.transactional) return apply();
      const session = this.client.startSession();
      try {
        // withTransaction retries the whole callback on transient errors; the writes are idempotent.
        await session.withTransaction(() => apply(session), DURABLE_TRANSACTION_OPTIONS);
      } finally {
        await session.endSession();
      }
    });
  }

  /**
   * The fence is a write to the lease document, not a read: inside the batch's transaction, a takeover
   * committed meanwhile makes it a write conflict (the transaction is run again, and then refused), where a
   * read would not be checked at commit. Without transactions (a standalone server) it is checked before
   * the writes, which leaves a takeover between the check and the writes unfenced: run a replica set.
   */
  private async checkFence(fence: LeaseFence, session?: ClientSession): Promise<void> {
    const fenced = await this.leases().updateOne(
      { _id: fence.lease, holder: { $ne: null }, token: Long.fromBigInt(fence.token) },
      { $currentDate: { fencedAt: true } },
      session ? { session } : {},
    );
    if (fenced.matchedCount === 1) return;
    const current = await this.leases().findOne({ _id: fence.lease }, session ? { session } : {});
    throw new LeaseLostError(fence, current ? toBigInt(current.token) : null);
  }

  /**
   * One conditional upsert: the filter matches a lease that is free, expired by the server's clock or
   * already `holder`'s, and
   * the update pipeline takes it with the next token. A lease someone holds does not match, so the upsert
   * tries to insert its _id and fails on the duplicate key: that is the answer "held" (also when two
   * instances race to create a lease that did not exist: the loser's insert fails the same way).
   */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseGrant | null> {
    validateLeaseTtl(ttlMs);
    const taken = await this.guard('write', async () => {
      try {
        return await this.leases().findOneAndUpdate(
          { _id: name, $or: [{ holder: null }, { holder }, { $expr: { $lte: ['$expiresAt', '$$NOW'] } }] },
          [
            {
              $set: {
                holder: { $literal: holder },
                token: { $add: [{ $ifNull: ['$token', Long.ZERO] }, Long.ONE] },
                expiresAt: { $add: ['$$NOW', ttlMs] },
              },
            },
          ],
          { upsert: true, returnDocument: 'after' },
        );
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return null;
        throw error;
      }
    });
    return taken ? toGrant(taken) : null;
  }

  async renewLease(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | null> {
    validateLeaseTtl(ttlMs);
    const renewed = await this.guard('write', () =>
      this.leases().findOneAndUpdate(
        { _id: grant.name, holder: grant.holder, token: Long.fromBigInt(grant.token) },
        [{ $set: { expiresAt: { $add: ['$$NOW', ttlMs] } } }],
        { returnDocument: 'after' },
      ),
    );
    return renewed ? toGrant(renewed) : null;
  }

  async releaseLease(grant: LeaseGrant): Promise<void> {
    await this.guard('write', () =>
      this.leases().updateOne(
        { _id: grant.name, holder: grant.holder, token: Long.fromBigInt(grant.token) },
        { $set: { holder: null, expiresAt: new Date(0) } },
      ),
    );
  }

  async listLeases(): Promise<LeaseState[]> {
    const records = await this.guard('read', () =>
      this.leases()
        .aggregate<LeaseRecord & { now: Date }>([{ $sort: { _id: 1 } }, { $addFields: { now: '$$NOW' } }])
        .toArray(),
    );
    return records.map((record) => ({
      name: record._id,
      holder: record.holder ?? null,
      token: toBigInt(record.token),
      expiresAtMs: record.expiresAt.getTime(),
      nowMs: record.now.getTime(),
    }));
  }

  async freeAllLeases(): Promise<void> {
    await this.guard('write', () => this.leases().updateMany({}, { $set: { holder: null, expiresAt: new Date(0) } }));
  }

  /**
   * Unordered: the writes are independent (one per document). Two processes upserting the same new id
   * can race to insert it; the loser gets a duplicate-key error, and running its write again, now against
   * the winner's document, compares positions as intended. Inside a transaction an error aborts the
   * transaction instead, and withTransaction runs the whole batch again.
   */
  private async bulkUpsert(
    target: Collection<StoredRecord>,
    operations: AnyBulkWriteOperation<StoredRecord>[],
    session?: ClientSession,
  ): Promise<void> {
    try {
      await target.bulkWrite(operations, { ordered: false, ...(session ? { session } : {}) });
    } catch (error) {
      if (session || !(error instanceof MongoBulkWriteError)) throw error;
      const failed: readonly { code: unknown; index: number }[] = Array.isArray(error.writeErrors)
        ? error.writeErrors
        : [error.writeErrors];
      if (failed.length === 0 || failed.some((writeError) => writeError.code !== DUPLICATE_KEY)) throw error;
      await target.bulkWrite(
        failed.map((writeError) => operations[writeError.index]!),
        { ordered: false },
      );
    }
  }

  /**
   * Staging only (ReadModelStaging): documents without a checkpoint. Write-once documents are inserted,
   * so one written twice fails on its _id.
   */
  async writeDocuments(writes: readonly DocumentWrite[]): Promise<void> {
    this.assertStaging('writeDocuments');
    if (writes.length > MAX_STAGED_WRITES_PER_CALL)
      throw new InvalidQueryError(`a staged write carries at most ${MAX_STAGED_WRITES_PER_CALL} documents`);
    const operationsByCollection = new Map<string, AnyBulkWriteOperation<StoredRecord>[]>();
    const add = (write: DocumentWrite, operation: AnyBulkWriteOperation<StoredRecord>) => {
      const operations = operationsByCollection.get(write.collection) ?? [];
      operations.push(operation);
      operationsByCollection.set(write.collection, operations);
    };
    const replaceable: DocumentWrite[] = [];
    for (const write of writes) {
      this.collectionFor(write.collection);
      if (write.data !== null) assertStorable(write.collection, write.id, write.data);
      // Every write-once write is an insert, two of one id in the same call included: the second fails.
      if (this.specs.get(write.collection)!.writeOnce)
        add(write, { insertOne: { document: recordOf(write) as StoredRecord } });
      else replaceable.push(write);
    }
    for (const write of winningWrites(replaceable)) add(write, guardedUpsert(write));
    await this.guard('write', async () => {
      for (const [collection, operations] of operationsByCollection) {
        await durableCollection<StoredRecord>(this.db, this.physical(collection)).bulkWrite(operations, {
          ordered: false,
        });
      }
    });
  }

  /** Staging only (ReadModelStaging): the collections' indexes, then the checkpoint. */
  async completeProjection(
    projection: string,
    collections: readonly string[],
    checkpoint: bigint | 'start',
  ): Promise<void> {
    this.assertStaging('completeProjection');
    const specs = collections.map((collection) => {
      this.collectionFor(collection);
      return this.specs.get(collection)!;
    });
    await this.guard('write', async () => {
      for (const spec of specs) await this.createIndexes(spec);
      if (checkpoint !== 'start') {
        await this.checkpoints().insertOne({ _id: projection, position: Long.fromBigInt(checkpoint) });
      }
    });
  }

  /** Drops every collection of a staging area (what an interrupted rebuild left). */
  async dropStaged(prefix: string): Promise<void> {
    await this.guard('write', async () => {
      const names = await this.db
        .listCollections({ name: { $regex: `^${escapeRegex(prefix)}` } }, { nameOnly: true })
        .toArray();
      for (const { name } of names) await this.db.dropCollection(name, { writeConcern: MAJORITY_WRITE_CONCERN });
    });
  }

  /**
   * Swaps a completed staging area in, projection by projection: the live checkpoint goes first, then each
   * collection is renamed over the live one (renameCollection with dropTarget: atomic per collection), then
   * the rebuilt checkpoint is set. MongoDB cannot rename several collections at once, so between a
   * projection's first rename and its checkpoint (milliseconds) its collections may be part old, part new;
   * a crash there leaves that projection without a checkpoint: nothing claims it is up to date
   * (read-your-writes waits refuse), and the next rebuild builds it whole again. Stop every instance before
   * rebuilding, as always.
   */
  async swapInStaged(
    prefix: string,
    projections: readonly { readonly name: string; readonly collections: readonly string[] }[],
    fence?: LeaseFence,
  ): Promise<void> {
    if (this.stagingPrefix !== undefined) throw new Error('swapInStaged runs on the live store, not on a staging one');
    const staged = durableCollection<CheckpointRecord>(this.db, `${prefix}${CHECKPOINT_COLLECTION}`);
    await this.guard('write', async () => {
      // An online rebuild's switch (src/adapters/online-rebuild-area.ts) checks the projections lease
      // first: renames are not part of a transaction, so the check cannot be (see there).
      if (fence) await this.checkFence(fence);
      for (const projection of projections) {
        const rebuilt = await staged.findOne({ _id: projection.name });
        const live = fence ? await this.checkpoints().findOne({ _id: projection.name }) : null;
        // Online, the live runner has applied up to its checkpoint: a build behind it would lose events.
        if (live && (!rebuilt || toBigInt(rebuilt.position) < toBigInt(live.position)))
          throw new Error(`the build of ${projection.name} is behind the live checkpoint: not switched`);
        await this.checkpoints().deleteOne({ _id: projection.name });
        for (const collection of projection.collections) {
          await this.db.renameCollection(`${prefix}${collection}`, collection, {
            dropTarget: true,
            writeConcern: MAJORITY_WRITE_CONCERN,
          });
        }
        if (rebuilt) {
          await this.checkpoints().replaceOne(
            { _id: projection.name },
            { position: Long.fromBigInt(toBigInt(rebuilt.position)) },
            { upsert: true },
          );
        }
      }
      await this.dropStaged(`${prefix}${CHECKPOINT_COLLECTION}`);
    });
  }

  private assertStaging(method: string): void {
    if (this.stagingPrefix === undefined) throw new Error(`${method} is for a staging store (stagingPrefix)`);
  }

  /** The MongoDB collection that holds `name` here. */
  private physical(name: string): string {
    return `${this.stagingPrefix ?? ''}${name}`;
  }

  async getProjectionVersions(): Promise<Map<string, number>> {
    const records = await this.guard('read', () => this.versions().find({}).toArray());
    return new Map(records.map((record) => [record._id, Number(record.version)]));
  }

  async recordProjectionVersion(projection: string, version: number): Promise<void> {
    validateProjectionVersion(version);
    await this.guard('write', async () => {
      await this.versions().replaceOne({ _id: projection }, { version }, { upsert: true });
    });
  }

  private versions(): Collection<VersionRecord> {
    return durableCollection<VersionRecord>(this.db, this.physical(VERSION_COLLECTION));
  }

  async getCheckpoint(projection: string): Promise<bigint | 'start'> {
    const record = await this.guard('read', () => this.checkpoints().findOne({ _id: projection }));
    return record ? toBigInt(record.position) : 'start';
  }

  /**
   * Not one transaction: removing a whole collection can exceed a transaction's limits. The checkpoint goes
   * first, so an interrupted reset leaves a projection that starts over (and a rebuild re-runs the reset),
   * never one that resumes on half-deleted documents.
   */
  async resetProjection(projection: string, collections: readonly string[]): Promise<void> {
    const targets = collections.map((collection) => this.collectionFor(collection));
    await this.guard('write', async () => {
      await this.checkpoints().deleteOne({ _id: projection });
      for (const target of targets) await target.deleteMany({});
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private collectionFor(collection: string): Collection<StoredRecord> {
    if (!this.specs.has(collection)) throw new InvalidQueryError(`unknown collection: ${collection}`);
    return durableCollection<StoredRecord>(this.db, this.physical(collection));
  }

  private leases(): Collection<LeaseRecord> {
    return durableCollection<LeaseRecord>(this.db, LEASE_COLLECTION);
  }

  private checkpoints(): Collection<CheckpointRecord> {
    return durableCollection<CheckpointRecord>(this.db, this.physical(CHECKPOINT_COLLECTION));
  }

  private async createCollectionIfMissing(name: string): Promise<void> {
    try {
      await this.db.createCollection(name, { writeConcern: MAJORITY_WRITE_CONCERN });
    } catch (error) {
      // Already there (from an earlier start, or another process just now).
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
    }
  }

  /** Runs a driver call, turning its failure into the port's error for that outcome. */
  private async guard<R>(kind: 'read' | 'write', operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      throw readModelErrorOf(error, kind, this.hosts);
    }
  }
}

/** The port's error for a driver error met in a read or a write (see mongo-errors.ts). */
export function readModelErrorOf(error: unknown, kind: 'read' | 'write', hosts: string): unknown {
  const outcome = classifyMongoError(error, kind);
  if (outcome === undefined) return error;
  const message = `MongoDB at ${hosts} ${describeOutcome(outcome)}: ${messageOf(error)}`;
  switch (outcome) {
    case 'refused':
      return new ReadModelStoreRefusedError(message, { cause: error });
    case 'unavailable':
      return new ReadModelStoreUnavailableError(message, { cause: error });
    case 'unknown':
      return new ReadModelWriteUnknownError(message, { cause: error });
  }
}

/**
 * The write that a sequence of guarded writes leaves standing for each document: the first write with the
 * highest position (a later write at an equal position is not above it). Deciding this here makes an
 * unordered bulk write give the same result as applying `writes` in order.
 */
function winningWrites(writes: readonly DocumentWrite[]): DocumentWrite[] {
  const winners = new Map<string, DocumentWrite>();
  for (const write of writes) {
    const key = `${write.collection}\u0000${write.id}`;
    const current = winners.get(key);
    if (!current || write.position > current.position) winners.set(key, write);
  }
  return [...winners.values()];
}

/**
 * Replaces the document only when the write's position is above the stored one; a tombstone (data null)
 * keeps just the position. The condition is evaluated by the server in one update, so it holds under
 * concurrent writers, and filtering on `_id` alone means it never collides with an existing document.
 */
function guardedUpsert(write: DocumentWrite): AnyBulkWriteOperation<StoredRecord> {
  const position = Long.fromBigInt(write.position);
  const replacement = recordOf(write);
  return {
    updateOne: {
      filter: { _id: write.id },
      update: [
        {
          $replaceWith: {
            $cond: {
              // A missing _position (a new document) compares as null, below every number.
              if: { $lt: [{ $ifNull: ['$_position', null] }, position] },
              // $literal: data values such as "$x" are strings, not field paths or operators.
              then: { $literal: replacement },
              else: '$$ROOT',
            },
          },
        },
      ],
      upsert: true,
    },
  };
}

/** A write as stored: a tombstone keeps just the position. */
function recordOf(write: DocumentWrite): Document {
  const position = Long.fromBigInt(write.position);
  return write.data === null
    ? { _id: write.id, _position: position, _deleted: true }
    : { _id: write.id, _position: position, ...write.data };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Documents past the cursor in sort order (field, then _id). MongoDB sorts a missing or null field below
 * every value, and a range operator only matches values of its own type, so null is handled apart.
 */
function afterCursor(
  field: string,
  cursor: { orderValue: IndexValue | null; id: string },
  descending: boolean,
): Filter<StoredRecord> {
  const beyond = descending ? '$lt' : '$gt';
  if (field === '_id') return { _id: { [beyond]: cursor.id } };
  if (cursor.orderValue === null) {
    const sameValue = { [field]: null, _id: { [beyond]: cursor.id } };
    // Ascending, every non-null value comes after the nulls; descending, nothing but nulls does.
    return descending ? sameValue : { $or: [sameValue, { [field]: { $ne: null } }] };
  }
  const clauses: Filter<StoredRecord>[] = [
    { [field]: { [beyond]: cursor.orderValue } },
    { [field]: cursor.orderValue, _id: { [beyond]: cursor.id } },
  ];
  if (descending) clauses.push({ [field]: null });
  return { $or: clauses };
}

/** The port's `id` is MongoDB's `_id`; every other name is a top-level data field. */
function fieldPath(name: string): string {
  return name === 'id' ? '_id' : name;
}

function orderValueOf(value: unknown): IndexValue | null {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

function assertStorable(collection: string, id: string, data: JsonObject): void {
  for (const field of Object.keys(data)) {
    if (RESERVED_FIELDS.has(field) || field.startsWith('$')) {
      throw new InvalidQueryError(`${collection}/${id}: field ${field} is reserved by the MongoDB read-model store`);
    }
  }
}

function toStoredDocument<T extends JsonObject>(record: StoredRecord): StoredDocument<T> {
  const { _id, _position, _deleted, ...data } = record;
  return { id: _id, position: toBigInt(_position), data: data as T };
}

function toGrant(record: LeaseRecord): LeaseGrant {
  if (record.holder === null) throw new Error(`lease ${record._id} came back without a holder`);
  return {
    name: record._id,
    holder: record.holder,
    token: toBigInt(record.token),
    expiresAtMs: record.expiresAt.getTime(),
  };
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (Long.isLong(value)) return value.toBigInt();
  throw new Error(`stored position is not an integer: ${String(value)}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The hosts of a mongodb:// or mongodb+srv:// URL, without credentials. */
function hostsOf(url: string): string {
  return /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url)?.[1] || 'an unparseable URL';
}

/** The database named in the URL's path, if any. */
function databaseNameOf(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/i.exec(url)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}

/** Removes the URL's password from a message, should a driver message ever quote it. */
function redact(message: string, url: string): string {
  const password = /^mongodb(?:\+srv)?:\/\/[^:@/]*:([^@/]*)@/i.exec(url)?.[1];
  if (!password) return message;
  return message.split(password).join('***').split(decodeURIComponentSafe(password)).join('***');
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

import type Database from 'better-sqlite3';
import type { JsonObject, JsonValue } from '../../domain/shared/json.js';
import {
  InvalidQueryError,
  LeaseLostError,
  MAX_WRITES_PER_BATCH,
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
import { copyAttachedTables, withAttached } from './bulk-swap.js';
import { openSqliteDatabase } from './open-database.js';

export interface SqliteReadModelStoreOptions {
  /**
   * Bulk mode, for `ledger rebuild` building a new file that nothing else opens until it is complete
   * (src/ports/read-model-staging.ts): one connection holding the file exclusively, no journal and no
   * flush to disk (a crash leaves a file the next rebuild deletes; the rebuild flushes the finished file
   * itself), the indexes a build does not need deferred to `completeProjection`, write-once documents
   * inserted. Pages are written once, into the file, not into a WAL and then again into the file.
   */
  readonly bulk?: boolean;
}

/**
 * Bulk mode's page cache (KiB). A build appends, and reads back little: on the 1,000,000-event benchmark
 * 2 MiB was as fast as 8 (index builds sort in temporary files either way) and left the memory to the
 * workers' heaps.
 */
const BULK_CACHE_KIB = 2 * 1024;

interface DocumentRow {
  id: string;
  position: bigint;
  doc: string | null;
  order_value?: IndexValue | null;
}

/**
 * The embedded read-model store: a SQLite file beside the event store's. One table per collection
 * (`rm_<name>`: id, position, doc JSON, and a column per declared field holding the field's value, filled
 * at write time) with a unique index on id, an index per declared field's column, and a checkpoint table.
 * Tables made before the unique id index (WITHOUT ROWID, id the primary key) are served by the same
 * statements; a rebuild writes the current layout.
 *
 * Why columns, not `json_extract(doc, ...)` expression indexes: those evaluate json_extract on the whole
 * document for every index on every write (sixteen for an operation) and for every row when a rebuild
 * creates them (measured on the 1,000,000-event benchmark: the operations indexes in 5.9 s of CPU from
 * columns against 8.7 s). A table from before the columns gets them on opening (fieldColumns: added,
 * filled from the documents with json_extract, indexed, the expression index dropped), in one transaction.
 */
export class SqliteReadModelStore implements ReadModelStore, ReadModelStaging {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly bulk: boolean;
  private readonly specs = new Map<string, CollectionSpec>();
  private readonly upserts = new Map<string, Database.Statement>();
  /** Bulk mode: write-once collections' plain inserts. */
  private readonly inserts = new Map<string, Database.Statement>();
  /** Bulk mode: index statements deferred to completeProjection, by collection. */
  private readonly deferredIndexes = new Map<string, string[]>();
  /** Prepared statements by SQL text: queries repeat (a handful of shapes per collection). */
  private readonly prepared = new Map<string, Database.Statement>();
  private leasesTableReady = false;
  private versionsTableReady = false;

  constructor(filePath: string, options: SqliteReadModelStoreOptions = {}) {
    this.db = openSqliteDatabase(filePath);
    this.bulk = options.bulk ?? false;
    if (this.bulk) {
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = OFF');
      this.db.pragma('synchronous = OFF');
      this.db.pragma(`cache_size = -${BULK_CACHE_KIB}`);
    } else {
      // Read models are derived: after an operating-system crash a lost last batch is re-applied from the
      // checkpoint (which was lost with it), so no flush per batch is needed. The event store keeps FULL.
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.exec(`CREATE TABLE IF NOT EXISTS rm_checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL)`);
  }

  async ensureCollections(specs: readonly CollectionSpec[]): Promise<void> {
    for (const spec of specs) {
      validateCollectionSpec(spec);
      const lowerCased = new Set<string>();
      for (const field of spec.indexes) {
        // SQLite's column names ignore case: two fields differing only in case cannot both have one.
        if (lowerCased.has(field.toLowerCase()))
          throw new InvalidQueryError(`index fields of ${spec.name} differ only in case: ${field}`);
        lowerCased.add(field.toLowerCase());
      }
      const table = readModelTable(spec.name);
      // One transaction: another process creating the same table meanwhile sees all of it or none.
      this.db
        .transaction(() => {
          const exists = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
          if (!exists) {
            // Rows in the order written (write-once documents arrive in log order, so a build appends), id
            // unique beside them. In bulk mode a write-once collection is never read back during the build,
            // so its id index can wait; the others' is needed to read back and replace documents. The field
            // columns have no declared type: each value keeps the type json_extract gives it.
            const columns = spec.indexes.map((field) => `, ${fieldColumn(field)}`).join('');
            this.db.exec(`CREATE TABLE ${table} (id TEXT NOT NULL, position INTEGER NOT NULL, doc TEXT${columns})`);
            const idIndex = `CREATE UNIQUE INDEX ${table}___id ON ${table} (id)`;
            if (this.bulk && spec.writeOnce) this.defer(spec.name, idIndex);
            else this.db.exec(idIndex);
          } else {
            this.addFieldColumns(table, spec.indexes);
          }
          for (const field of spec.indexes) {
            // One index per field: the plain one, or the one carrying the documents (it serves every query
            // the plain one did), the other dropped when the spec changed.
            const withDocuments = spec.documentIndexes?.includes(field) ?? false;
            const [index, other] = withDocuments
              ? [documentIndex(table, field), fieldIndex(table, field)]
              : [fieldIndex(table, field), documentIndex(table, field)];
            const columns = withDocuments ? `${fieldColumn(field)}, id, position, doc` : `${fieldColumn(field)}, id`;
            const create = `CREATE INDEX IF NOT EXISTS ${index} ON ${table} (${columns})`;
            if (this.bulk) this.defer(spec.name, create);
            else {
              this.db.exec(create);
              this.db.exec(`DROP INDEX IF EXISTS ${other}`);
            }
          }
        })
        .immediate();
      this.specs.set(spec.name, spec);
      const columns = ['id', 'position', 'doc', ...spec.indexes.map(fieldColumn)];
      const values = columns.map(() => '?').join(', ');
      if (this.bulk && spec.writeOnce) {
        // No unique id index to conflict on until completeProjection: plain inserts.
        this.inserts.set(spec.name, this.db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values})`));
      } else {
        const set = columns
          .slice(1)
          .map((column) => `${column} = excluded.${column}`)
          .join(', ');
        this.upserts.set(
          spec.name,
          this.db.prepare(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values})
             ON CONFLICT (id) DO UPDATE SET ${set}
             WHERE excluded.position > ${table}.position`,
          ),
        );
      }
    }
  }

  /**
   * A table from before the field columns, or from a spec with fewer fields: each missing column is
   * added, filled from the stored documents as the expression index read them (json_extract), and the
   * expression index replaced by the column's. Inside ensureCollections' transaction: all or nothing.
   */
  private addFieldColumns(table: string, fields: readonly string[]): void {
    const existing = new Set(
      (this.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) =>
        c.name.toLowerCase(),
      ),
    );
    for (const field of fields) {
      const column = fieldColumn(field);
      if (existing.has(column.toLowerCase())) continue;
      this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
      this.db.exec(`UPDATE ${table} SET ${column} = json_extract(doc, '$.${field}') WHERE doc IS NOT NULL`);
      this.db.exec(`DROP INDEX IF EXISTS ${table}__${field}`);
    }
  }

  /** A write's row: id, position, the document's JSON text and its declared fields' values (columnValue). */
  private rowOf(write: DocumentWrite): unknown[] {
    const row: unknown[] = [write.id, write.position, write.data === null ? null : JSON.stringify(write.data)];
    for (const field of this.specs.get(write.collection)!.indexes) row.push(columnValue(write.data?.[field]));
    return row;
  }

  private defer(collection: string, sql: string): void {
    const statements = this.deferredIndexes.get(collection) ?? [];
    if (!statements.includes(sql)) statements.push(sql);
    this.deferredIndexes.set(collection, statements);
  }

  /** A prepared statement for `sql`, prepared once; the bound only guards against unbounded shapes. */
  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql).safeIntegers(true);
      if (this.prepared.size < MAX_PREPARED_STATEMENTS) this.prepared.set(sql, statement);
    }
    return statement;
  }

  private tableFor(collection: string): string {
    if (!this.specs.has(collection)) throw new InvalidQueryError(`unknown collection: ${collection}`);
    return readModelTable(collection);
  }

  async get<T extends JsonObject = JsonObject>(collection: string, id: string): Promise<StoredDocument<T> | null> {
    const row = this.statement(`SELECT id, position, doc FROM ${this.tableFor(collection)} WHERE id = ?`).get(id) as
      DocumentRow | undefined;
    return row && row.doc !== null ? toDocument<T>(row) : null;
  }

  async getMany<T extends JsonObject = JsonObject>(
    collection: string,
    ids: readonly string[],
  ): Promise<Map<string, StoredDocument<T>>> {
    const found = new Map<string, StoredDocument<T>>();
    const table = this.tableFor(collection);
    const chunkSize = 500; // SQLite's bound-parameter limit is far above this; keeps statements small.
    for (let i = 0; i < ids.length; i += chunkSize) {
      const chunk = ids.slice(i, i + chunkSize);
      const rows = this.statement(
        `SELECT id, position, doc FROM ${table} WHERE id IN (${chunk.map(() => '?').join(', ')})`,
      ).all(...chunk) as DocumentRow[];
      for (const row of rows) if (row.doc !== null) found.set(row.id, toDocument<T>(row));
    }
    return found;
  }

  async find<T extends JsonObject = JsonObject>(collection: string, query: FindQuery): Promise<FindPage<T>> {
    validateFindQuery(this.specs.get(collection), collection, query);
    const table = this.tableFor(collection);
    const field = (name: string): string => (name === 'id' ? 'id' : fieldColumn(name));
    const where: string[] = ['doc IS NOT NULL'];
    const params: Array<IndexValue | null> = [];
    for (const [name, value] of Object.entries(query.where ?? {})) {
      where.push(`${field(name)} = ?`);
      params.push(sqlValue(value));
    }
    if (query.range?.gte !== undefined) {
      where.push(`${field(query.range.field)} >= ?`);
      params.push(sqlValue(query.range.gte));
    }
    if (query.range?.lt !== undefined) {
      where.push(`${field(query.range.field)} < ?`);
      params.push(sqlValue(query.range.lt));
    }
    const orderBy = query.orderBy ?? 'id';
    const desc = query.direction === 'desc';
    if (query.after !== undefined) {
      const cursor = decodeCursor(query.after);
      where.push(orderBy === 'id' ? `id ${desc ? '<' : '>'} ?` : `(${field(orderBy)}, id) ${desc ? '<' : '>'} (?, ?)`);
      if (orderBy !== 'id') params.push(sqlValue(cursor.orderValue));
      params.push(cursor.id);
    }
    const direction = desc ? 'DESC' : 'ASC';
    const rows = this.statement(
      `SELECT id, position, doc, ${field(orderBy)} AS order_value FROM ${table} WHERE ${where.join(' AND ')}
         ORDER BY ${orderBy === 'id' ? `id ${direction}` : `${field(orderBy)} ${direction}, id ${direction}`} LIMIT ?`,
    ).all(...params, query.limit + 1) as DocumentRow[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > query.limit && last
        ? encodeCursor(orderBy === 'id' ? last.id : fromSqlValue(last.order_value ?? null), last.id)
        : null;
    return { items: page.map((row) => toDocument<T>(row)), nextCursor };
  }

  async applyBatch(
    projection: string,
    writes: readonly DocumentWrite[],
    checkpoint: bigint,
    fence?: LeaseFence,
  ): Promise<void> {
    if (this.bulk) throw new Error('a store in bulk mode is a staging area: writeDocuments, then completeProjection');
    if (writes.length > MAX_WRITES_PER_BATCH)
      throw new InvalidQueryError(`a batch carries at most ${MAX_WRITES_PER_BATCH} writes`);
    for (const write of writes) this.tableFor(write.collection);
    // Immediate: the write lock is taken before the fence is read, so no takeover commits in between.
    this.db
      .transaction(() => {
        if (fence) this.checkFence(fence);
        for (const write of writes) this.upserts.get(write.collection)!.run(this.rowOf(write));
        this.statement(
          `INSERT INTO rm_checkpoints (projection, position) VALUES (?, ?)
         ON CONFLICT (projection) DO UPDATE SET position = max(position, excluded.position)`,
        ).run(projection, checkpoint);
      })
      .immediate();
  }

  /**
   * Made on first use, not when the file is opened: a file no lease was ever taken in (a rebuild's staging
   * file) has no lease table, and the one a live file has is carried over as any other table.
   */
  private ensureLeasesTable(): void {
    if (this.leasesTableReady) return;
    this.db.exec(LEASES_TABLE_SQL);
    this.leasesTableReady = true;
  }

  /** Inside a write transaction: throws LeaseLostError unless `fence` is the lease's current holding. */
  private checkFence(fence: LeaseFence): void {
    this.ensureLeasesTable();
    const row = this.statement(`SELECT holder, token FROM rm__leases WHERE name = ?`).get(fence.lease) as
      { holder: string | null; token: bigint } | undefined;
    if (!row || row.holder === null || row.token !== fence.token) throw new LeaseLostError(fence, row?.token ?? null);
  }

  /**
   * Leases are judged by the store's clock: SQLite's `now`, the clock of the one host whose processes
   * share this file, read inside the write transaction, so every instance judges expiry by the same clock.
   */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseGrant | null> {
    validateLeaseTtl(ttlMs);
    this.ensureLeasesTable();
    return this.db
      .transaction((): LeaseGrant | null => {
        const nowMs = this.storeNowMs();
        const row = this.statement(`SELECT holder, token, expires_at_ms FROM rm__leases WHERE name = ?`).get(name) as
          LeaseRow | undefined;
        if (row && row.holder !== null && row.holder !== holder && Number(row.expires_at_ms) > nowMs) return null;
        const token = (row?.token ?? 0n) + 1n;
        const expiresAtMs = nowMs + ttlMs;
        this.statement(
          `INSERT INTO rm__leases (name, holder, token, expires_at_ms) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
             expires_at_ms = excluded.expires_at_ms`,
        ).run(name, holder, token, expiresAtMs);
        return { name, holder, token, expiresAtMs };
      })
      .immediate();
  }

  async renewLease(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | null> {
    validateLeaseTtl(ttlMs);
    this.ensureLeasesTable();
    return this.db
      .transaction((): LeaseGrant | null => {
        const expiresAtMs = this.storeNowMs() + ttlMs;
        const renewed = this.statement(
          `UPDATE rm__leases SET expires_at_ms = ? WHERE name = ? AND holder = ? AND token = ?`,
        ).run(expiresAtMs, grant.name, grant.holder, grant.token);
        return renewed.changes === 1 ? { ...grant, expiresAtMs } : null;
      })
      .immediate();
  }

  async releaseLease(grant: LeaseGrant): Promise<void> {
    this.ensureLeasesTable();
    this.statement(
      `UPDATE rm__leases SET holder = NULL, expires_at_ms = 0 WHERE name = ? AND holder = ? AND token = ?`,
    ).run(grant.name, grant.holder, grant.token);
  }

  async listLeases(): Promise<LeaseState[]> {
    this.ensureLeasesTable();
    const nowMs = this.storeNowMs();
    const rows = this.statement(
      `SELECT name, holder, token, expires_at_ms FROM rm__leases ORDER BY name`,
    ).all() as (LeaseRow & { name: string })[];
    return rows.map((row) => ({
      name: row.name,
      holder: row.holder,
      token: row.token,
      expiresAtMs: Number(row.expires_at_ms),
      nowMs,
    }));
  }

  async freeAllLeases(): Promise<void> {
    this.ensureLeasesTable();
    this.statement(`UPDATE rm__leases SET holder = NULL, expires_at_ms = 0`).run();
  }

  /** The store's clock, ms since the epoch (the Julian day of 1970-01-01 is 2440587.5). */
  private storeNowMs(): number {
    const row = this.statement(`SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS now_ms`).get() as {
      now_ms: bigint;
    };
    return Number(row.now_ms);
  }

  /** Bulk mode (ReadModelStaging): documents without a checkpoint, write-once ones inserted. */
  async writeDocuments(writes: readonly DocumentWrite[]): Promise<void> {
    if (!this.bulk) throw new Error('writeDocuments is for a store opened in bulk mode; use applyBatch');
    if (writes.length > MAX_STAGED_WRITES_PER_CALL)
      throw new InvalidQueryError(`a staged write carries at most ${MAX_STAGED_WRITES_PER_CALL} documents`);
    for (const write of writes) this.tableFor(write.collection);
    this.db.transaction(() => {
      for (const write of writes) {
        (this.inserts.get(write.collection) ?? this.upserts.get(write.collection)!).run(this.rowOf(write));
      }
    })();
  }

  /**
   * Bulk mode (ReadModelStaging): the deferred indexes of `collections`, then the checkpoint. A
   * write-once document written twice fails here, on its unique id index.
   */
  async completeProjection(
    projection: string,
    collections: readonly string[],
    checkpoint: bigint | 'start',
  ): Promise<void> {
    if (!this.bulk) throw new Error('completeProjection is for a store opened in bulk mode');
    for (const collection of collections) {
      this.tableFor(collection);
      for (const sql of this.deferredIndexes.get(collection) ?? []) this.db.exec(sql);
      this.deferredIndexes.delete(collection);
    }
    if (checkpoint !== 'start') {
      this.statement(`INSERT INTO rm_checkpoints (projection, position) VALUES (?, ?)`).run(projection, checkpoint);
    }
  }

  async getCheckpoint(projection: string): Promise<bigint | 'start'> {
    const row = this.statement(`SELECT position FROM rm_checkpoints WHERE projection = ?`).get(projection) as
      { position: bigint } | undefined;
    return row ? row.position : 'start';
  }

  async getProjectionVersions(): Promise<Map<string, number>> {
    this.ensureVersionsTable();
    const rows = this.statement(`SELECT projection, version FROM rm__versions`).all() as {
      projection: string;
      version: bigint;
    }[];
    return new Map(rows.map((row) => [row.projection, Number(row.version)]));
  }

  async recordProjectionVersion(projection: string, version: number): Promise<void> {
    validateProjectionVersion(version);
    this.ensureVersionsTable();
    this.statement(
      `INSERT INTO rm__versions (projection, version) VALUES (?, ?)
       ON CONFLICT (projection) DO UPDATE SET version = excluded.version`,
    ).run(projection, version);
  }

  /** Made on first use, as the leases table: a bulk staging file never has one. */
  private ensureVersionsTable(): void {
    if (this.versionsTableReady) return;
    this.db.exec(VERSIONS_TABLE_SQL);
    this.versionsTableReady = true;
  }

  /**
   * An online rebuild's switch (src/adapters/online-rebuild-area.ts): `projection`'s tables and
   * checkpoint replaced by those of its completed build in the database file `buildFile`, and its version
   * recorded, in one write transaction. Readers on other connections see the old tables whole until it
   * commits and the new ones whole after (WAL: each read runs on one snapshot), so no query meets a
   * half-built model. The tables are copied with their indexes (copyAttachedTables): records as they are,
   * no index built again. Refused (nothing changed) if the fence no longer holds or the build's checkpoint
   * is behind the live one (it would lose events the live runner applied).
   */
  switchInFrom(
    buildFile: string,
    projection: { readonly name: string; readonly collections: readonly string[]; readonly version: number },
    fence?: LeaseFence,
  ): void {
    if (this.bulk) throw new Error('switchInFrom runs on the live store');
    validateProjectionVersion(projection.version);
    const tables = projection.collections.map(readModelTable);
    this.ensureVersionsTable();
    if (fence) this.ensureLeasesTable();
    withAttached(this.db, buildFile, () =>
      this.db
        .transaction(() => {
          if (fence) this.checkFence(fence);
          const built = this.db
            .prepare(`SELECT position FROM source.rm_checkpoints WHERE projection = ?`)
            .safeIntegers(true)
            .get(projection.name) as { position: bigint } | undefined;
          const live = this.statement(`SELECT position FROM rm_checkpoints WHERE projection = ?`).get(
            projection.name,
          ) as { position: bigint } | undefined;
          if (live && (!built || built.position < live.position))
            throw new Error(
              `the build of ${projection.name} (checkpoint ${built?.position ?? 'none'}) is behind the live one (${live.position}): not switched`,
            );
          for (const table of tables) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
          copyAttachedTables(this.db, (table) => tables.includes(table));
          this.db.prepare(`DELETE FROM rm_checkpoints WHERE projection = ?`).run(projection.name);
          if (built)
            this.db
              .prepare(`INSERT INTO rm_checkpoints (projection, position) VALUES (?, ?)`)
              .run(projection.name, built.position);
          this.statement(
            `INSERT INTO rm__versions (projection, version) VALUES (?, ?)
             ON CONFLICT (projection) DO UPDATE SET version = excluded.version`,
          ).run(projection.name, projection.version);
        })
        .immediate(),
    );
  }

  async resetProjection(projection: string, collections: readonly string[]): Promise<void> {
    const tables = collections.map((c) => this.tableFor(c));
    this.db.transaction(() => {
      for (const table of tables) this.db.exec(`DELETE FROM ${table}`);
      this.db.prepare(`DELETE FROM rm_checkpoints WHERE projection = ?`).run(projection);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

const MAX_PREPARED_STATEMENTS = 2_048;

/** A declared field's column (`f_<field>`: never id, position or doc). */
function fieldColumn(field: string): string {
  return `f_${field}`;
}

/** The index on a field's column (the expression indexes it replaces were `<table>__<field>`). */
function fieldIndex(table: string, field: string): string {
  return `${table}__f_${field}`;
}

/** The index on a field's column that also holds each document's id, position and text (documentIndexes). */
function documentIndex(table: string, field: string): string {
  return `${table}__d_${field}`;
}

/**
 * A field's value as json_extract would give it, so the columns hold what the expression indexes did:
 * booleans as 1/0, absent and null as NULL, objects and arrays as their JSON text.
 */
function columnValue(value: JsonValue | undefined): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' || typeof value === 'number') return value;
  return JSON.stringify(value);
}

/**
 * Named leases (src/ports/read-model-store.ts): a released lease keeps its row, so tokens only grow. Two
 * underscores: no collection's table (`rm_` and a name starting with a letter) can take this name.
 */
const LEASES_TABLE_SQL = `CREATE TABLE IF NOT EXISTS rm__leases (
  name TEXT PRIMARY KEY, holder TEXT, token INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL)`;

/** The version each projection's documents were built with (Projection.version). */
const VERSIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS rm__versions (projection TEXT PRIMARY KEY, version INTEGER NOT NULL)`;

interface LeaseRow {
  holder: string | null;
  token: bigint;
  expires_at_ms: bigint;
}

/** The table a collection's documents live in. */
export function readModelTable(collection: string): string {
  return `rm_${collection}`;
}

/** SQLite has no boolean: json_extract yields 1/0 for true/false, so compare against those. */
function sqlValue(value: IndexValue | null): IndexValue | null {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

function fromSqlValue(value: IndexValue | bigint | null): IndexValue | null {
  return typeof value === 'bigint' ? Number(value) : value;
}

function toDocument<T extends JsonObject>(row: DocumentRow): StoredDocument<T> {
  return { id: row.id, position: row.position, data: JSON.parse(row.doc!) as T };
}

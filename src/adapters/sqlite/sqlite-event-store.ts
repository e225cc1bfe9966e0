import type Database from 'better-sqlite3';
import { canonicalJson } from '../../domain/audit/canonical-json.js';
import { GENESIS_HASH, chainHashOfCanonical } from '../../domain/audit/hash-chain.js';
import type { JsonObject } from '../../domain/shared/json.js';
import { NonceRegistryUnavailableError } from '../../ports/nonce-registry.js';
import {
  AppendOutcomeUnknownError,
  EventStoreUnavailableError,
  InvalidEventError,
  MAX_READ_ALL_PAGE,
  WrongExpectedRevisionError,
  validateAppend,
  validateMultiAppend,
  type AllSubscription,
  type AppendResult,
  type EventFilter,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type SubscribeOptions,
} from '../../ports/event-store.js';
import { CLAIM_NONCE_SQL, NONCES_SCHEMA, PURGE_NONCES_SQL } from './nonces-table.js';
import { openSqliteDatabase } from './open-database.js';
import { describeSqliteFault, sqliteStorageFaultOf } from './sqlite-faults.js';

export interface SqliteEventStoreOptions {
  /** Most appends committed by one transaction (one fsync). */
  readonly maxAppendsPerCommit?: number;
  /** How often a live subscription looks for events appended by other processes. */
  readonly livePollIntervalMs?: number;
  /** Events fetched per query while a subscription catches up. */
  readonly subscriptionPageSize?: number;
}

interface EventRow {
  position: bigint;
  stream_id: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  prev_hash: string;
  hash: string;
}

/** One caller's append (one stream, or several at once): committed in its own savepoint, all or nothing. */
interface PendingAppend {
  readonly appends: readonly StreamAppend[];
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

/** A nonce claim waiting for the next group commit (see `claimNonce`). */
interface PendingNonce {
  readonly keyId: string;
  readonly nonce: string;
  readonly expiresAtMs: number;
  readonly resolve: (fresh: boolean) => void;
  readonly reject: (error: unknown) => void;
}

const STREAM_PAGE_SIZE = 1_000;
/** Most nonce claims one commit takes (each a one-row insert). */
const MAX_NONCES_PER_COMMIT = 4_096;
const WAL_AUTOCHECKPOINT_PAGES = 10_000;
const MAX_CACHED_FILTER_SHAPES = 64;
/** Streams whose head this connection remembers (see `knownHeads`); beyond it, all are forgotten. */
const MAX_KNOWN_HEADS = 200_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position   INTEGER PRIMARY KEY AUTOINCREMENT,
  stream_id  TEXT    NOT NULL,
  revision   INTEGER NOT NULL,
  event_id   TEXT    NOT NULL UNIQUE,
  type       TEXT    NOT NULL,
  data       TEXT    NOT NULL,
  metadata   TEXT    NOT NULL,
  prev_hash  TEXT    NOT NULL,
  hash       TEXT    NOT NULL,
  UNIQUE (stream_id, revision)
);
CREATE TRIGGER IF NOT EXISTS events_are_immutable_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: no update'); END;
CREATE TRIGGER IF NOT EXISTS events_are_immutable_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: no delete'); END;
${NONCES_SCHEMA}`;

/**
 * The embedded event store: one SQLite file, WAL, synchronous=FULL.
 *
 * Group commit: appends arriving while the previous commit runs are queued and committed together in one
 * transaction (one fsync), each checked against its own expected revision inside a savepoint, so one
 * caller's conflict never fails another's append. A caller's promise resolves only after the commit. A
 * multi-stream append (`appendToStreams`) is one such savepoint over all its streams.
 *
 * Several processes may share the file: each commit takes SQLite's write lock (BEGIN IMMEDIATE) and
 * checks revisions inside it, and live subscriptions poll for positions written by other processes.
 *
 * A read of a stream from past its head is answered without a query while this connection knows the head:
 * it remembers the last revision of the streams it appended to or read to the end, and forgets all of it
 * as soon as `PRAGMA data_version` says another connection (another process) committed. A command on a
 * cached stream thus checks for newer events with one pragma instead of a query.
 */
export class SqliteEventStore implements EventStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly maxAppendsPerCommit: number;
  private readonly livePollIntervalMs: number;
  private readonly subscriptionPageSize: number;
  private readonly pending: PendingAppend[] = [];
  private readonly pendingNonces: PendingNonce[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly liveWaiters = new Set<() => void>();
  private readonly statements;
  /** The per-append savepoint, built once: better-sqlite3 runs a nested transaction as a SAVEPOINT. */
  private readonly appendInSavepoint: (append: PendingAppend) => AppendResult[];
  /**
   * Per stream, a revision its head is known not to be past (exact after an append or a read to the end),
   * valid while `PRAGMA data_version` still reads `knownHeadsVersion`: that value changes when another
   * connection commits, never for this connection's own commits.
   */
  private readonly knownHeads = new Map<string, bigint>();
  private knownHeadsVersion: number | undefined;
  private readonly dataVersion: Database.Statement;
  /** Global-log queries by filter shape: each shape is prepared once. */
  private readonly readAllStatements = new Map<string, Database.Statement>();

  constructor(filePath: string, options: SqliteEventStoreOptions = {}) {
    this.maxAppendsPerCommit = options.maxAppendsPerCommit ?? 512;
    this.livePollIntervalMs = options.livePollIntervalMs ?? 50;
    this.subscriptionPageSize = options.subscriptionPageSize ?? 500;
    this.db = openSqliteDatabase(filePath);
    // Appends insert random ids all over the indexes; checkpointing the WAL into the database every
    // 1,000 pages (SQLite's default) copied the same hot pages again and again. 10,000 pages (~40 MiB of
    // WAL) measured +25% appends/s; the checkpoint still runs, less often.
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.db.exec(SCHEMA);
    const columns = 'position, stream_id, revision, event_id, type, data, metadata, prev_hash, hash';
    this.statements = {
      head: this.db
        .prepare(`SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1`)
        .safeIntegers(true),
      byEventId: this.db.prepare(`SELECT stream_id, revision FROM events WHERE event_id = ?`).safeIntegers(true),
      eventIdsFrom: this.db
        .prepare(
          `SELECT event_id, position FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`,
        )
        .safeIntegers(true),
      insert: this.db.prepare(
        `INSERT INTO events (stream_id, revision, event_id, type, data, metadata, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      forwards: this.db
        .prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`)
        .safeIntegers(true),
      backwards: this.db
        .prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`)
        .safeIntegers(true),
      maxPosition: this.db.prepare(`SELECT max(position) AS position FROM events`).safeIntegers(true),
      columns,
      claimNonce: this.db.prepare<[string, string, number]>(CLAIM_NONCE_SQL),
      purgeNonces: this.db.prepare<[number, number]>(PURGE_NONCES_SQL),
    };
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.appendInSavepoint = this.db.transaction((append: PendingAppend) =>
      append.appends.map((a) => this.applyAppend(a)),
    );
  }

  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    try {
      validateAppend(streamId, events, expectedRevision);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.enqueue([{ streamId, events, expectedRevision }]).then((results) => results[0]!);
  }

  /**
   * Several streams in one savepoint of the group commit: a part refused rolls back every part, and the
   * commit that carries it is the same single fsync as the appends beside it.
   */
  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    try {
      validateMultiAppend(appends);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.enqueue(appends);
  }

  private enqueue(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.pending.push({ appends, resolve, reject });
      this.scheduleFlush(this.pending.length >= this.maxAppendsPerCommit);
    });
  }

  /**
   * Claims a signed request's nonce in the next group commit (the nonces table of this file): true when
   * it was not held yet. Answered after that commit, so a claimed nonce is on disk (synchronous=FULL)
   * before the request it authorises runs, without a commit of its own: it shares the fsync of the
   * appends beside it. The primary key makes a second claim, by any process, a no-op that answers false.
   */
  claimNonce(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return new Promise<boolean>((resolve, reject) => {
      this.pendingNonces.push({ keyId, nonce, expiresAtMs: expiresAt.getTime(), resolve, reject });
      this.scheduleFlush(this.pendingNonces.length >= MAX_NONCES_PER_COMMIT);
    });
  }

  /** Removes at most `maxRows` nonces that expired at or before `now`. */
  purgeExpiredNonces(now: Date, maxRows: number): number {
    return this.statements.purgeNonces.run(now.getTime(), maxRows).changes;
  }

  private scheduleFlush(now: boolean): void {
    if (now) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate, not a microtask: appends from every request parsed in this turn of the event
      // loop join the same commit.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.pending.length > 0 || this.pendingNonces.length > 0) {
      const batch = this.pending.splice(0, this.maxAppendsPerCommit);
      const nonces = this.pendingNonces.splice(0, MAX_NONCES_PER_COMMIT);
      const outcomes: Array<{ ok: true; results: AppendResult[] } | { ok: false; error: unknown }> = [];
      const fresh: boolean[] = [];
      try {
        this.db
          .transaction(() => {
            // Under the write lock: what others committed before it is seen here, and nobody commits now.
            this.checkKnownHeads();
            for (const n of nonces)
              fresh.push(this.statements.claimNonce.run(n.keyId, n.nonce, n.expiresAtMs).changes === 1);
            for (const append of batch) {
              try {
                // A nested transaction is a savepoint: a refused append leaves no partial rows.
                const results = this.appendInSavepoint(append);
                // If the commit then fails, the head stays below this: still a bound it is not past.
                append.appends.forEach((a, i) => this.knowHead(a.streamId, results[i]!.nextExpectedRevision));
                outcomes.push({ ok: true, results });
              } catch (error) {
                // A storage fault (SQLITE_FULL, SQLITE_IOERR) may roll back the whole transaction, not just
                // the savepoint: the batch is lost, and the next append must not run on its own (autocommit),
                // which would write it while its caller is told the commit failed. Fail the batch whole.
                if (!this.db.inTransaction || sqliteStorageFaultOf(error) !== undefined) throw error;
                outcomes.push({ ok: false, error });
              }
            }
          })
          .immediate();
      } catch (error) {
        // The commit itself failed: nothing in this batch is durable, except perhaps after an I/O error.
        const { appendError, nonceError } = commitFailure(error);
        for (const append of batch) append.reject(appendError);
        for (const n of nonces) n.reject(nonceError);
        continue;
      }
      nonces.forEach((n, index) => n.resolve(fresh[index]!));
      batch.forEach((append, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) append.resolve(outcome.results);
        else append.reject(outcome.error);
      });
      if (batch.length > 0) this.wakeLiveSubscriptions();
    }
  }

  private applyAppend(append: StreamAppend): AppendResult {
    const { streamId, events, expectedRevision } = append;
    const replay = this.findIdempotentReplay(streamId, events);
    if (replay) return replay;

    const head = this.statements.head.get(streamId) as { revision: bigint; hash: string } | undefined;
    const actual: bigint | 'no_stream' = head ? head.revision : 'no_stream';
    const accepted =
      expectedRevision === 'any' ||
      (expectedRevision === 'no_stream' && head === undefined) ||
      (expectedRevision === 'stream_exists' && head !== undefined) ||
      (typeof expectedRevision === 'bigint' && head !== undefined && head.revision === expectedRevision);
    if (!accepted) throw new WrongExpectedRevisionError(streamId, expectedRevision, actual);

    let revision = head ? head.revision : -1n;
    let prevHash = head ? head.hash : GENESIS_HASH;
    let position = 0n;
    for (const event of events) {
      revision += 1n;
      // Canonical JSON is JSON: stored as it is hashed, serialised once.
      const canonicalData = canonicalJson(event.data);
      const canonicalMetadata = canonicalJson(event.metadata);
      const hash = chainHashOfCanonical(prevHash, {
        streamId,
        revision,
        eventId: event.metadata.eventId,
        type: event.type,
        canonicalData,
        canonicalMetadata,
      });
      const info = this.statements.insert.run(
        streamId,
        revision,
        event.metadata.eventId,
        event.type,
        canonicalData,
        canonicalMetadata,
        prevHash,
        hash,
      );
      position = BigInt(info.lastInsertRowid);
      prevHash = hash;
    }
    return { nextExpectedRevision: revision, position };
  }

  /**
   * EventStoreDB's idempotence: appending event ids that are already the stream's events, in the same
   * order, is a no-op that answers as the first append did. Ids used elsewhere are a conflict.
   */
  private findIdempotentReplay(streamId: string, events: readonly NewEvent[]): AppendResult | undefined {
    const first = this.statements.byEventId.get(events[0]!.metadata.eventId) as
      { stream_id: string; revision: bigint } | undefined;
    if (!first) {
      for (const event of events.slice(1)) {
        if (this.statements.byEventId.get(event.metadata.eventId)) {
          throw new InvalidEventError(`event id ${event.metadata.eventId} is already recorded`);
        }
      }
      return undefined;
    }
    if (first.stream_id !== streamId) {
      throw new InvalidEventError(`event id ${events[0]!.metadata.eventId} is already recorded in another stream`);
    }
    const stored = this.statements.eventIdsFrom.all(streamId, first.revision, events.length) as Array<{
      event_id: string;
      position: bigint;
    }>;
    const same =
      stored.length === events.length && stored.every((row, i) => row.event_id === events[i]!.metadata.eventId);
    if (!same) throw new WrongExpectedRevisionError(streamId, first.revision, first.revision);
    return {
      nextExpectedRevision: first.revision + BigInt(events.length) - 1n,
      position: stored[stored.length - 1]!.position,
    };
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    let from = options.fromRevision ?? (backwards ? BigInt(Number.MAX_SAFE_INTEGER) : 0n);
    if (!backwards) {
      this.checkKnownHeads();
      const head = this.knownHeads.get(streamId);
      if (head !== undefined && from > head) return;
    }
    while (remaining > 0) {
      const limit = Math.min(STREAM_PAGE_SIZE, remaining);
      const rows = (backwards ? this.statements.backwards : this.statements.forwards).all(
        streamId,
        from,
        limit,
      ) as EventRow[];
      if (!backwards && rows.length < limit) {
        // The end of the stream as of the version checked above (a commit since then changes the version).
        this.knowHead(streamId, rows.length > 0 ? rows[rows.length - 1]!.revision : from - 1n);
      }
      for (const row of rows) yield toRecordedEvent(row);
      remaining -= rows.length;
      if (rows.length < limit) return;
      from = backwards ? rows[rows.length - 1]!.revision - 1n : rows[rows.length - 1]!.revision + 1n;
      if (from < 0n) return;
    }
  }

  /** Forgets every known head if another connection committed since they were learnt. */
  private checkKnownHeads(): void {
    const version = this.dataVersion.get() as number;
    if (version === this.knownHeadsVersion) return;
    this.knownHeads.clear();
    this.knownHeadsVersion = version;
  }

  private knowHead(streamId: string, revision: bigint): void {
    // A bound, not a cache policy: past it, forgetting everything costs one query per stream read.
    if (this.knownHeads.size >= MAX_KNOWN_HEADS && !this.knownHeads.has(streamId)) this.knownHeads.clear();
    this.knownHeads.set(streamId, revision);
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.readAllNow(options.after, Math.min(options.maxCount, MAX_READ_ALL_PAGE), options.filter);
  }

  private readAllNow(after: bigint | 'start', maxCount: number, filter: EventFilter | undefined): RecordedEvent[] {
    const where: string[] = ['position > ?'];
    const params: Array<string | bigint | number> = [after === 'start' ? 0n : after];
    if (filter?.streamPrefixes && filter?.eventTypes)
      throw new InvalidEventError('filter by stream prefixes or event types, not both');
    if (filter?.streamPrefixes) {
      // A prefix is the range [prefix, prefix + U+FFFF): it uses the (stream_id, revision) index.
      where.push(`(${filter.streamPrefixes.map(() => '(stream_id >= ? AND stream_id < ?)').join(' OR ') || '0'})`);
      for (const prefix of filter.streamPrefixes) params.push(prefix, `${prefix}\uffff`);
    }
    if (filter?.eventTypes) {
      where.push(`type IN (${filter.eventTypes.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...filter.eventTypes);
    }
    params.push(maxCount);
    const sql = `SELECT ${this.statements.columns} FROM events WHERE ${where.join(' AND ')} ORDER BY position ASC LIMIT ?`;
    let statement = this.readAllStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql).safeIntegers(true);
      // Filters come from code, not from users: a handful of shapes. The bound is a guard, not a cache policy.
      if (this.readAllStatements.size < MAX_CACHED_FILTER_SHAPES) this.readAllStatements.set(sql, statement);
    }
    const rows = statement.all(...params) as EventRow[];
    return rows.map(toRecordedEvent);
  }

  async headPosition(): Promise<bigint | 'start'> {
    const row = this.statements.maxPosition.get() as { position: bigint | null };
    return row.position ?? 'start';
  }

  subscribeToAll(options: SubscribeOptions): AllSubscription {
    let closed = false;
    let wake: (() => void) | undefined;
    const store = this;
    async function* iterate(): AsyncGenerator<RecordedEvent> {
      let after = options.after;
      while (!closed && !store.closed) {
        const page = store.readAllNow(after, store.subscriptionPageSize, options.filter);
        for (const event of page) {
          if (closed) return;
          yield event;
          after = event.position;
        }
        if (page.length < store.subscriptionPageSize) {
          // Live: wait for an append by this process, or poll for other processes' appends.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, store.livePollIntervalMs);
            function done(): void {
              clearTimeout(timer);
              store.liveWaiters.delete(done);
              wake = undefined;
              resolve();
            }
            wake = done;
            store.liveWaiters.add(done);
          });
        }
      }
    }
    const iterator = iterate();
    return {
      [Symbol.asyncIterator]: () => iterator,
      close: async () => {
        closed = true;
        wake?.();
        await iterator.return(undefined);
      },
    };
  }

  private wakeLiveSubscriptions(): void {
    for (const wake of [...this.liveWaiters]) wake();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0 || this.pendingNonces.length > 0) this.flush();
    this.closed = true;
    this.wakeLiveSubscriptions();
    this.db.close();
  }
}

/**
 * What the callers of a failed commit are told. A storage fault (sqlite-faults.ts) becomes the port's
 * outcome, so the API answers 503 storage_unavailable and the idempotency keeper knows what to do: a
 * write refused whole (disk full, read-only) is unavailable, and its claim can be released; an I/O error
 * may have struck after the commit landed, so it is an unknown outcome, read back before any retry. A
 * nonce claimed by the failed commit is refused either way: the client's retry signs with a new nonce.
 */
function commitFailure(error: unknown): { appendError: unknown; nonceError: unknown } {
  const fault = sqliteStorageFaultOf(error);
  if (fault === undefined) return { appendError: error, nonceError: error };
  const message = describeSqliteFault(error as Error);
  return {
    appendError:
      fault === 'unknown'
        ? new AppendOutcomeUnknownError(message, { cause: error })
        : new EventStoreUnavailableError(message, { cause: error }),
    nonceError: new NonceRegistryUnavailableError(message, { cause: error }),
  };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    type: row.type,
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as EventMetadata,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

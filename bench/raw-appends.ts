import Database from 'better-sqlite3';
import type { NewEvent } from '../src/ports/event-store.js';
import { nowMs } from './harness.js';
import { freshEvent } from './ledger-fixtures.js';

/**
 * The raw durable append baselines: better-sqlite3 inserts into a table like the event store's, WAL +
 * synchronous=FULL, `rowsPerTransaction` rows per transaction (one fsync each). One row per
 * transaction is append-concurrent's baseline (the naive durable append); 1,000 rows per transaction
 * is the baseline issue 9 sets for batch transfers (1,000 per request).
 */

const RAW_SCHEMA = `
CREATE TABLE events (
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
)`;

/** A placeholder of a sha256 hex digest's size: the baseline stores, it does not hash. */
const HASH_SIZED = 'f'.repeat(64);

/** Where the rows go: streams taken in turn, each row a fresh copy of its stream's template event. */
export interface RawStream {
  readonly streamId: string;
  readonly template: NewEvent;
}

export interface RawAppender {
  /** Inserts for `seconds` (whole transactions); rows inserted and the time they took. */
  insertFor(seconds: number): { count: number; seconds: number };
  close(): void;
}

/**
 * The naive durable append, `rowsPerTransaction` rows per transaction. Sequential by nature:
 * better-sqlite3 is synchronous, and each transaction is one fsync whoever calls it.
 */
export function openRawAppender(file: string, streams: readonly RawStream[], rowsPerTransaction: number): RawAppender {
  if (!Number.isInteger(rowsPerTransaction) || rowsPerTransaction < 1)
    throw new RangeError(`rowsPerTransaction must be a positive integer, got ${rowsPerTransaction}`);
  if (streams.length === 0) throw new Error('the raw appender needs a stream');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(RAW_SCHEMA);
  const insert = db.prepare(
    `INSERT INTO events (stream_id, revision, event_id, type, data, metadata, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let rows = 0;
  const insertTransaction = db.transaction(() => {
    for (let row = 0; row < rowsPerTransaction; row += 1) {
      // Round-robin over the streams, so rows look like the store's: many streams, rising revisions.
      const stream = streams[rows % streams.length]!;
      const event = freshEvent(stream.template);
      insert.run(
        stream.streamId,
        Math.floor(rows / streams.length),
        event.metadata.eventId,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata),
        HASH_SIZED,
        HASH_SIZED,
      );
      rows += 1;
    }
  });
  return {
    insertFor(seconds) {
      const started = nowMs();
      const deadline = started + seconds * 1000;
      let inserted = 0;
      while (nowMs() < deadline) {
        insertTransaction.immediate();
        inserted += rowsPerTransaction;
      }
      return { count: inserted, seconds: (nowMs() - started) / 1000 };
    },
    close: () => db.close(),
  };
}

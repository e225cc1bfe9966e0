import type Database from 'better-sqlite3';
import {
  snapshotFromJson,
  snapshotToJson,
  UnreadableSnapshotError,
  type SnapshotStore,
  type StoredSnapshot,
} from '../../ports/snapshot-store.js';
import { openSqliteDatabase } from './open-database.js';

/** How long a snapshot write waits for another process's write lock on the file before giving up. */
export const SNAPSHOT_BUSY_TIMEOUT_MS = 50;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id TEXT    PRIMARY KEY,
  revision  INTEGER NOT NULL,
  snapshot  TEXT    NOT NULL
);
`;

/**
 * The embedded snapshot store: one row per stream (its latest snapshot, as JSON) in its own file beside
 * the event store's, so writing a snapshot never takes the event store's write lock.
 *
 * synchronous=NORMAL, not the event store's FULL: in WAL mode a power cut may lose the last snapshots
 * written, never tear one, and a lost snapshot only means a longer read. No fsync per snapshot.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements;
  private closed = false;

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath);
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    // Once the table exists (created with the usual wait, so processes starting together all open):
    // better-sqlite3 waits for another process's write lock synchronously, stalling this process's event
    // loop, and a snapshot is not worth that. One that meets a busy file is skipped (and taken again later).
    this.db.pragma(`busy_timeout = ${SNAPSHOT_BUSY_TIMEOUT_MS}`);
    this.statements = {
      // A save at a lower revision than the one held leaves the row alone; at the same one it replaces it.
      upsert: this.db.prepare(
        `INSERT INTO snapshots (stream_id, revision, snapshot) VALUES (?, ?, ?)
         ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, snapshot = excluded.snapshot
         WHERE excluded.revision >= snapshots.revision`,
      ),
      load: this.db.prepare(`SELECT snapshot FROM snapshots WHERE stream_id = ?`),
    };
  }

  async save(snapshot: StoredSnapshot): Promise<void> {
    this.assertOpen();
    const text = snapshotToJson(snapshot);
    this.statements.upsert.run(snapshot.streamId, snapshot.revision, text);
  }

  async load(streamId: string): Promise<StoredSnapshot | undefined> {
    this.assertOpen();
    const row = this.statements.load.get(streamId) as { snapshot: string } | undefined;
    if (row === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(row.snapshot);
    } catch {
      throw new UnreadableSnapshotError(`the stored snapshot of ${streamId} is not JSON`);
    }
    return snapshotFromJson(streamId, value);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('snapshot store is closed');
  }
}

import type Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  checkInstanceId,
  checkRowLimit,
  MAX_INSTANCES_LISTED,
  type InstanceRecord,
  type InstanceRegistry,
} from '../../ports/instance-registry.js';
import { openSqliteDatabase } from './open-database.js';
import { lockStore, StoreLockedError, type StoreLock } from './store-lock.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY,
  started_at_ms INTEGER NOT NULL,
  last_beat_at_ms INTEGER NOT NULL,
  ended_at_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS instances_by_beat ON instances (last_beat_at_ms);
`;

interface Row {
  instance_id: string;
  started_at_ms: number;
  last_beat_at_ms: number;
  ended_at_ms: number | null;
}

/**
 * Each running instance's lock file, beside the registry's file: `instance-<id>.lock` (plain files in
 * DATA_DIR, not a folder: tools that read every file of DATA_DIR read these empty ones too).
 */
export const INSTANCE_LOCK_PREFIX = 'instance-';

/**
 * The instance registry in its own SQLite file under DATA_DIR (WAL, shared by the processes using it).
 *
 * Besides the heartbeats, each instance registered here holds an exclusive OS lock on its own file
 * (`instance-<id>.lock` beside it, the kind of lock DATA_DIR's store.lock is) for as long as its process runs.
 * The OS drops it when the process ends, however it ends (kill -9 included), so another process that can
 * take the lock knows the instance is gone at once, without waiting for its heartbeat to go stale. This
 * holds because every process sharing this file is on this host: the lock would mean nothing across hosts
 * (a network file system), which is also why SQLite's WAL, which every embedded file uses, cannot be
 * shared across hosts.
 *
 * Why not "a claim's owner other than this instance is dead" on the embedded engine: services take
 * DATA_DIR's lock SHARED (scripts/serve.ts), so several may serve one embedded store at once; an owner
 * that is not this instance may well be alive. Its own lock says which.
 *
 * synchronous=NORMAL: a heartbeat lost to a power cut is harmless (the next one, or the lock, answers).
 */
export class SqliteInstanceRegistry implements InstanceRegistry {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  /** Where the lock files are: the registry file's folder (DATA_DIR). */
  private readonly locksDir: string;
  /** The locks of the instances this process registered: held until they end or the process does. */
  private readonly held = new Map<string, StoreLock>();

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath);
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.locksDir = dirname(filePath);
  }

  async register(instanceId: string, now: Date): Promise<void> {
    checkInstanceId(instanceId);
    // The lock first: once the row is visible, its process is already known to be alive.
    const lock = lockStore(this.locksDir, 'exclusive', lockFileOf(instanceId));
    try {
      this.db
        .prepare('INSERT INTO instances (instance_id, started_at_ms, last_beat_at_ms) VALUES (?, ?, ?)')
        .run(instanceId, now.getTime(), now.getTime());
    } catch (error) {
      lock.release();
      throw error;
    }
    this.held.set(instanceId, lock);
  }

  async beat(instanceId: string, now: Date): Promise<boolean> {
    const result = this.db
      .prepare(
        'UPDATE instances SET last_beat_at_ms = max(last_beat_at_ms, ?) WHERE instance_id = ? AND ended_at_ms IS NULL',
      )
      .run(now.getTime(), instanceId);
    return result.changes === 1;
  }

  async end(instanceId: string, now: Date): Promise<void> {
    this.db
      .prepare('UPDATE instances SET ended_at_ms = ? WHERE instance_id = ? AND ended_at_ms IS NULL')
      .run(now.getTime(), instanceId);
    const lock = this.held.get(instanceId);
    if (lock === undefined) return;
    lock.release();
    this.held.delete(instanceId);
    removeLockFiles(this.locksDir, instanceId);
  }

  async instance(instanceId: string): Promise<InstanceRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM instances WHERE instance_id = ?').get(instanceId) as Row | undefined;
    return row ? this.recordOf(row) : undefined;
  }

  async list(maxInstances: number): Promise<InstanceRecord[]> {
    checkRowLimit('maxInstances', maxInstances, MAX_INSTANCES_LISTED);
    const rows = this.db
      .prepare('SELECT * FROM instances ORDER BY last_beat_at_ms DESC, instance_id LIMIT ?')
      .all(maxInstances) as Row[];
    return rows.map((row) => this.recordOf(row));
  }

  async purgeSilentSince(before: Date, maxRows: number): Promise<number> {
    checkRowLimit('maxRows', maxRows);
    const rows = this.db
      .prepare('SELECT instance_id FROM instances WHERE last_beat_at_ms < ? ORDER BY last_beat_at_ms LIMIT ?')
      .pluck()
      .all(before.getTime(), maxRows) as string[];
    const remove = this.db.prepare('DELETE FROM instances WHERE instance_id = ? AND last_beat_at_ms < ?');
    let removed = 0;
    for (const instanceId of rows) {
      removed += remove.run(instanceId, before.getTime()).changes;
      if (!this.held.has(instanceId)) removeLockFiles(this.locksDir, instanceId);
    }
    return removed;
  }

  async close(): Promise<void> {
    // Without `end`: closing drops the locks as a crash would (tests use it to play one).
    for (const lock of this.held.values()) lock.release();
    this.held.clear();
    if (this.db.open) this.db.close();
  }

  private recordOf(row: Row): InstanceRecord {
    return {
      instanceId: row.instance_id,
      startedAt: new Date(row.started_at_ms),
      lastBeatAt: new Date(row.last_beat_at_ms),
      endedAt: row.ended_at_ms === null ? null : new Date(row.ended_at_ms),
      processGone: row.ended_at_ms === null && !this.held.has(row.instance_id) && this.lockIsFree(row.instance_id),
    };
  }

  /** True when nobody holds the instance's lock: the process that registered it has ended. */
  private lockIsFree(instanceId: string): boolean {
    try {
      lockStore(this.locksDir, 'exclusive', lockFileOf(instanceId)).release();
      return true;
    } catch (error) {
      if (error instanceof StoreLockedError) return false;
      throw error;
    }
  }
}

export function lockFileOf(instanceId: string): string {
  return `${INSTANCE_LOCK_PREFIX}${instanceId}.lock`;
}

/** An instance's lock file and its empty journal, once nobody can hold them any more. */
function removeLockFiles(locksDir: string, instanceId: string): void {
  for (const suffix of ['', '-journal']) rmSync(join(locksDir, `${lockFileOf(instanceId)}${suffix}`), { force: true });
}

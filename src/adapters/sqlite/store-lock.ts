import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The lock file under DATA_DIR. It is never removed: the lock is the OS lock on it, not its existence
 * (a service deleting it on exit would unlock it under another service still holding it). An exclusive
 * holder also has an empty `store.lock-journal` beside it; nothing is ever written to either.
 */
export const STORE_LOCK_FILE = 'store.lock';

/**
 * `shared`: a service (`ledger serve`); several may share the embedded store. `exclusive`: a tool that
 * must run alone (`ledger rebuild`, which drops the read models a live service keeps writing).
 */
export type StoreLockMode = 'shared' | 'exclusive';

export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  constructor(
    readonly dataDir: string,
    readonly wanted: StoreLockMode,
  ) {
    super(
      wanted === 'exclusive'
        ? `DATA_DIR ${dataDir} is in use by a running service (ledger serve): stop it first`
        : `DATA_DIR ${dataDir} is locked by a running rebuild (ledger rebuild): start the service when it is done`,
    );
  }
}

export interface StoreLock {
  readonly path: string;
  /** Gives the lock back; safe to call more than once. */
  release(): void;
}

/**
 * Takes the DATA_DIR lock without waiting, or throws StoreLockedError. `fileName`: another lock file of
 * the same kind (an instance's own, held exclusive while it runs: sqlite-instance-registry.ts).
 *
 * Why SQLite: the lock is SQLite's own OS-level file lock (POSIX fcntl, LockFileEx on Windows) on an
 * empty database file, held by an open read transaction (shared) or an exclusive transaction. The
 * operating system drops it when the holder's process ends, however it ends (kill -9, a power cut),
 * so a crashed service never leaves a stale lock behind, with no pid files and no liveness guesses.
 * The file stays journal_mode=DELETE (never WAL) and is never written: a reader's lock then blocks an
 * exclusive transaction and the reverse, which is exactly shared-versus-exclusive.
 */
export function lockStore(dataDir: string, mode: StoreLockMode, fileName = STORE_LOCK_FILE): StoreLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, fileName);
  // timeout 0: a held lock is an answer now, not a reason to wait.
  const db = new Database(path, { timeout: 0 });
  try {
    if (mode === 'exclusive') {
      db.exec('BEGIN EXCLUSIVE');
    } else {
      db.exec('BEGIN DEFERRED');
      // A deferred transaction takes its shared lock at its first read.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    }
  } catch (error) {
    db.close();
    if (error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY') {
      throw new StoreLockedError(resolve(dataDir), mode);
    }
    throw error;
  }
  return {
    path,
    release() {
      // Closing ends the transaction, which drops the OS lock.
      if (db.open) db.close();
    },
  };
}

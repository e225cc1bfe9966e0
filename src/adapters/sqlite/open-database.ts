import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** How long a writer waits for another process's write lock before failing. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens a SQLite file the way the ledger needs it: WAL (readers never block the writer, several
 * processes may share the file) and synchronous=FULL, so a committed transaction is on disk before
 * the call returns: an acknowledged command survives a power cut.
 */
export function openSqliteDatabase(
  filePath: string,
  options: { readonly newFilePageSizeBytes?: number } = {},
): Database.Database {
  if (filePath !== ':memory:') mkdirSync(dirname(filePath), { recursive: true });
  const db = new Database(filePath);
  // Takes effect on a new, empty file only (before WAL writes its first page); an existing file keeps its own.
  if (options.newFilePageSizeBytes !== undefined) db.pragma(`page_size = ${options.newFilePageSizeBytes}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  return db;
}

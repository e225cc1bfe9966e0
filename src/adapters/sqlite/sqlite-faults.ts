import Database from 'better-sqlite3';

/**
 * The storage faults of an embedded file, by what a caller can know about a write that met one:
 *   - `not_written`: SQLite refused the write and rolled the transaction back: the disk (or the file's
 *     size limit) is full (SQLITE_FULL), or the file or its folder cannot be written (SQLITE_READONLY*,
 *     SQLITE_CANTOPEN: a read-only mount, permissions taken away). Nothing of it is on disk; the same
 *     write succeeds once space or write access returns.
 *   - `unknown`: an I/O error (SQLITE_IOERR*: a failing disk, a lost network mount). It may have struck
 *     after the commit's frames reached the file, so the caller reads back before it retries.
 * Anything else (a constraint, a bug in a statement) is not a storage fault: undefined.
 */
export type SqliteStorageFault = 'not_written' | 'unknown';

const NOT_WRITTEN_CODES = ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CANTOPEN'];

export function sqliteStorageFaultOf(error: unknown): SqliteStorageFault | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  // Extended codes name the primary code first: SQLITE_READONLY_DBMOVED, SQLITE_IOERR_FSYNC, ...
  const primary = /^SQLITE_[A-Z]+/.exec(error.code)?.[0];
  if (primary === undefined) return undefined;
  if (NOT_WRITTEN_CODES.includes(primary)) return 'not_written';
  return primary === 'SQLITE_IOERR' ? 'unknown' : undefined;
}

/** An operator's description of the fault, for the error the adapters raise instead (no path, no SQL). */
export function describeSqliteFault(error: Database.SqliteError | Error): string {
  const code = error instanceof Database.SqliteError ? error.code : error.name;
  return `the embedded store could not write (${code}): free disk space or restore write access; the service recovers by itself`;
}

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { EmbeddedFile } from '../embedded-files.js';

/** Most problems quick_check reports for one file: the first few name the damage; a wrecked file has thousands. */
const MAX_PROBLEMS_REPORTED = 5;

/** One or more store files are damaged: the service must not serve them (restore a backup). */
export class CorruptStoreError extends Error {
  override readonly name = 'CorruptStoreError';
  constructor(readonly damaged: ReadonlyArray<{ readonly path: string; readonly problems: readonly string[] }>) {
    super(
      `damaged store file${damaged.length > 1 ? 's' : ''}: ` +
        damaged.map((d) => `${d.path} (${d.problems.join('; ')})`).join(', ') +
        ': not served; restore the last backup (ledger restore) into an empty DATA_DIR',
    );
  }
}

/**
 * SQLite's `PRAGMA quick_check` of one file: the problems it names, none when the file is sound.
 *
 * quick_check, not integrity_check: both read every page and check each b-tree's structure, record
 * formats and free list, which is what a torn write, a flipped sector or a stray copy breaks. Only
 * integrity_check also checks that every index holds exactly its table's rows, and that costs a lookup
 * per row per index: on a 690 MB events file of 631,056 events it took 15.6 s against quick_check's
 * 1.3-2.2 s (docs/reliability.md, "Backups, restore and storage faults"), paid by every start. Index drift is not
 * how files get damaged; the hash chains (`ledger audit verify`) check the log's content itself.
 */
export function quickCheck(path: string): string[] {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    const rows = db.pragma(`quick_check(${MAX_PROBLEMS_REPORTED})`, { simple: false }) as Array<{
      quick_check: string;
    }>;
    const problems = rows.map((row) => row.quick_check);
    return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
  } catch (error) {
    // A header that is not SQLite's, or pages the reader cannot follow (SQLITE_NOTADB, SQLITE_CORRUPT).
    if (error instanceof Database.SqliteError) return [`${error.code}: ${error.message}`];
    throw error;
  } finally {
    db?.close();
  }
}

/** Checks every one of these files that exists; throws CorruptStoreError naming each damaged one. */
export function requireSoundStoreFiles(files: readonly EmbeddedFile[]): void {
  const damaged = files
    .filter((file) => existsSync(file.path))
    .map((file) => ({ path: file.path, problems: quickCheck(file.path) }))
    .filter((checked) => checked.problems.length > 0);
  if (damaged.length > 0) throw new CorruptStoreError(damaged);
}

import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The embedded half of `ledger rebuild`'s swap. Each rebuild worker builds its projections into a
 * staging file of its own beside the live one (`read-models.sqlite.rebuild-<n>`: no shared write lock,
 * each builds its own indexes at the same time as the others). Then, under the exclusive DATA_DIR lock:
 *
 * 1. the largest staging file takes in the others' tables, indexes and checkpoints, and whatever the
 *    live file holds that was not rebuilt (other projections' tables and checkpoints, any other table).
 *    Each table is copied into an empty one with the same schema and indexes, which SQLite does by
 *    copying records in order (its transfer optimisation), without evaluating an index again;
 * 2. it is flushed to disk, the live file's WAL is folded into the live file (a WAL left beside the new
 *    file would be read as its own), and it is renamed over the live file.
 *
 * A crash at any moment leaves either the old file, whole, or the new one; leftovers of an interrupted
 * rebuild are staging files, which the next rebuild deletes first.
 */

const STAGING_SUFFIX = '.rebuild-';
/** SQLite's companions of a database file. */
const COMPANIONS = ['-wal', '-shm', '-journal'] as const;
const CHECKPOINTS_TABLE = 'rm_checkpoints';

/** Worker `index`'s staging file for a live read-model file. */
export function stagingFileFor(liveFile: string, index: number): string {
  return `${liveFile}${STAGING_SUFFIX}${index}`;
}

/** Removes every staging file of `liveFile` (and their companions): what an interrupted rebuild left. */
export function discardStagingFiles(liveFile: string): void {
  const dir = dirname(liveFile);
  const prefix = `${basename(liveFile)}${STAGING_SUFFIX}`;
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (name.startsWith(prefix)) rmSync(join(dir, name), { force: true });
}

export interface RebuiltParts {
  /** Projections whose checkpoints the staging files hold. */
  readonly projections: readonly string[];
  /** Tables the staging files hold for them. */
  readonly tables: readonly string[];
}

/** Assembles the staging files into one and swaps it in for `liveFile` (see the module comment). */
export function swapInStagingFiles(liveFile: string, stagingFiles: readonly string[], rebuilt: RebuiltParts): void {
  if (stagingFiles.length === 0) throw new Error('no staging file to swap in');
  // The largest takes in the others: the least to copy.
  const [base, ...others] = [...stagingFiles].sort((a, b) => statSync(b).size - statSync(a).size) as [
    string,
    ...string[],
  ];
  const db = new Database(base);
  try {
    // The builders' mode: nothing reads this file until it is renamed, and a crash discards it.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    for (const other of others) copyFrom(db, other, () => true);
    if (existsSync(liveFile)) {
      copyFrom(db, liveFile, (table) => !rebuilt.tables.includes(table), rebuilt.projections);
    }
    // The live store runs in WAL mode; set here, the file is whole as soon as it is renamed.
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
  for (const other of others) removeWithCompanions(other);
  for (const suffix of COMPANIONS) {
    if (suffix !== '-shm' && existsSync(base + suffix) && statSync(base + suffix).size > 0)
      throw new Error(`the assembled read-model file still has a ${suffix} file after it was closed`);
  }
  for (const suffix of COMPANIONS) rmSync(base + suffix, { force: true });
  // The staging connections did not flush: the file reaches the disk here, before the rename.
  fsyncPath(base);
  if (existsSync(liveFile)) {
    const live = new Database(liveFile);
    try {
      live.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      live.close();
    }
    if (existsSync(liveFile + '-wal')) throw new Error(`${liveFile}-wal is still there after its checkpoint`);
    rmSync(liveFile + '-shm', { force: true });
  }
  renameSync(base, liveFile);
  fsyncPath(dirname(liveFile));
}

/**
 * Copies into `db` the tables of the database file `from` that `keep` accepts (schema, indexes, rows,
 * then triggers and views), and its checkpoints except those of `exceptProjections`.
 */
function copyFrom(
  db: Database.Database,
  from: string,
  keep: (table: string) => boolean,
  exceptProjections: readonly string[] = [],
): void {
  withAttached(db, from, () =>
    db.transaction(() => {
      const copied = copyAttachedTables(db, keep);
      if (copied.hasCheckpoints) {
        db.prepare(
          `INSERT INTO main.${CHECKPOINTS_TABLE} SELECT * FROM source.${CHECKPOINTS_TABLE}
           WHERE projection NOT IN (SELECT value FROM json_each(?))`,
        ).run(JSON.stringify(exceptProjections));
      }
    })(),
  );
}

/** Runs `work` with the database file `from` attached to `db` as `source` (ATTACH is refused inside a transaction). */
export function withAttached<T>(db: Database.Database, from: string, work: () => T): T {
  db.prepare('ATTACH DATABASE ? AS source').run(from);
  try {
    return work();
  } finally {
    db.exec('DETACH DATABASE source');
  }
}

/**
 * Inside a transaction with `source` attached: creates in `main` each table of `source` that `keep`
 * accepts, with its indexes, copies its rows, then its triggers and views. The checkpoints table is the
 * caller's to carry over (`hasCheckpoints`: the source has one).
 */
export function copyAttachedTables(
  db: Database.Database,
  keep: (table: string) => boolean,
): { hasCheckpoints: boolean } {
  const objects = db
    .prepare(
      `SELECT type, name, tbl_name AS tableName, sql FROM source.sqlite_master
       WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'`,
    )
    .all() as { type: string; name: string; tableName: string; sql: string }[];
  const kept = objects.filter((o) => o.tableName !== CHECKPOINTS_TABLE && keep(o.tableName));
  const ofType = (type: string) => kept.filter((o) => o.type === type);
  // Indexes before rows: into an empty table with the same schema and indexes, SQLite copies the
  // table's and each index's records as they are (a fresh index would be built again, row by row).
  for (const table of ofType('table')) {
    db.exec(table.sql);
    for (const index of ofType('index').filter((i) => i.tableName === table.name)) db.exec(index.sql);
    db.exec(`INSERT INTO main."${table.name}" SELECT * FROM source."${table.name}"`);
  }
  for (const other of kept.filter((o) => o.type !== 'table' && o.type !== 'index')) db.exec(other.sql);
  return { hasCheckpoints: objects.some((o) => o.type === 'table' && o.name === CHECKPOINTS_TABLE) };
}

export function removeWithCompanions(file: string): void {
  for (const path of [file, ...COMPANIONS.map((suffix) => file + suffix)]) rmSync(path, { force: true });
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

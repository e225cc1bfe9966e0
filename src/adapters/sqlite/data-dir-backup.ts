import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { LedgerConfig } from '../../config.js';
import { embeddedStoreFiles, generatedKeyFiles, type EmbeddedFile } from '../embedded-files.js';
import { EVENTS_FILE } from '../storage.js';
import { STORE_LOCK_FILE } from './store-lock.js';
import { SQLITE_BUSY_TIMEOUT_MS } from './open-database.js';
import { quickCheck } from './integrity-check.js';

/**
 * `ledger backup` and `ledger restore` of the embedded default (docs/operations.md, "Backups").
 *
 * Each SQLite store is copied with SQLite's online backup API, in one step: the copy is the file as of
 * one read transaction, which in WAL mode never blocks the service's writers and is never blocked by
 * them, so it is consistent while the service serves. The files are copied one after another in the
 * order of `embeddedStoreFiles` (derived stores before the log, what the log refers to after it), and a
 * manifest records each file's size and SHA-256 and the copied log's head position.
 */
export const BACKUP_MANIFEST_FILE = 'backup-manifest.json';
const BACKUP_FORMAT_VERSION = 1;
/** Pages per backup step: all of them, so the copy is one read transaction (SQLite's limit is an int). */
const ALL_PAGES = 0x7fffffff;
/** Files a lock leaves in a DATA_DIR nothing else was written to: still an empty DATA_DIR for a restore. */
const LOCK_FILES = new Set([STORE_LOCK_FILE, `${STORE_LOCK_FILE}-journal`]);

const manifestSchema = z.strictObject({
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  createdAt: z.string(),
  /** The copied event log's last position ('start': none). */
  eventLogHead: z.string().regex(/^([0-9]+|start)$/),
  files: z.array(
    z.strictObject({
      /** The file's path inside the backup, `/`-separated: a store's name, a key's, or `recon/...`. */
      name: z.string().regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/),
      kind: z.enum(['sqlite', 'key', 'reconciliation']),
      bytes: z.int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});
export type BackupManifest = z.infer<typeof manifestSchema>;

type BackupConfig = Pick<LedgerConfig, 'dataDir' | 'vault' | 'eventStoreUrl' | 'mongoUrl' | 'reconciliation'>;

/** The backup cannot be made or restored as asked: nothing was changed. */
export class BackupRefusedError extends Error {
  override readonly name = 'BackupRefusedError';
}

/**
 * Refuses production engines: their stores are not files here. A local copy of the few embedded files
 * beside them would be a backup of nothing that matters (docs/production.md, "Backups").
 */
export function refuseProductionEngines(config: BackupConfig, action: 'backup' | 'restore'): void {
  const engines = [
    config.eventStoreUrl
      ? 'EVENTSTORE_URL is set: the log is in EventStoreDB; back it up with its own backup (a copy of the database folder of a stopped node, or a filesystem snapshot of a follower: docs/production.md, "Backups")'
      : undefined,
    config.mongoUrl
      ? 'MONGODB_URL is set: read models, vault, outbox and statements are in MongoDB; back them up with mongodump --oplog or snapshots of the replica set (docs/production.md, "Backups")'
      : undefined,
  ].filter((line) => line !== undefined);
  if (engines.length > 0) {
    throw new BackupRefusedError(`ledger ${action} copies the embedded SQLite stores only: ${engines.join('; ')}`);
  }
}

/** Copies every store, generated key and reconciliation result of DATA_DIR into `targetDir` (new or empty). */
export async function backupDataDir(
  config: BackupConfig,
  targetDir: string,
  createdAt: string,
): Promise<BackupManifest> {
  refuseProductionEngines(config, 'backup');
  await requireEmptyFolder(targetDir, 'the backup folder');
  await mkdir(targetDir, { recursive: true });
  const files: BackupManifest['files'] = [];
  for (const store of embeddedStoreFiles(config)) {
    if (!existsSync(store.path)) continue;
    const copy = join(targetDir, store.name);
    await copyStore(store.path, copy);
    files.push({ name: store.name, kind: 'sqlite', ...(await measure(copy)) });
  }
  for (const key of generatedKeyFiles(config)) {
    if (!existsSync(key.path)) continue;
    await copyDurably(key.path, join(targetDir, key.name), 0o600);
    files.push({ name: key.name, kind: 'key', ...(await measure(join(targetDir, key.name))) });
  }
  for (const result of await reconciliationResults(config)) {
    await copyDurably(result.path, join(targetDir, result.name));
    files.push({ name: result.name, kind: 'reconciliation', ...(await measure(join(targetDir, result.name))) });
  }
  const manifest: BackupManifest = {
    formatVersion: BACKUP_FORMAT_VERSION,
    createdAt,
    eventLogHead: files.some((f) => f.name === EVENTS_FILE) ? headOf(join(targetDir, EVENTS_FILE)) : 'start',
    files,
  };
  // Written last, whole, then renamed: a folder with a manifest is a finished backup.
  const manifestPath = join(targetDir, BACKUP_MANIFEST_FILE);
  await writeFile(`${manifestPath}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  await syncFile(`${manifestPath}.partial`);
  await rename(`${manifestPath}.partial`, manifestPath);
  await syncFile(targetDir);
  return manifest;
}

/**
 * Puts a backup's files in place in an empty DATA_DIR (the caller holds its exclusive lock), after checking
 * each against the manifest and each store with quick_check. Returns the manifest; the caller then
 * audits the restored log (`ledger audit verify`).
 */
export async function restoreDataDir(config: BackupConfig, backupDir: string): Promise<BackupManifest> {
  refuseProductionEngines(config, 'restore');
  const manifest = await readManifest(backupDir);
  for (const file of manifest.files) {
    const measured = await measure(join(backupDir, file.name)).catch(() => undefined);
    if (measured?.sha256 !== file.sha256 || measured.bytes !== file.bytes) {
      throw new BackupRefusedError(
        `backup file ${file.name} does not match the manifest (${measured ? 'changed' : 'missing'}): this backup cannot be restored`,
      );
    }
    if (file.kind === 'sqlite') {
      const problems = quickCheck(join(backupDir, file.name));
      if (problems.length > 0)
        throw new BackupRefusedError(`backup file ${file.name} is damaged: ${problems.join('; ')}`);
    }
  }
  await requireEmptyFolder(config.dataDir, 'DATA_DIR', LOCK_FILES);
  const stores = new Map(embeddedStoreFiles(config).map((store) => [store.name, store]));
  const targets = manifest.files.map((file) => ({
    file,
    path: stores.get(file.name)?.path ?? join(config.dataDir, ...file.name.split('/')),
  }));
  for (const { path } of targets) {
    if (existsSync(path)) throw new BackupRefusedError(`${path} exists: restore into an empty DATA_DIR`);
  }
  for (const { file, path } of targets) {
    await copyDurably(join(backupDir, file.name), path, file.kind === 'key' ? 0o600 : undefined);
  }
  return manifest;
}

export async function readManifest(backupDir: string): Promise<BackupManifest> {
  const path = join(backupDir, BACKUP_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new BackupRefusedError(
      `${backupDir} holds no backup (no ${BACKUP_MANIFEST_FILE}): name a folder ledger backup wrote`,
    );
  }
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new BackupRefusedError(`${path} is not a backup manifest of this version`);
  return parsed.data;
}

/** The online backup of one SQLite file, in one step, then made a self-contained file (no WAL beside it). */
async function copyStore(source: string, target: string): Promise<void> {
  const db = new Database(source, { fileMustExist: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    await db.backup(target, { progress: () => ALL_PAGES });
  } finally {
    db.close();
  }
  const copy = new Database(target, { fileMustExist: true });
  try {
    // The copy keeps the source's WAL mode: back to a rollback journal, so the backup is one file per store.
    copy.pragma('journal_mode = DELETE');
    const problems = quickCheck(target);
    if (problems.length > 0) throw new Error(`the copy of ${source} fails quick_check: ${problems.join('; ')}`);
  } finally {
    copy.close();
  }
  await syncFile(target);
}

function headOf(eventsFile: string): string {
  const db = new Database(eventsFile, { readonly: true, fileMustExist: true });
  try {
    const head = db.prepare('SELECT max(position) FROM events').pluck().safeIntegers(true).get() as bigint | null;
    return head === null ? 'start' : head.toString();
  } finally {
    db.close();
  }
}

/** Reconciliation results, whole files only (each is written beside its name and renamed into place). */
async function reconciliationResults(config: BackupConfig): Promise<EmbeddedFile[]> {
  const root = config.reconciliation.resultsDir;
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.partial'))
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { name: ['recon', ...relative(root, path).split(sep)].join('/'), path };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function requireEmptyFolder(dir: string, what: string, ignored: ReadonlySet<string> = new Set()): Promise<void> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const present = entries.filter((name) => !ignored.has(name));
  if (present.length > 0) {
    throw new BackupRefusedError(
      `${what} ${dir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}): name a new or empty folder`,
    );
  }
}

/** Copies a file beside its name, flushes it, and renames it into place: a name present is a whole file. */
async function copyDurably(source: string, target: string, mode?: number): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.restoring`;
  await copyFile(source, partial);
  if (mode !== undefined) await chmod(partial, mode);
  await syncFile(partial);
  await rename(partial, target);
  await syncFile(dirname(target));
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function measure(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { bytes: (await stat(path)).size, sha256: hash.digest('hex') };
}

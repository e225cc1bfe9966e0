import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log, projectRoot } from './harness.js';

/**
 * Emmett's SQLite event store, loaded from its own small package in bench/peer (installed on first use),
 * not from the project's node_modules: its driver, sqlite3, has no prebuilt binary reachable here and
 * compiles from source (about two minutes, 128 packages), which must not slow every `npm ci`.
 *
 * The types are the few pieces of @event-driven-io/emmett-sqlite 0.42.4's API the append-and-project
 * benchmark uses, written here so `tsc` and eslint of the project pass without bench/peer installed.
 */

export type SQLiteParameter = string | number | bigint | null;

export interface SQLiteConnection {
  close(): void;
  command(sql: string, values?: SQLiteParameter[]): Promise<{ changes: number }>;
  querySingle<T>(sql: string, values?: SQLiteParameter[]): Promise<T | null>;
}

/** Opaque: given back to getSQLiteEventStore only. */
export type SQLiteConnectionPool = { readonly __brand: 'SQLiteConnectionPool' };

export interface EmmettEvent {
  type: string;
  data: unknown;
  metadata: { streamPosition: bigint } & Record<string, unknown>;
}

export interface SQLiteProjectionDefinition {
  name: string;
  canHandle: string[];
  init(options: { context: { connection: SQLiteConnection } }): Promise<void>;
  handle(events: EmmettEvent[], context: { connection: SQLiteConnection }): Promise<void>;
}

export interface SQLiteEventStore {
  schema: { migrate(): Promise<void> };
  appendToStream(
    streamName: string,
    events: { type: string; data: unknown; metadata?: unknown }[],
    options: { expectedStreamVersion: bigint },
  ): Promise<{ nextExpectedStreamVersion: bigint }>;
}

/** The module's exports: plain functions (no `this`), as its own declarations type them. */
export interface EmmettSqlite {
  sqliteConnection: (options: { fileName: string }) => SQLiteConnection;
  SQLiteConnectionPool: (options: {
    fileName: string;
    connectionOptions: { singleton: true; connection: SQLiteConnection };
  }) => SQLiteConnectionPool;
  getSQLiteEventStore: (options: {
    fileName: string;
    pool: SQLiteConnectionPool;
    projections: { type: 'inline'; projection: SQLiteProjectionDefinition }[];
  }) => SQLiteEventStore;
  sqliteProjection: (definition: SQLiteProjectionDefinition) => SQLiteProjectionDefinition;
}

const PACKAGE = '@event-driven-io/emmett-sqlite';
/** The peer's exports map `import` to this file (its package.json); imported by path, outside our tree. */
const ENTRY = join('node_modules', ...PACKAGE.split('/'), 'dist', 'index.js');

/** Installs bench/peer (`npm ci --prefix bench/peer`) if it is missing, then imports Emmett from there. */
export async function loadEmmettSqlite(benchmark: string): Promise<EmmettSqlite> {
  const peerDir = join(projectRoot(), 'bench', 'peer');
  const entry = join(peerDir, ENTRY);
  if (!existsSync(entry)) {
    log(
      benchmark,
      `installing the Emmett peer into bench/peer/node_modules (npm ci --prefix bench/peer, once): its sqlite3 driver compiles from source where no prebuilt binary is reachable, two to three minutes on 2 cores`,
    );
    const started = Date.now();
    installPeer(peerDir);
    log(benchmark, `Emmett peer installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (!existsSync(entry)) throw new Error(`npm ci --prefix bench/peer succeeded but ${entry} is missing`);
  }
  return (await import(pathToFileURL(entry).href)) as EmmettSqlite;
}

function installPeer(peerDir: string): void {
  // Under `npm run bench` npm says where its CLI is: run the same npm with the same node (scripts/node24.sh).
  const npmCli = process.env['npm_execpath'];
  const [command, prefixArgs] = npmCli?.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  const result = spawnSync(command, [...prefixArgs, 'ci', '--prefix', peerDir, '--no-audit', '--no-fund'], {
    stdio: 'inherit',
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`npm ci --prefix bench/peer exited with ${result.status ?? result.signal}`);
}

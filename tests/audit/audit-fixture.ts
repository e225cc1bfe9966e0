import Database from 'better-sqlite3';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { EVENTS_FILE } from '../../src/adapters/storage.js';
import { loadConfig, type LedgerConfig } from '../../src/config.js';
import { openWallet, recharge, registerUser, startTestLedger } from '../support/test-ledger.js';

export const WALLETS = 2;
export const RECHARGES_PER_WALLET = 3;
/**
 * Streams the fixture writes beyond the test ledger's setup: the wallets' owner (a user) and its
 * Idempotency-Key; each wallet and its key; each recharge and its key.
 */
export const FIXTURE_STREAMS = 2 + 2 * WALLETS + 2 * WALLETS * RECHARGES_PER_WALLET;

export interface AuditedLedger {
  readonly dataDir: string;
  readonly config: LedgerConfig;
  /** Account ids in the order they were opened. */
  readonly accountIds: readonly string[];
}

/**
 * A stopped ledger with real data made through the API: wallets with a few recharges each (every
 * recharge also writes an idempotency stream), read models caught up with the log.
 */
export async function buildAuditedLedger(): Promise<AuditedLedger> {
  const ledger = await startTestLedger();
  const accountIds: string[] = [];
  let lastPosition = 0n;
  const ownerId = await registerUser(ledger.app, 'Audited user');
  for (let w = 0; w < WALLETS; w += 1) {
    const wallet = await openWallet(ledger.app, 'CNY', ownerId);
    accountIds.push(wallet.accountId);
    for (let r = 1; r <= RECHARGES_PER_WALLET; r += 1) {
      const response = await recharge(ledger.app, wallet.accountId, `${w + 1}${r}.00`);
      if (response.statusCode !== 201) throw new Error(`recharge failed: ${response.statusCode} ${response.body}`);
      lastPosition = BigInt(response.json<{ position: string }>().position);
    }
  }
  await ledger.service.projections.waitForPosition('balances', lastPosition, 5_000);
  await ledger.close();
  return { dataDir: ledger.dataDir, config: loadConfig({ DATA_DIR: ledger.dataDir }), accountIds };
}

/** A copy of a stopped ledger in a fresh directory, so each test may damage its own. */
export function copyLedger(ledger: AuditedLedger): AuditedLedger {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-audit-'));
  cpSync(ledger.dataDir, dataDir, { recursive: true });
  return { ...ledger, dataDir, config: loadConfig({ DATA_DIR: dataDir }) };
}

export interface StoredEventRow {
  position: number;
  stream_id: string;
  revision: number;
  data: string;
  prev_hash: string;
}

/**
 * Opens the stopped ledger's SQLite events file as an attacker with file access would, with the
 * immutability triggers dropped, and hands it to `tamper`.
 */
export function tamperWithEventsFile(dataDir: string, tamper: (db: Database.Database) => void): void {
  const db = new Database(join(dataDir, EVENTS_FILE));
  try {
    db.exec('DROP TRIGGER IF EXISTS events_are_immutable_update; DROP TRIGGER IF EXISTS events_are_immutable_delete;');
    tamper(db);
  } finally {
    db.close();
  }
}

export function countStoredEvents(dataDir: string): number {
  const db = new Database(join(dataDir, EVENTS_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export function eventRow(db: Database.Database, streamId: string, revision: number): StoredEventRow {
  const row = db
    .prepare('SELECT position, stream_id, revision, data, prev_hash FROM events WHERE stream_id = ? AND revision = ?')
    .get(streamId, revision);
  if (!row) throw new Error(`no event ${streamId}@${revision}`);
  return row as StoredEventRow;
}

/** stdout and stderr that keep what an audit writes, for assertions. */
export class CapturedOutput {
  private readonly chunks = { stdout: [] as string[], stderr: [] as string[] };
  readonly stdout = collector(this.chunks.stdout);
  readonly stderr = collector(this.chunks.stderr);

  text(stream: 'stdout' | 'stderr'): string {
    return this.chunks[stream].join('');
  }

  /** stdout parsed as JSON Lines. */
  records(): Array<Record<string, unknown>> {
    return this.text('stdout')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

function collector(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
}

import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_BUSY_TIMEOUT_MS, SqliteSnapshotStore } from '../../src/adapters/sqlite/sqlite-snapshot-store.js';
import { UnreadableSnapshotError } from '../../src/ports/snapshot-store.js';
import { aSnapshot, snapshotStoreContract } from './snapshot-store.contract.js';

const aFile = () => join(mkdtempSync(join(tmpdir(), 'ledger-snapshots-')), 'snapshots.sqlite');

snapshotStoreContract('sqlite (embedded)', async () => new SqliteSnapshotStore(aFile()));

describe('sqlite snapshot store', () => {
  it('keeps snapshots across a reopen, and shares them between stores on one file', async () => {
    const file = aFile();
    const a = new SqliteSnapshotStore(file);
    const b = new SqliteSnapshotStore(file);
    const saved = aSnapshot('account-1010000000000018', 999n, { exists: false });
    await a.save(saved);
    expect(await b.load(saved.streamId)).toEqual(saved);
    await a.close();
    await b.close();
    const reopened = new SqliteSnapshotStore(file);
    expect(await reopened.load(saved.streamId)).toEqual(saved);
    await reopened.close();
  });

  it('gives up a save at once when another process holds the write lock, and saves once it is free', async () => {
    const file = aFile();
    const store = new SqliteSnapshotStore(file);
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    await expect(store.save(aSnapshot('account-1', 1n))).rejects.toThrow(/locked|busy/i);
    expect(performance.now() - started).toBeLessThan(SNAPSHOT_BUSY_TIMEOUT_MS * 20);
    other.exec('ROLLBACK');
    other.close();
    await store.save(aSnapshot('account-1', 1n));
    expect((await store.load('account-1'))?.revision).toBe(1n);
    await store.close();
  });

  it('answers a damaged row with an error, never with another snapshot', async () => {
    const file = aFile();
    const store = new SqliteSnapshotStore(file);
    await store.save(aSnapshot('account-1', 1n));
    await store.save(aSnapshot('account-2', 1n));
    const db = new Database(file);
    db.prepare(`UPDATE snapshots SET snapshot = '{"streamId":' WHERE stream_id = 'account-1'`).run();
    // A row holding another stream's snapshot is as wrong as a torn one.
    db.prepare(
      `UPDATE snapshots SET snapshot = (SELECT snapshot FROM snapshots WHERE stream_id = 'account-1') WHERE stream_id = 'account-2'`,
    ).run();
    db.close();
    await expect(store.load('account-1')).rejects.toBeInstanceOf(UnreadableSnapshotError);
    await expect(store.load('account-2')).rejects.toBeInstanceOf(UnreadableSnapshotError);
    await store.close();
  });
});

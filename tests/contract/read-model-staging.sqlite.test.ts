import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stagingFileFor, swapInStagingFiles } from '../../src/adapters/sqlite/bulk-swap.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { READ_MODELS_FILE } from '../../src/adapters/storage.js';
import { readModelStagingContract } from './read-model-staging.contract.js';

readModelStagingContract('sqlite (embedded)', () => ({
  dataDir: mkdtempSync(join(tmpdir(), 'ledger-staging-')),
  eventStoreUrl: undefined,
  mongoUrl: undefined,
  accountingTimeZone: 'Asia/Shanghai',
}));

describe('sqlite: read models in the layout before the unique id index', () => {
  // The DDL SqliteReadModelStore used until the bulk rebuild: WITHOUT ROWID, id the primary key.
  const oldLayout = (db: Database.Database, table: string, fields: readonly string[]) => {
    db.exec(`CREATE TABLE ${table} (id TEXT PRIMARY KEY, position INTEGER NOT NULL, doc TEXT) WITHOUT ROWID`);
    for (const field of fields) {
      db.exec(`CREATE INDEX ${table}__${field} ON ${table} (json_extract(doc, '$.${field}'), id)`);
    }
  };

  it('are still served and written, and a rebuild of other projections carries them over as they are', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-old-layout-'));
    const file = join(dataDir, READ_MODELS_FILE);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    oldLayout(db, 'rm_old_balances', ['currency']);
    db.exec(`CREATE TABLE rm_checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL)`);
    db.prepare(`INSERT INTO rm_old_balances VALUES (?, ?, ?)`).run('a', 4, JSON.stringify({ currency: 'CNY' }));
    db.prepare(`INSERT INTO rm_checkpoints VALUES (?, ?)`).run('old', 4);
    db.close();

    const spec = { name: 'old_balances', indexes: ['currency', 'status'] };
    const store = new SqliteReadModelStore(file);
    await store.ensureCollections([spec]);
    await store.applyBatch(
      'old',
      [{ collection: spec.name, id: 'b', data: { currency: 'USD', status: 'x' }, position: 6n }],
      6n,
    );
    await store.applyBatch(
      'old',
      [{ collection: spec.name, id: 'a', data: { currency: 'CNY', status: 'y' }, position: 3n }],
      6n,
    );
    const served = async (s: SqliteReadModelStore) => [
      (await s.find(spec.name, { where: { currency: 'CNY' }, limit: 5 })).items,
      (await s.find(spec.name, { where: { status: 'x' }, limit: 5 })).items.map((d) => d.id),
      await s.getCheckpoint('old'),
    ];
    const before = await served(store);
    expect(before).toEqual([[{ id: 'a', position: 4n, data: { currency: 'CNY' } }], ['b'], 6n]);
    await store.close();

    // A rebuild of another projection: the old-layout table comes across with its schema and indexes.
    const staging = new SqliteReadModelStore(stagingFileFor(file, 0), { bulk: true });
    await staging.ensureCollections([{ name: 'new_things', indexes: ['kind'] }]);
    await staging.writeDocuments([{ collection: 'new_things', id: 't', data: { kind: 'k' }, position: 6n }]);
    await staging.completeProjection('new', ['new_things'], 6n);
    await staging.close();
    swapInStagingFiles(file, [stagingFileFor(file, 0)], { projections: ['new'], tables: ['rm_new_things'] });

    const after = new SqliteReadModelStore(file);
    try {
      await after.ensureCollections([spec, { name: 'new_things', indexes: ['kind'] }]);
      expect(await served(after)).toEqual(before);
      expect((await after.find('new_things', { where: { kind: 'k' }, limit: 5 })).items.map((d) => d.id)).toEqual([
        't',
      ]);
      const check = new Database(file, { readonly: true });
      const ddl = check.prepare(`SELECT sql FROM sqlite_master WHERE name = 'rm_old_balances'`).get() as {
        sql: string;
      };
      check.close();
      expect(ddl.sql).toContain('WITHOUT ROWID');
    } finally {
      await after.close();
    }
  });
});

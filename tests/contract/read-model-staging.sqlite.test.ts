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

describe('sqlite: read models from before the field columns', () => {
  it('get a column per declared field on opening, filled from the documents, with the same answers', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ledger-columns-')), READ_MODELS_FILE);
    // The layout before the field columns: json_extract expression indexes, as ensureCollections made them.
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE rm_things (id TEXT NOT NULL, position INTEGER NOT NULL, doc TEXT)`);
    db.exec(`CREATE UNIQUE INDEX rm_things___id ON rm_things (id)`);
    for (const field of ['kind', 'size', 'open'])
      db.exec(`CREATE INDEX rm_things__${field} ON rm_things (json_extract(doc, '$.${field}'), id)`);
    const insert = db.prepare(`INSERT INTO rm_things VALUES (?, ?, ?)`);
    insert.run('a', 1, JSON.stringify({ kind: 'k', size: 3, open: true }));
    insert.run('b', 2, JSON.stringify({ kind: 'k', size: 1.5, open: false }));
    insert.run('c', 3, JSON.stringify({ kind: 'j', size: 10 }));
    insert.run('gone', 4, null);
    db.close();

    const spec = { name: 'things', indexes: ['kind', 'size', 'open'] };
    const store = new SqliteReadModelStore(file);
    try {
      await store.ensureCollections([spec]);
      const ids = async (query: Parameters<SqliteReadModelStore['find']>[1]) =>
        (await store.find(spec.name, query)).items.map((d) => d.id);
      expect(await ids({ where: { kind: 'k' }, limit: 5 })).toEqual(['a', 'b']);
      expect(await ids({ where: { open: false }, limit: 5 })).toEqual(['b']);
      expect(await ids({ orderBy: 'size', limit: 5 })).toEqual(['b', 'a', 'c']);
      expect(await ids({ range: { field: 'size', gte: 2, lt: 10 }, limit: 5 })).toEqual(['a']);
      // Written after the migration: the columns follow the documents.
      await store.applyBatch(
        spec.name,
        [{ collection: spec.name, id: 'c', data: { kind: 'k', size: 0 }, position: 5n }],
        5n,
      );
      expect(await ids({ where: { kind: 'k' }, orderBy: 'size', limit: 5 })).toEqual(['c', 'b', 'a']);
      const pages: string[] = [];
      let after: string | undefined;
      do {
        const page = await store.find(spec.name, {
          orderBy: 'size',
          direction: 'desc',
          limit: 1,
          ...(after ? { after } : {}),
        });
        pages.push(...page.items.map((d) => d.id));
        after = page.nextCursor ?? undefined;
      } while (after);
      expect(pages).toEqual(['a', 'b', 'c']);
    } finally {
      await store.close();
    }

    const check = new Database(file, { readonly: true });
    try {
      const indexes = check
        .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_things' ORDER BY name`)
        .all() as { name: string; sql: string }[];
      expect(indexes.map((i) => i.name)).toEqual([
        'rm_things___id',
        'rm_things__f_kind',
        'rm_things__f_open',
        'rm_things__f_size',
      ]);
      expect(indexes.some((i) => i.sql.includes('json_extract'))).toBe(false);
      const plan = check
        .prepare(`EXPLAIN QUERY PLAN SELECT id FROM rm_things WHERE f_kind = ? ORDER BY f_kind, id`)
        .all('k') as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toContain('rm_things__f_kind');
      const columns = check.prepare(`SELECT id, f_kind, f_size, f_open FROM rm_things ORDER BY id`).all();
      expect(columns).toEqual([
        { id: 'a', f_kind: 'k', f_size: 3, f_open: 1 },
        { id: 'b', f_kind: 'k', f_size: 1.5, f_open: 0 },
        { id: 'c', f_kind: 'k', f_size: 0, f_open: null },
        { id: 'gone', f_kind: null, f_size: null, f_open: null },
      ]);
    } finally {
      check.close();
    }
  });
});

import type Database from 'better-sqlite3';
import type { StoredDataKey, StoredSecret, VaultKeyStore } from '../../ports/secret-vault.js';
import { openSqliteDatabase } from './open-database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vault_data_keys (
  subject_id TEXT PRIMARY KEY,
  wrapped_key BLOB,
  kek_version INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  erased_at_ms INTEGER,
  erase_reason TEXT
);
CREATE INDEX IF NOT EXISTS vault_data_keys_kek ON vault_data_keys (kek_version) WHERE wrapped_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS vault_secrets (
  reference TEXT PRIMARY KEY,
  subject_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  nonce BLOB NOT NULL,
  sealed BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_secrets_subject ON vault_secrets (subject_id);
`;

interface DataKeyRow {
  subject_id: string;
  wrapped_key: Buffer | null;
  kek_version: number;
  created_at_ms: number;
  erased_at_ms: number | null;
}

interface SecretRow {
  reference: string;
  subject_id: string;
  purpose: string;
  nonce: Buffer;
  sealed: Buffer;
  created_at_ms: number;
}

const toDataKey = (row: DataKeyRow): StoredDataKey => ({
  subjectId: row.subject_id,
  wrappedKey: row.wrapped_key,
  kekVersion: row.kek_version,
  createdAtMs: row.created_at_ms,
  erasedAtMs: row.erased_at_ms,
});

/**
 * The vault's store in its own SQLite file (DATA_DIR/vault.sqlite by default: apart from the event log, so
 * the log can be exported, copied or audited without any ciphertext), WAL and synchronous=FULL like every
 * ledger file. Erasure overwrites the wrapped key with NULL; `secure_delete` makes SQLite zero the freed
 * bytes so the old key does not linger in a free page of the file (the WAL is checkpointed after it).
 */
export class SqliteVaultStore implements VaultKeyStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  /** The two reads of every `open`, prepared once (a prepare compiles the SQL each time). */
  private readonly dataKeyBySubject: Database.Statement<[string]>;
  private readonly secretByReference: Database.Statement<[string]>;

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath);
    this.db.pragma('secure_delete = ON');
    this.db.exec(SCHEMA);
    this.dataKeyBySubject = this.db.prepare('SELECT * FROM vault_data_keys WHERE subject_id = ?');
    this.secretByReference = this.db.prepare('SELECT * FROM vault_secrets WHERE reference = ?');
  }

  getDataKey(subjectId: string): Promise<StoredDataKey | null> {
    const row = this.dataKeyBySubject.get(subjectId) as DataKeyRow | undefined;
    return Promise.resolve(row ? toDataKey(row) : null);
  }

  createDataKey(key: StoredDataKey): Promise<StoredDataKey> {
    const row = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO vault_data_keys (subject_id, wrapped_key, kek_version, created_at_ms) VALUES (?, ?, ?, ?)
           ON CONFLICT (subject_id) DO NOTHING`,
        )
        .run(key.subjectId, key.wrappedKey, key.kekVersion, key.createdAtMs);
      return this.db.prepare('SELECT * FROM vault_data_keys WHERE subject_id = ?').get(key.subjectId) as DataKeyRow;
    })();
    return Promise.resolve(toDataKey(row));
  }

  eraseDataKey(subjectId: string, reason: string, nowMs: number): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO vault_data_keys (subject_id, wrapped_key, kek_version, created_at_ms, erased_at_ms, erase_reason)
         VALUES (@subjectId, NULL, 0, @nowMs, @nowMs, @reason)
         ON CONFLICT (subject_id) DO UPDATE SET wrapped_key = NULL,
           erased_at_ms = coalesce(erased_at_ms, @nowMs), erase_reason = coalesce(erase_reason, @reason)`,
      )
      .run({ subjectId, nowMs, reason });
    // The destroyed key must not survive in the write-ahead log either.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return Promise.resolve();
  }

  dataKeysNotUnder(kekVersion: number, limit: number): Promise<StoredDataKey[]> {
    const rows = this.db
      .prepare(
        'SELECT * FROM vault_data_keys WHERE wrapped_key IS NOT NULL AND kek_version <> ? ORDER BY subject_id LIMIT ?',
      )
      .all(kekVersion, limit) as DataKeyRow[];
    return Promise.resolve(rows.map(toDataKey));
  }

  countDataKeysNotUnder(kekVersion: number): Promise<number> {
    const row = this.db
      .prepare('SELECT count(*) AS n FROM vault_data_keys WHERE wrapped_key IS NOT NULL AND kek_version <> ?')
      .get(kekVersion) as { n: number };
    return Promise.resolve(row.n);
  }

  rewrapDataKey(subjectId: string, fromVersion: number, wrappedKey: Buffer, toVersion: number): Promise<boolean> {
    const result = this.db
      .prepare(
        `UPDATE vault_data_keys SET wrapped_key = ?, kek_version = ?
         WHERE subject_id = ? AND kek_version = ? AND wrapped_key IS NOT NULL`,
      )
      .run(wrappedKey, toVersion, subjectId, fromVersion);
    return Promise.resolve(result.changes === 1);
  }

  putSecret(secret: StoredSecret): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO vault_secrets (reference, subject_id, purpose, nonce, sealed, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(secret.reference, secret.subjectId, secret.purpose, secret.nonce, secret.sealed, secret.createdAtMs);
    return Promise.resolve();
  }

  getSecret(reference: string): Promise<StoredSecret | null> {
    const row = this.secretByReference.get(reference) as SecretRow | undefined;
    return Promise.resolve(
      row
        ? {
            reference: row.reference,
            subjectId: row.subject_id,
            purpose: row.purpose,
            nonce: row.nonce,
            sealed: row.sealed,
            createdAtMs: row.created_at_ms,
          }
        : null,
    );
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

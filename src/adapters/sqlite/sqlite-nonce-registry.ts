import type Database from 'better-sqlite3';
import type { NonceRegistry } from '../../ports/nonce-registry.js';
import { CLAIM_NONCE_SQL, NONCES_SCHEMA, PURGE_NONCES_SQL } from './nonces-table.js';
import { openSqliteDatabase } from './open-database.js';

/**
 * A nonce registry in its own SQLite file (WAL), shared safely by several processes: for an EventStoreDB
 * event store without MongoDB. Beside the embedded event store, EventStoreNonceRegistry keeps nonces in
 * the event store's own commits instead (durable, no fsync of its own).
 *
 * synchronous=NORMAL, unlike the event store: in WAL mode a commit survives the process dying, and only an
 * operating-system crash or power cut can lose the last few commits. A nonce lost that way lets a captured
 * request be replayed once more within the clock-skew window. Commands sent with an Idempotency-Key
 * (required on every money-moving command) replay harmlessly; opening an account or registering an
 * entity without a key would be done twice. The price of FULL here was one disk flush per request.
 * One row per (key id, nonce); the primary key makes a second claim a no-op that reports false.
 */
export class SqliteNonceRegistry implements NonceRegistry {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, number]>;
  private readonly purge: Database.Statement<[number, number]>;

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath);
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(NONCES_SCHEMA);
    this.insert = this.db.prepare(CLAIM_NONCE_SQL);
    this.purge = this.db.prepare(PURGE_NONCES_SQL);
  }

  async claim(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    return this.insert.run(keyId, nonce, expiresAt.getTime()).changes === 1;
  }

  async purgeExpired(now: Date, maxRows: number): Promise<number> {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError('maxRows must be a positive integer');
    return this.purge.run(now.getTime(), maxRows).changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

import type Database from 'better-sqlite3';
import {
  MAX_LISTED_CONSOLE_SESSIONS,
  type ConsoleRole,
  type ConsoleSession,
  type ConsoleSessionGrant,
  type ConsoleSessionStore,
} from '../../ports/console-session-store.js';
import { openSqliteDatabase } from './open-database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS console_sessions (
  session_id TEXT PRIMARY KEY,
  link_hash TEXT NOT NULL UNIQUE,
  secret_hash TEXT UNIQUE,
  entity_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  role TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  link_expires_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  opened_at_ms INTEGER,
  revoked_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at_ms);
`;

interface Row {
  session_id: string;
  link_hash: string;
  entity_id: string;
  key_id: string;
  role: string;
  csrf_token: string;
  created_at_ms: number;
  link_expires_at_ms: number;
  expires_at_ms: number;
  opened_at_ms: number | null;
  revoked_at_ms: number | null;
}

function sessionOf(row: Row): ConsoleSession {
  return {
    sessionId: row.session_id,
    linkHash: row.link_hash,
    entityId: row.entity_id,
    keyId: row.key_id,
    role: row.role as ConsoleRole,
    csrfToken: row.csrf_token,
    createdAtMs: row.created_at_ms,
    linkExpiresAtMs: row.link_expires_at_ms,
    expiresAtMs: row.expires_at_ms,
    openedAtMs: row.opened_at_ms,
    revokedAtMs: row.revoked_at_ms,
  };
}

/**
 * Console sessions in their own SQLite file (WAL), shared by the processes on one DATA_DIR. A handful of
 * rows per operator and day: the file stays small, and expired rows are purged.
 */
export class SqliteConsoleSessionStore implements ConsoleSessionStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath);
    this.db.exec(SCHEMA);
  }

  async grant(grant: ConsoleSessionGrant): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO console_sessions (session_id, link_hash, entity_id, key_id, role, csrf_token, created_at_ms,
           link_expires_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        grant.sessionId,
        grant.linkHash,
        grant.entityId,
        grant.keyId,
        grant.role,
        grant.csrfToken,
        grant.createdAtMs,
        grant.linkExpiresAtMs,
        grant.expiresAtMs,
      );
  }

  async open(linkHash: string, secretHash: string, nowMs: number): Promise<ConsoleSession | null> {
    // One conditional UPDATE: of two openings of one link, exactly one changes the row.
    const row = this.db
      .prepare(
        `UPDATE console_sessions SET secret_hash = ?, opened_at_ms = ?
         WHERE link_hash = ? AND secret_hash IS NULL AND revoked_at_ms IS NULL
           AND link_expires_at_ms > ? AND expires_at_ms > ? RETURNING *`,
      )
      .get(secretHash, nowMs, linkHash, nowMs, nowMs) as Row | undefined;
    return row ? sessionOf(row) : null;
  }

  async findBySecret(secretHash: string, nowMs: number): Promise<ConsoleSession | null> {
    const row = this.db
      .prepare('SELECT * FROM console_sessions WHERE secret_hash = ? AND revoked_at_ms IS NULL AND expires_at_ms > ?')
      .get(secretHash, nowMs) as Row | undefined;
    return row ? sessionOf(row) : null;
  }

  async revoke(sessionId: string, nowMs: number): Promise<boolean> {
    return (
      this.db
        .prepare(
          'UPDATE console_sessions SET revoked_at_ms = ? WHERE session_id = ? AND revoked_at_ms IS NULL AND expires_at_ms > ?',
        )
        .run(nowMs, sessionId, nowMs).changes === 1
    );
  }

  async listLive(nowMs: number, limit: number): Promise<ConsoleSession[]> {
    const rows = this.db
      .prepare(
        'SELECT * FROM console_sessions WHERE revoked_at_ms IS NULL AND expires_at_ms > ? ORDER BY created_at_ms DESC, session_id LIMIT ?',
      )
      .all(nowMs, Math.min(limit, MAX_LISTED_CONSOLE_SESSIONS)) as Row[];
    return rows.map(sessionOf);
  }

  async purgeExpired(nowMs: number, maxRows: number): Promise<number> {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError('maxRows must be a positive integer');
    return this.db
      .prepare(
        'DELETE FROM console_sessions WHERE session_id IN (SELECT session_id FROM console_sessions WHERE expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?)',
      )
      .run(nowMs, maxRows).changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * The nonces table, wherever the embedded nonces live (the event store's file, or a file of their own):
 * one row per (key id, nonce); the primary key makes a second claim, by any process, a no-op.
 */
export const NONCES_SCHEMA = `
CREATE TABLE IF NOT EXISTS nonces (
  key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (key_id, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_at_ms);
`;

export const CLAIM_NONCE_SQL = 'INSERT OR IGNORE INTO nonces (key_id, nonce, expires_at_ms) VALUES (?, ?, ?)';

/** Bounded: one purge never holds the write lock for long, whatever piled up. */
export const PURGE_NONCES_SQL = `DELETE FROM nonces WHERE (key_id, nonce) IN (
  SELECT key_id, nonce FROM nonces WHERE expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?)`;

/**
 * The operators' web console's sessions (docs/console.md). A session starts as a one-time link, granted
 * to a signed request of an operator (`ledger console login`); opening the link once, before it expires,
 * turns it into a session whose secret lives only in the browser's cookie. Only SHA-256 hashes of the
 * link token and of the cookie secret are stored: a copy of the store opens no console.
 *
 * `open` is atomic across service instances (one conditional update): a link opened twice, even at the
 * same moment through two instances, yields one session. A revoked or expired session is never answered.
 *
 * Adapters: `sqlite` (DATA_DIR/console-sessions.sqlite) and `mongo` (collection `console_sessions`), both
 * held to tests/contract/console-session-store.contract.ts.
 */
export type ConsoleRole = 'operator' | 'auditor';

export interface ConsoleSessionGrant {
  /** Public id of the session (named in the sessions page and by a revoke); not a credential. */
  readonly sessionId: string;
  /** sha256 hex of the one-time link token. */
  readonly linkHash: string;
  readonly entityId: string;
  /** The key that signed the grant: the API calls of the session are made as this principal. */
  readonly keyId: string;
  readonly role: ConsoleRole;
  /** The synchronizer token every state-changing form of the session must carry. */
  readonly csrfToken: string;
  readonly createdAtMs: number;
  readonly linkExpiresAtMs: number;
  readonly expiresAtMs: number;
}

export interface ConsoleSession extends ConsoleSessionGrant {
  readonly openedAtMs: number | null;
  readonly revokedAtMs: number | null;
}

export interface ConsoleSessionStore {
  readonly engine: 'sqlite' | 'mongo';
  grant(grant: ConsoleSessionGrant): Promise<void>;
  /**
   * Opens the link once: when it exists, is unopened, unrevoked and not expired at `nowMs`, the session's
   * secret hash is set and the session returned; otherwise null (and nothing changes).
   */
  open(linkHash: string, secretHash: string, nowMs: number): Promise<ConsoleSession | null>;
  /** The opened session of this secret, unless revoked or expired at `nowMs`. */
  findBySecret(secretHash: string, nowMs: number): Promise<ConsoleSession | null>;
  /** Revokes a session (a sign-out, or an operator's revoke); false when none was live. */
  revoke(sessionId: string, nowMs: number): Promise<boolean>;
  /** Live (unexpired, unrevoked) sessions and links, newest first, at most `limit`. */
  listLive(nowMs: number, limit: number): Promise<ConsoleSession[]>;
  /** Removes at most `maxRows` sessions that expired at or before `nowMs`; returns how many. */
  purgeExpired(nowMs: number, maxRows: number): Promise<number>;
  close(): Promise<void>;
}

/** Largest page of live sessions any store answers. */
export const MAX_LISTED_CONSOLE_SESSIONS = 200;

import { MongoClient, type Collection } from 'mongodb';
import {
  MAX_LISTED_CONSOLE_SESSIONS,
  type ConsoleSession,
  type ConsoleSessionGrant,
  type ConsoleSessionStore,
} from '../../ports/console-session-store.js';
import { databaseNameOf, durableCollection } from './mongo-concerns.js';
import { DEFAULT_NONCE_DATABASE_NAME } from './mongo-nonce-registry.js';

export const CONSOLE_SESSIONS_COLLECTION = 'console_sessions';
const SERVER_SELECTION_TIMEOUT_MS = 3_000;

interface SessionRecord extends ConsoleSession {
  _id: string;
  secretHash: string | null;
  /** For the TTL index: the server drops a session once it expired. */
  expiresAt: Date;
}

function sessionOf(record: SessionRecord): ConsoleSession {
  const { _id, secretHash, expiresAt, ...session } = record;
  void _id;
  void secretHash;
  void expiresAt;
  return session;
}

/**
 * Console sessions on MongoDB, shared by every instance: majority writes and reads (mongo-concerns.ts), a
 * unique index on the link hash and on the secret hash, and a TTL index that drops expired sessions. `open`
 * is one findOneAndUpdate conditioned on the link being unopened: exactly one opening wins.
 */
export class MongoConsoleSessionStore implements ConsoleSessionStore {
  readonly engine = 'mongo' as const;

  private constructor(
    private readonly client: MongoClient,
    private readonly sessions: Collection<SessionRecord>,
  ) {}

  static async connect(url: string): Promise<MongoConsoleSessionStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
    try {
      await client.connect();
      // The database the nonces use: the one named in the URL, else the default.
      const db = client.db(databaseNameOf(url) ?? DEFAULT_NONCE_DATABASE_NAME);
      const sessions = durableCollection<SessionRecord>(db, CONSOLE_SESSIONS_COLLECTION);
      await sessions.createIndexes([
        { key: { linkHash: 1 }, name: 'linkHash_1', unique: true },
        {
          key: { secretHash: 1 },
          name: 'secretHash_1',
          unique: true,
          partialFilterExpression: { secretHash: { $type: 'string' } },
        },
        { key: { createdAtMs: -1 }, name: 'createdAtMs_-1' },
        { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
      ]);
      return new MongoConsoleSessionStore(client, sessions);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  async grant(grant: ConsoleSessionGrant): Promise<void> {
    await this.sessions.insertOne({
      ...grant,
      _id: grant.sessionId,
      secretHash: null,
      openedAtMs: null,
      revokedAtMs: null,
      expiresAt: new Date(grant.expiresAtMs),
    });
  }

  async open(linkHash: string, secretHash: string, nowMs: number): Promise<ConsoleSession | null> {
    const record = await this.sessions.findOneAndUpdate(
      {
        linkHash,
        secretHash: null,
        revokedAtMs: null,
        linkExpiresAtMs: { $gt: nowMs },
        expiresAtMs: { $gt: nowMs },
      },
      { $set: { secretHash, openedAtMs: nowMs } },
      { returnDocument: 'after' },
    );
    return record ? sessionOf(record) : null;
  }

  async findBySecret(secretHash: string, nowMs: number): Promise<ConsoleSession | null> {
    const record = await this.sessions.findOne({ secretHash, revokedAtMs: null, expiresAtMs: { $gt: nowMs } });
    return record ? sessionOf(record) : null;
  }

  async revoke(sessionId: string, nowMs: number): Promise<boolean> {
    const result = await this.sessions.updateOne(
      { _id: sessionId, revokedAtMs: null, expiresAtMs: { $gt: nowMs } },
      { $set: { revokedAtMs: nowMs } },
    );
    return result.modifiedCount === 1;
  }

  async listLive(nowMs: number, limit: number): Promise<ConsoleSession[]> {
    const records = await this.sessions
      .find({ revokedAtMs: null, expiresAtMs: { $gt: nowMs } })
      .sort({ createdAtMs: -1, _id: 1 })
      .limit(Math.min(limit, MAX_LISTED_CONSOLE_SESSIONS))
      .toArray();
    return records.map(sessionOf);
  }

  async purgeExpired(nowMs: number, maxRows: number): Promise<number> {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError('maxRows must be a positive integer');
    const expired = await this.sessions
      .find({ expiresAtMs: { $lte: nowMs } }, { projection: { _id: 1 }, limit: maxRows })
      .toArray();
    if (expired.length === 0) return 0;
    const result = await this.sessions.deleteMany({ _id: { $in: expired.map((r) => r._id) } });
    return result.deletedCount;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

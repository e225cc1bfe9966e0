import { MongoClient, MongoNetworkError, MongoServerError, MongoServerSelectionError, type Collection } from 'mongodb';
import { NonceRegistryUnavailableError, type NonceRegistry } from '../../ports/nonce-registry.js';

export interface MongoNonceRegistryOptions {
  /** Defaults to the database named in the URL, else DEFAULT_NONCE_DATABASE_NAME. */
  readonly databaseName?: string;
  readonly serverSelectionTimeoutMs?: number;
}

export const DEFAULT_NONCE_DATABASE_NAME = 'ledger';
export const NONCE_COLLECTION = 'request_nonces';
const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3_000;
const DUPLICATE_KEY = 11000;

interface NonceRecord {
  keyId: string;
  nonce: string;
  expiresAt: Date;
}

/**
 * The nonce registry on MongoDB, shared by every service instance: a unique index on (keyId, nonce)
 * makes exactly one insert of a nonce succeed, and a TTL index on `expiresAt` has the server delete
 * expired rows by itself (its monitor runs about once a minute, so `purgeExpired` also exists for the
 * contract and for deployments that want a tighter bound).
 */
export class MongoNonceRegistry implements NonceRegistry {
  readonly engine = 'mongo' as const;

  private constructor(
    private readonly client: MongoClient,
    private readonly nonces: Collection<NonceRecord>,
  ) {}

  /** Connects, pings, and creates the two indexes (a no-op when they exist). */
  static async connect(url: string, options: MongoNonceRegistryOptions = {}): Promise<MongoNonceRegistry> {
    let client: MongoClient | undefined;
    try {
      client = new MongoClient(url, {
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
      });
      await client.connect();
      const db = client.db(options.databaseName ?? databaseNameOf(url) ?? DEFAULT_NONCE_DATABASE_NAME);
      const nonces = db.collection<NonceRecord>(NONCE_COLLECTION);
      await nonces.createIndexes([
        { key: { keyId: 1, nonce: 1 }, name: 'keyId_1_nonce_1', unique: true },
        { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
      ]);
      return new MongoNonceRegistry(client, nonces);
    } catch (error) {
      await client?.close().catch(() => undefined);
      throw new NonceRegistryUnavailableError(
        'MongoDB for the nonce registry is unreachable or refused the connection',
        { cause: error },
      );
    }
  }

  async claim(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.nonces.insertOne({ keyId, nonce, expiresAt });
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw unavailable(error);
    }
  }

  async purgeExpired(now: Date, maxRows: number): Promise<number> {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError('maxRows must be a positive integer');
    try {
      // deleteMany has no limit: pick a bounded page of ids first.
      const expired = await this.nonces
        .find({ expiresAt: { $lte: now } }, { projection: { _id: 1 }, limit: maxRows })
        .toArray();
      if (expired.length === 0) return 0;
      const result = await this.nonces.deleteMany({
        _id: { $in: expired.map((row) => row._id) },
        expiresAt: { $lte: now },
      });
      return result.deletedCount;
    } catch (error) {
      throw unavailable(error);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function unavailable(error: unknown): unknown {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) {
    return new NonceRegistryUnavailableError('MongoDB for the nonce registry is unavailable', { cause: error });
  }
  return error;
}

/** The database named in the URL's path, if any. */
function databaseNameOf(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/i.exec(url)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}

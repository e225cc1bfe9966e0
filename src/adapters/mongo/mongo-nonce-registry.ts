import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import {
  NonceRegistryRefusedError,
  NonceRegistryUnavailableError,
  type NonceRegistry,
} from '../../ports/nonce-registry.js';
import { durableCollection } from './mongo-concerns.js';
import { classifyMongoError, describeOutcome } from './mongo-errors.js';

export interface MongoNonceRegistryOptions {
  /** Defaults to the database named in the URL, else DEFAULT_NONCE_DATABASE_NAME. */
  readonly databaseName?: string;
  readonly serverSelectionTimeoutMs?: number;
}

export const DEFAULT_NONCE_DATABASE_NAME = 'ledger';
export const NONCE_COLLECTION = 'request_nonces';
/** Read-backs of a claim whose insert the server did not confirm, before the request is refused. */
export const MAX_CLAIM_READ_BACKS = 2;
const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3_000;
const DUPLICATE_KEY = 11000;

interface NonceRecord {
  keyId: string;
  nonce: string;
  expiresAt: Date;
  /** Which claim inserted the row: a claim whose insert went unconfirmed recognises its own row by it. */
  claimId?: string;
}

/**
 * The nonce registry on MongoDB, shared by every service instance: a unique index on (keyId, nonce)
 * makes exactly one insert of a nonce succeed, and a TTL index on `expiresAt` has the server delete
 * expired rows by itself (its monitor runs about once a minute, so `purgeExpired` also exists for the
 * contract and for deployments that want a tighter bound).
 *
 * Claims are written with majority write concern and read back with majority read concern on the primary
 * (mongo-concerns.ts): a claim acknowledged and then rolled back by a failover would let a replay through.
 * An insert the server did not confirm is read back by its claim id; still unknown, the request is
 * refused (NonceRegistryUnavailableError), never accepted.
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
      const nonces = durableCollection<NonceRecord>(db, NONCE_COLLECTION);
      await nonces.createIndexes([
        { key: { keyId: 1, nonce: 1 }, name: 'keyId_1_nonce_1', unique: true },
        { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
      ]);
      return new MongoNonceRegistry(client, nonces);
    } catch (error) {
      await client?.close().catch(() => undefined);
      if (classifyMongoError(error, 'read') === 'refused') {
        throw new NonceRegistryRefusedError('MongoDB for the nonce registry refused the connection', { cause: error });
      }
      throw new NonceRegistryUnavailableError('MongoDB for the nonce registry is unreachable', { cause: error });
    }
  }

  async claim(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const claimId = randomUUID();
    let unconfirmed: unknown;
    for (let attempt = 0; attempt <= MAX_CLAIM_READ_BACKS; attempt += 1) {
      try {
        if (attempt > 0) {
          // The earlier insert may have landed: whose row is there says whether this claim won.
          const row = await this.nonces.findOne({ keyId, nonce }, { projection: { claimId: 1 } });
          if (row) return row.claimId === claimId;
        }
        await this.nonces.insertOne({ keyId, nonce, expiresAt, claimId });
        return true;
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
          // Another claim's row, or this claim's own unconfirmed insert: the next read-back tells which.
          if (attempt === 0) return false;
          unconfirmed = error;
          continue;
        }
        const outcome = classifyMongoError(error, attempt === 0 ? 'write' : 'read');
        if (outcome !== 'unknown' && !(attempt > 0 && outcome === 'unavailable')) throw nonceErrorOf(error, 'write');
        unconfirmed = error;
      }
    }
    throw new NonceRegistryUnavailableError('MongoDB for the nonce registry did not confirm a nonce claim', {
      cause: unconfirmed,
    });
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
      throw nonceErrorOf(error, 'write');
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The port's error for a driver error: unknown outcomes refuse the request like an outage does. */
export function nonceErrorOf(error: unknown, kind: 'read' | 'write'): unknown {
  const outcome = classifyMongoError(error, kind);
  if (outcome === undefined) return error;
  const message = `MongoDB for the nonce registry ${describeOutcome(outcome)}`;
  if (outcome === 'refused') return new NonceRegistryRefusedError(message, { cause: error });
  return new NonceRegistryUnavailableError(message, { cause: error });
}

/** The database named in the URL's path, if any. */
function databaseNameOf(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/i.exec(url)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}

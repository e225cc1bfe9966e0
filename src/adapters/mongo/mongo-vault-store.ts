import { Binary, MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import type { StoredDataKey, StoredSecret, VaultKeyStore } from '../../ports/secret-vault.js';
import { databaseNameOf, durableCollection } from './mongo-concerns.js';

export const VAULT_DATA_KEYS_COLLECTION = 'vault_data_keys';
export const VAULT_SECRETS_COLLECTION = 'vault_secrets';
const DEFAULT_DATABASE_NAME = 'ledger';
const SERVER_SELECTION_TIMEOUT_MS = 3_000;
const DUPLICATE_KEY = 11_000;

interface DataKeyRecord {
  _id: string;
  wrappedKey: Binary | null;
  kekVersion: number;
  createdAtMs: number;
  erasedAtMs: number | null;
  eraseReason: string | null;
}

interface SecretRecord {
  _id: string;
  subjectId: string;
  purpose: string;
  nonce: Binary;
  sealed: Binary;
  createdAtMs: number;
}

const bytes = (value: Binary): Buffer => Buffer.from(value.buffer);

const toDataKey = (record: DataKeyRecord): StoredDataKey => ({
  subjectId: record._id,
  wrappedKey: record.wrappedKey === null ? null : bytes(record.wrappedKey),
  kekVersion: record.kekVersion,
  createdAtMs: record.createdAtMs,
  erasedAtMs: record.erasedAtMs,
});

/**
 * The vault's store on MongoDB: two collections of the production database, with the ledger's durable
 * concerns (majority, journaled; mongo-concerns.ts). Every write is one document, atomic on its own: a
 * first key is an upsert with $setOnInsert, an erasure an upsert that unsets the key, a rewrap a
 * conditional update on the KEK version. (An erased key may survive in the oplog and in backups until they
 * roll over: docs/contracts.md says how long.)
 */
export class MongoVaultStore implements VaultKeyStore {
  readonly engine = 'mongo' as const;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  static async connect(url: string, databaseName?: string): Promise<MongoVaultStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
    try {
      await client.connect();
      const store = new MongoVaultStore(
        client,
        client.db(databaseName ?? databaseNameOf(url) ?? DEFAULT_DATABASE_NAME),
      );
      await store.dataKeys().createIndexes([{ key: { kekVersion: 1 }, name: 'kekVersion' }]);
      await store.secrets().createIndexes([{ key: { subjectId: 1 }, name: 'subjectId' }]);
      return store;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  private dataKeys(): Collection<DataKeyRecord> {
    return durableCollection<DataKeyRecord>(this.db, VAULT_DATA_KEYS_COLLECTION);
  }

  private secrets(): Collection<SecretRecord> {
    return durableCollection<SecretRecord>(this.db, VAULT_SECRETS_COLLECTION);
  }

  async getDataKey(subjectId: string): Promise<StoredDataKey | null> {
    const record = await this.dataKeys().findOne({ _id: subjectId });
    return record ? toDataKey(record) : null;
  }

  async createDataKey(key: StoredDataKey): Promise<StoredDataKey> {
    try {
      await this.dataKeys().updateOne(
        { _id: key.subjectId },
        {
          $setOnInsert: {
            wrappedKey: key.wrappedKey === null ? null : new Binary(key.wrappedKey),
            kekVersion: key.kekVersion,
            createdAtMs: key.createdAtMs,
            erasedAtMs: null,
            eraseReason: null,
          },
        },
        { upsert: true },
      );
    } catch (error) {
      // Two upserts of one new _id at once: one inserts, the other may fail on the key; the first's stands.
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
    }
    const stored = await this.getDataKey(key.subjectId);
    if (stored === null) throw new Error('the data key just stored is not there');
    return stored;
  }

  async eraseDataKey(subjectId: string, reason: string, nowMs: number): Promise<void> {
    const update = [
      {
        $set: {
          wrappedKey: null,
          kekVersion: { $ifNull: ['$kekVersion', 0] },
          createdAtMs: { $ifNull: ['$createdAtMs', nowMs] },
          erasedAtMs: { $ifNull: ['$erasedAtMs', nowMs] },
          eraseReason: { $ifNull: ['$eraseReason', reason] },
        },
      },
    ];
    try {
      await this.dataKeys().updateOne({ _id: subjectId }, update, { upsert: true });
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      await this.dataKeys().updateOne({ _id: subjectId }, update);
    }
  }

  async dataKeysNotUnder(kekVersion: number, limit: number): Promise<StoredDataKey[]> {
    const records = await this.dataKeys()
      .find({ wrappedKey: { $ne: null }, kekVersion: { $ne: kekVersion } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return records.map(toDataKey);
  }

  countDataKeysNotUnder(kekVersion: number): Promise<number> {
    return this.dataKeys().countDocuments({ wrappedKey: { $ne: null }, kekVersion: { $ne: kekVersion } });
  }

  async rewrapDataKey(subjectId: string, fromVersion: number, wrappedKey: Buffer, toVersion: number): Promise<boolean> {
    const result = await this.dataKeys().updateOne(
      { _id: subjectId, kekVersion: fromVersion, wrappedKey: { $ne: null } },
      { $set: { wrappedKey: new Binary(wrappedKey), kekVersion: toVersion } },
    );
    return result.modifiedCount === 1;
  }

  async putSecret(secret: StoredSecret): Promise<void> {
    await this.secrets().insertOne({
      _id: secret.reference,
      subjectId: secret.subjectId,
      purpose: secret.purpose,
      nonce: new Binary(secret.nonce),
      sealed: new Binary(secret.sealed),
      createdAtMs: secret.createdAtMs,
    });
  }

  async getSecret(reference: string): Promise<StoredSecret | null> {
    const record = await this.secrets().findOne({ _id: reference });
    return record
      ? {
          reference: record._id,
          subjectId: record.subjectId,
          purpose: record.purpose,
          nonce: bytes(record.nonce),
          sealed: bytes(record.sealed),
          createdAtMs: record.createdAtMs,
        }
      : null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

import { randomUUID } from 'node:crypto';
import { Binary, MongoClient } from 'mongodb';
import { describe } from 'vitest';
import { MongoVaultStore, VAULT_SECRETS_COLLECTION } from '../../src/adapters/mongo/mongo-vault-store.js';
import { secretVaultContract } from './secret-vault.contract.js';

/**
 * The secret vault contract against MongoDB. Runs when MONGODB_URL is set, each store in a database of its
 * own; otherwise reported as skipped, without connecting.
 */
const url = process.env['MONGODB_URL'];
const databases = new WeakMap<object, string>();

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  secretVaultContract(
    'mongo',
    async () => {
      const name = `ledger_vault_${randomUUID().slice(0, 8)}`;
      const store = await MongoVaultStore.connect(url!, name);
      databases.set(store, name);
      return store;
    },
    async (store, secret) => {
      const client = await MongoClient.connect(url!);
      try {
        await client
          .db(databases.get(store))
          .collection<{ _id: string }>(VAULT_SECRETS_COLLECTION)
          .updateOne(
            { _id: secret.reference },
            { $set: { nonce: new Binary(secret.nonce), sealed: new Binary(secret.sealed) } },
          );
      } finally {
        await client.close();
      }
    },
  );
});

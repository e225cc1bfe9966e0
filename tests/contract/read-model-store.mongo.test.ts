import { describe } from 'vitest';
import { MongoReadModelStore } from '../../src/adapters/mongo/mongo-read-model-store.js';
import { readModelStoreContract } from './read-model-store.contract.js';

/**
 * The read-model store contract against MongoDB. Runs when MONGODB_URL is set (see docker-compose.yml,
 * e.g. mongodb://localhost:27017/ledger?replicaSet=rs0; docs/production.md); otherwise reported as
 * skipped, without connecting.
 */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  readModelStoreContract('mongo', () => MongoReadModelStore.connect(url!));
});

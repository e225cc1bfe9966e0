import { describe } from 'vitest';
import { MongoConsoleSessionStore } from '../../src/adapters/mongo/mongo-console-session-store.js';
import { consoleSessionStoreContract } from './console-session-store.contract.js';

/** The console session store contract against MongoDB: runs when MONGODB_URL is set, else reported as skipped. */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  consoleSessionStoreContract('mongo', () => MongoConsoleSessionStore.connect(url!));
});

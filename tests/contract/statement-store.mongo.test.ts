import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { MongoStatementStore } from '../../src/adapters/mongo/mongo-statement-store.js';
import { statementStoreContract } from './statement-store.contract.js';

/**
 * The statement store contract against MongoDB. Runs when MONGODB_URL is set, each run in a database of
 * its own; otherwise reported as skipped, without connecting.
 */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  statementStoreContract('mongo', () => MongoStatementStore.connect(url!, `ledger_recon_${randomUUID().slice(0, 8)}`));
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { readModelStagingContract } from './read-model-staging.contract.js';

/**
 * The staging contract against MongoDB: collections under the staging prefix, renamed over the live ones.
 * Runs when MONGODB_URL is set (see read-model-store.mongo.test.ts); otherwise reported as skipped.
 */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  readModelStagingContract('mongo', () => ({
    dataDir: mkdtempSync(join(tmpdir(), 'ledger-staging-')),
    eventStoreUrl: undefined,
    mongoUrl: url,
    accountingTimeZone: 'Asia/Shanghai',
  }));
});

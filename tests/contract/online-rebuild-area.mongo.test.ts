import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { onlineRebuildAreaContract } from './online-rebuild-area.contract.js';

/**
 * The online rebuild area against MongoDB: collections under `_online.<projection>.`, renamed over the
 * live ones. Runs when MONGODB_URL is set (see read-model-store.mongo.test.ts); otherwise skipped.
 */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  onlineRebuildAreaContract('mongo', () => ({
    dataDir: mkdtempSync(join(tmpdir(), 'ledger-online-area-')),
    mongoUrl: url,
  }));
});

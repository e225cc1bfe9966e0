import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { readModelStoreContract } from './read-model-store.contract.js';

readModelStoreContract(
  'sqlite (embedded)',
  async () => new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-rm-')), 'read-models.db')),
);

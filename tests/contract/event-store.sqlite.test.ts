import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract(
  'sqlite (embedded)',
  async () => new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-es-')), 'events.db')),
);

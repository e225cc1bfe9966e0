import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

// Every open is another connection to the same file, as another process's would be.
const file = join(mkdtempSync(join(tmpdir(), 'ledger-es-')), 'events.db');
eventStoreContract('sqlite (embedded)', async () => new SqliteEventStore(file));

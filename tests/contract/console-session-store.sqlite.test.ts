import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteConsoleSessionStore } from '../../src/adapters/sqlite/sqlite-console-session-store.js';
import { consoleSessionStoreContract } from './console-session-store.contract.js';

consoleSessionStoreContract(
  'sqlite',
  async () =>
    new SqliteConsoleSessionStore(join(mkdtempSync(join(tmpdir(), 'ledger-console-')), 'console-sessions.sqlite')),
);

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStatementStore } from '../../src/adapters/sqlite/sqlite-statement-store.js';
import { statementStoreContract } from './statement-store.contract.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'ledger-recon-')), 'recon.sqlite');

statementStoreContract('sqlite (embedded)', async () => new SqliteStatementStore(freshFile()));

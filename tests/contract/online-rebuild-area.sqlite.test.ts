import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onlineRebuildAreaContract } from './online-rebuild-area.contract.js';

onlineRebuildAreaContract('sqlite (embedded)', () => ({
  dataDir: mkdtempSync(join(tmpdir(), 'ledger-online-area-')),
  mongoUrl: undefined,
}));

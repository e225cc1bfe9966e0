import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../../src/adapters/http/server.js';
import { startLedgerService, type LedgerService } from '../../src/adapters/ledger-service.js';
import { loadConfig } from '../../src/config.js';

export interface TestLedger {
  readonly service: LedgerService;
  readonly app: FastifyInstance;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A whole ledger on the embedded engines in a fresh temporary directory (or the one given). */
export async function startTestLedger(dataDir: string = mkdtempSync(join(tmpdir(), 'ledger-test-')), env: Record<string, string> = {}): Promise<TestLedger> {
  const config = loadConfig({ DATA_DIR: dataDir, READ_YOUR_WRITES_TIMEOUT_MS: '5000', ...env });
  const service = await startLedgerService(config);
  const app = await buildHttpServer(service, { logger: process.env['TEST_LOG'] ? { level: 'error' } : false });
  return {
    service,
    app,
    dataDir,
    async close() {
      await app.close();
      await service.close();
    },
  };
}

export async function openWallet(app: FastifyInstance, currency = 'CNY', ownerId = 'u-1001'): Promise<{ accountId: string; position: string }> {
  const response = await app.inject({ method: 'POST', url: '/v1/accounts', payload: { ownerId, type: 'wallet', currency } });
  if (response.statusCode !== 201) throw new Error(`opening a wallet failed: ${response.statusCode} ${response.body}`);
  return response.json();
}

let keySeq = 0;
export function freshKey(): string {
  keySeq += 1;
  return `key-${process.pid}-${Date.now()}-${keySeq}`;
}

export async function recharge(app: FastifyInstance, accountId: string, amount: string, key = freshKey(), currency = 'CNY') {
  return app.inject({
    method: 'POST',
    url: '/v1/recharges',
    headers: { 'idempotency-key': key },
    payload: { accountId, amount, currency, channel: 'sim-bank' },
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionWorkerHost } from '../../src/adapters/projection-worker-host.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { READ_MODELS_FILE } from '../../src/adapters/storage.js';
import { projectionsFor } from '../../src/adapters/ledger-service.js';
import { BALANCES_COLLECTION } from '../../src/projections/balances.js';
import { join } from 'node:path';
import { openWallet, recharge, startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * The projections in a worker thread (PROJECTIONS_THREAD=worker, the default): read-your-writes stays
 * exact, a worker that dies is restarted and readiness says so meanwhile, and a graceful stop writes what
 * the worker applied and ends it.
 */
describe('projections in a worker thread', () => {
  let ledger: TestLedger;
  let host: ProjectionWorkerHost;

  beforeAll(async () => {
    ledger = await startTestLedger();
    expect(ledger.service.projections).toBeInstanceOf(ProjectionWorkerHost);
    host = ledger.service.projections as ProjectionWorkerHost;
  });
  afterAll(async () => {
    await ledger.close();
  });

  async function rechargeAndRead(accountId: string, amount: string): Promise<string> {
    const paid = await recharge(ledger.app, accountId, amount);
    expect(paid.statusCode).toBe(201);
    const read = await ledger.inject({
      method: 'GET',
      url: `/v1/accounts/${accountId}?minPosition=${paid.json<{ position: string }>().position}`,
    });
    expect(read.statusCode).toBe(200);
    return read.json<{ balance: string }>().balance;
  }

  it('answers minPosition with the write it names, every time', async () => {
    const wallet = await openWallet(ledger.app);
    for (let i = 1; i <= 5; i += 1) expect(await rechargeAndRead(wallet.accountId, '1.00')).toBe(`${i}.00`);
  });

  it('restarts a worker that dies, and readiness reports it until it is back', async () => {
    const wallet = await openWallet(ledger.app);
    expect(await rechargeAndRead(wallet.accountId, '2.00')).toBe('2.00');
    await host.killWorker();
    const down = await ledger.app.inject({ method: 'GET', url: '/health/ready' });
    expect(down.statusCode).toBe(503);
    expect(down.json<{ checks: Record<string, string> }>().checks['projections']).toBe('restarting');
    // Written while the worker is down: applied by the new one, nothing skipped.
    const paid = await recharge(ledger.app, wallet.accountId, '3.00');
    expect(paid.statusCode).toBe(201);
    const deadline = Date.now() + 20_000;
    while (!host.healthy && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await ledger.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    expect(await rechargeAndRead(wallet.accountId, '4.00')).toBe('9.00');
  });

  it('a graceful stop writes everything committed before it, then ends the worker', async () => {
    const wallet = await openWallet(ledger.app);
    const paid = await recharge(ledger.app, wallet.accountId, '5.00');
    await ledger.service.projections.stop();
    expect(host.healthy).toBe(false);
    // Read through a connection of its own: the worker's writes are in the file, not in some memory.
    const readModels = new SqliteReadModelStore(join(ledger.dataDir, READ_MODELS_FILE));
    try {
      await readModels.ensureCollections(projectionsFor('Asia/Shanghai').flatMap((p) => p.collections));
      const stored = await readModels.get<{ balanceMinor: string }>(BALANCES_COLLECTION, wallet.accountId);
      expect(paid.statusCode).toBe(201);
      expect(stored?.data.balanceMinor).toBe('500');
    } finally {
      await readModels.close();
    }
  });
});

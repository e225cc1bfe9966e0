import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { projectionsFor } from '../../src/adapters/ledger-service.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../../src/adapters/storage.js';
import { BALANCES_COLLECTION } from '../../src/projections/balances.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { loadConfig } from '../../src/config.js';
import { rebuildProjections } from '../../scripts/rebuild.js';
import { openWallet, recharge, startTestLedger, type TestLedger } from '../support/test-ledger.js';
import { join } from 'node:path';
import type { ReadModelStore } from '../../src/ports/read-model-store.js';

/** Every read model, for the default accounting time zone (the one these runs configure). */
const PROJECTIONS = projectionsFor('Asia/Shanghai');

/**
 * Every projection's checkpoint, by name. A live runner's stops at the last event its projections read; a
 * catch-up (a graceful stop's) and a rebuild end it at the head they read through.
 */
async function checkpointsOf(store: ReadModelStore): Promise<Record<string, string>> {
  const checkpoints: Record<string, string> = {};
  for (const projection of PROJECTIONS)
    checkpoints[projection.name] = String(await store.getCheckpoint(projection.name));
  return checkpoints;
}

/** Every document of every projection, in a canonical order: two equal dumps mean identical read models. */
async function dumpReadModels(store: ReadModelStore): Promise<string> {
  const lines: string[] = [];
  for (const projection of PROJECTIONS) {
    for (const { name } of projection.collections) {
      let after: string | undefined;
      for (;;) {
        const page = await store.find(name, { limit: 1000, ...(after ? { after } : {}) });
        for (const doc of page.items) lines.push(`${name} ${doc.id} ${doc.position} ${JSON.stringify(doc.data)}`);
        if (!page.nextCursor) break;
        after = page.nextCursor;
      }
    }
  }
  return lines.join('\n');
}

describe('durability and rebuild on the embedded engines', () => {
  it('keeps an acknowledged recharge across a restart', async () => {
    const first = await startTestLedger();
    const wallet = await openWallet(first.app);
    const response = await recharge(first.app, wallet.accountId, '42.10');
    expect(response.statusCode).toBe(201);
    await first.close();

    const second = await startTestLedger(first.dataDir);
    const read = await second.inject({
      method: 'GET',
      url: `/v1/accounts/${wallet.accountId}?minPosition=${response.json().position}`,
    });
    expect(read.json()).toMatchObject({ balance: '42.10', available: '42.10', frozen: '0.00' });
    await second.close();
  });

  it('rebuilds read models from event zero to byte-identical documents', async () => {
    const ledger = await startTestLedger();
    let lastPosition = '0';
    for (let i = 0; i < 5; i += 1) {
      const wallet = await openWallet(ledger.app, i % 2 === 0 ? 'CNY' : 'USD');
      for (let j = 1; j <= 4; j += 1) {
        const r = await recharge(
          ledger.app,
          wallet.accountId,
          `${i + 1}.${j}0`,
          undefined,
          i % 2 === 0 ? 'CNY' : 'USD',
        );
        lastPosition = r.json().position;
      }
    }
    await waitForEveryProjection(ledger, BigInt(lastPosition));
    const before = await dumpReadModels(ledger.service.readModels);
    await ledger.close();
    // A store from before projection versions: none recorded.
    const file = new Database(join(ledger.dataDir, READ_MODELS_FILE));
    file.exec('DELETE FROM rm__versions');
    file.close();

    const rebuilt = await rebuildProjections(loadConfig({ DATA_DIR: ledger.dataDir }));
    const readModels = new SqliteReadModelStore(join(ledger.dataDir, READ_MODELS_FILE));
    await readModels.ensureCollections(PROJECTIONS.flatMap((p) => p.collections));
    const after = await dumpReadModels(readModels);
    const checkpoints = await checkpointsOf(readModels);
    // Built by this code: each projection's version recorded, so the next start rebuilds nothing online.
    const versions = await readModels.getProjectionVersions();
    await readModels.close();
    for (const projection of PROJECTIONS) expect(versions.get(projection.name)).toBe(projection.version);
    expect(after).toBe(before);
    expect(before).toContain(BALANCES_COLLECTION);
    // Every checkpoint at the position the rebuild read through: at or after the last recharge.
    expect(BigInt(String(rebuilt.lastPosition))).toBeGreaterThanOrEqual(BigInt(lastPosition));
    for (const projection of PROJECTIONS) expect(checkpoints[projection.name]).toBe(String(rebuilt.lastPosition));
  });

  it('changes nothing when the same range of the log is applied twice', async () => {
    const ledger = await startTestLedger();
    const wallet = await openWallet(ledger.app);
    const r = await recharge(ledger.app, wallet.accountId, '7.00');
    await waitForEveryProjection(ledger, BigInt(r.json().position));
    const before = await dumpReadModels(ledger.service.readModels);
    await ledger.close();
    const readModelsAtStop = new SqliteReadModelStore(join(ledger.dataDir, READ_MODELS_FILE));
    const checkpointsBefore = await checkpointsOf(readModelsAtStop);
    await readModelsAtStop.close();

    // A runner under another name has no checkpoint, so it replays the whole log over the existing
    // documents: each document's stored position must make every replayed event a no-op.
    const eventStore = new SqliteEventStore(join(ledger.dataDir, EVENTS_FILE));
    const readModels = new SqliteReadModelStore(join(ledger.dataDir, READ_MODELS_FILE));
    const replayer = new ProjectionRunner(
      eventStore,
      readModels,
      PROJECTIONS.map((p) => ({ ...p, name: `${p.name}-replay` })),
    );
    expect(await replayer.catchUp()).toBeGreaterThan(0);
    expect(await dumpReadModels(readModels)).toBe(before);
    expect(await checkpointsOf(readModels)).toEqual(checkpointsBefore);
    await eventStore.close();
    await readModels.close();
  });
});

/** Every projection, not only balances: each writes its own checkpoint, in the worker thread's own time. */
async function waitForEveryProjection(ledger: TestLedger, position: bigint): Promise<void> {
  for (const projection of PROJECTIONS) {
    await ledger.service.projections.waitForPosition(projection.name, position, 5_000);
  }
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { onlineRebuildAreaFor, onlineBuildFile } from '../../src/adapters/online-rebuild-area.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { EVENTS_FILE, READ_MODELS_FILE } from '../../src/adapters/storage.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { projectionsFor } from '../../src/projections/all-projections.js';
import { BALANCES_COLLECTION, balancesProjection } from '../../src/projections/balances.js';
import { LeasedProjections, leaseTimingFor } from '../../src/projections/leased-projections.js';
import { OnlineRebuilds } from '../../src/projections/online-rebuild.js';
import { UNCHANGED, type Projection } from '../../src/projections/projection.js';
import { builtAside, readModelContents } from '../support/read-model-contents.js';
import { openWallet, recharge, startTestLedger } from '../support/test-ledger.js';

/**
 * Projection versions and crashes mid-rebuild, on the stores a service left (src/projections/
 * online-rebuild.ts): a projection whose version changed is rebuilt online on start and its new version
 * recorded; a rebuild that fails keeps the live model and drops its build at once; a build a crash left
 * is dropped on the next start, the live model untouched.
 */

/** Balances as a changed projection builds them: every document marks the version that built it. */
const balancesV2: Projection = {
  ...balancesProjection,
  version: 2,
  handle: (event, envelope) =>
    balancesProjection.handle(event, envelope).map((change) => ({
      ...change,
      apply: (previous) => {
        const next = change.apply(previous);
        return next === UNCHANGED || next === null ? next : { ...next, builtBy: 2 };
      },
    })),
};

describe('projection versions, and crashes mid-rebuild', () => {
  let dataDir: string;
  let eventStore: SqliteEventStore;
  let readModels: SqliteReadModelStore;
  const running: LeasedProjections[] = [];

  beforeAll(async () => {
    // A ledger with a history, stopped: its stores, as a restart finds them.
    const ledger = await startTestLedger();
    dataDir = ledger.dataDir;
    for (let i = 0; i < 2; i += 1) {
      const wallet = await openWallet(ledger.app);
      for (let n = 0; n < 3; n += 1)
        expect((await recharge(ledger.app, wallet.accountId, '1.00')).statusCode).toBe(201);
    }
    await ledger.close();
    eventStore = new SqliteEventStore(join(dataDir, EVENTS_FILE));
    readModels = new SqliteReadModelStore(join(dataDir, READ_MODELS_FILE));
    await readModels.ensureCollections(projectionsFor('Asia/Shanghai').flatMap((p) => p.collections));
  });
  afterEach(async () => {
    for (const live of running.splice(0)) await live.stop();
  });
  afterAll(async () => {
    await readModels.close();
    await eventStore.close();
  });

  /** The service's projections with `balances` as given, started as a service starts them. */
  async function start(balances: Projection): Promise<LeasedProjections> {
    const projections = projectionsFor('Asia/Shanghai').map((p) => (p.name === 'balances' ? balances : p));
    const live = new LeasedProjections(eventStore, readModels, projections, {
      holder: `test-${running.length}`,
      timing: leaseTimingFor(10_000),
      rebuildArea: onlineRebuildAreaFor({ dataDir }, readModels),
    });
    running.push(live);
    await live.start();
    return live;
  }

  it('a projection whose version changed is rebuilt online on start, and its new version recorded', async () => {
    // The service recorded version 1 of every projection when it built them from event zero.
    expect((await readModels.getProjectionVersions()).get('balances')).toBe(1);
    const before = await readModelContents(readModels, [balancesProjection]);
    expect(Object.values(before[BALANCES_COLLECTION]!).some((doc) => 'builtBy' in doc)).toBe(false);

    const live = await start(balancesV2);
    expect(live.rebuildStatus).toMatchObject({ reason: 'version', projections: ['balances'] });
    await live.rebuildsIdle();
    expect(live.rebuildStatus).toMatchObject({ phase: 'done', switched: ['balances'], error: null });
    expect((await readModels.getProjectionVersions()).get('balances')).toBe(2);
    const after = await readModelContents(readModels, [balancesV2]);
    expect(Object.keys(after[BALANCES_COLLECTION]!)).toEqual(Object.keys(before[BALANCES_COLLECTION]!));
    const aside = await builtAside(eventStore, [balancesV2]);
    try {
      expect(after).toEqual(await readModelContents(aside, [balancesV2]));
    } finally {
      await aside.close();
    }
    await live.stop();

    // Started again with the same version: nothing to rebuild.
    const again = await start(balancesV2);
    expect(again.rebuildStatus).toBeNull();
  });

  it('a rebuild that fails mid-build keeps the live model and drops its build at once', async () => {
    const before = await readModelContents(readModels, [balancesV2]);
    const checkpoint = await readModels.getCheckpoint('balances');
    let reads = 0;
    // The log fails on the build's third page (one event per page).
    const failing = new Proxy(eventStore, {
      get(target, key) {
        if (key === 'readAll')
          return async (...args: Parameters<EventStore['readAll']>) => {
            reads += 1;
            if (reads === 3) throw new Error('the disk went away');
            return target.readAll(...args);
          };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const rebuilds = new OnlineRebuilds(
      failing,
      readModels,
      [balancesV2],
      onlineRebuildAreaFor({ dataDir }, readModels),
      { whilePaused: () => Promise.reject(new Error('a failed build never switches')) },
      { limits: { maxBatchEvents: 1 }, onError: () => undefined },
    );
    rebuilds.start(['balances'], 'operator');
    await rebuilds.idle();
    expect(rebuilds.status).toMatchObject({ phase: 'failed', error: 'the disk went away', switched: [] });
    expect(existsSync(onlineBuildFile(join(dataDir, READ_MODELS_FILE), 'balances'))).toBe(false);
    expect(await readModelContents(readModels, [balancesV2])).toEqual(before);
    expect(await readModels.getCheckpoint('balances')).toBe(checkpoint);
  });

  it('a build a crash left behind is dropped on the next start, and the live model serves as it was', async () => {
    const before = await readModelContents(readModels, [balancesV2]);
    // What a service killed mid-build leaves: a partial build beside the live file, never switched in.
    const area = onlineRebuildAreaFor({ dataDir }, readModels);
    const build = await area.openBuild('balances');
    await build.ensureCollections(balancesV2.collections);
    await build.writeDocuments([
      { collection: BALANCES_COLLECTION, id: 'partial', data: { half: true }, position: 1n },
    ]);
    await build.close();
    const leftOver = onlineBuildFile(join(dataDir, READ_MODELS_FILE), 'balances');
    expect(existsSync(leftOver)).toBe(true);

    const live = await start(balancesV2);
    expect(existsSync(leftOver)).toBe(false);
    expect(live.rebuildStatus).toBeNull();
    expect(await readModels.get(BALANCES_COLLECTION, 'partial')).toBeNull();
    expect(await readModelContents(readModels, [balancesV2])).toEqual(before);
  });

  it('refuses a second rebuild while one runs, and a rebuild on an instance without the lease', async () => {
    const live = await start(balancesV2);
    await live.rebuildsIdle();
    await live.rebuild(['balances']);
    await expect(live.rebuild('all')).rejects.toMatchObject({ code: 'rebuild_in_progress' });
    await live.rebuildsIdle();
    expect(live.rebuildStatus).toMatchObject({ phase: 'done', reason: 'operator' });
    const standby = await start(balancesV2);
    expect(standby.holding).toBe(false);
    await expect(standby.rebuild(['balances'])).rejects.toMatchObject({ code: 'projections_not_held' });
  });
});

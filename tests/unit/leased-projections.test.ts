import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { entitiesProjection } from '../../src/projections/entities.js';
import { LeasedProjections, PROJECTIONS_LEASE, leaseTimingFor } from '../../src/projections/leased-projections.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { userRegistered } from '../support/events.js';
import { canonicalDump } from '../support/read-model-documents.js';

const TTL_MS = 600;
const projections = [entitiesProjection];

/**
 * The lease loop on real stores: two instances, each with its own connections to one embedded event store
 * and one read-model file, as two processes have. Short real TTLs: the expiry is judged by the store's
 * clock, which a fake clock could not move.
 */
describe('LeasedProjections', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  function fleet() {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-leased-'));
    const errors: unknown[] = [];
    const instance = (name: string) => {
      const eventStore = new SqliteEventStore(join(dataDir, 'events.sqlite'), { livePollIntervalMs: 5 });
      const readModels = new SqliteReadModelStore(join(dataDir, 'read-models.sqlite'));
      const changes: Array<bigint | null> = [];
      const live = new LeasedProjections(eventStore, readModels, projections, {
        holder: `${name}-${randomUUID().slice(0, 8)}`,
        timing: leaseTimingFor(TTL_MS),
        runner: { flushIntervalMs: 5 },
        onError: (error) => errors.push(error),
        onLeaseChange: (grant) => changes.push(grant?.token ?? null),
      });
      closers.push(async () => {
        await live.stop();
        await Promise.all([eventStore.close(), readModels.close()]);
      });
      return { live, eventStore, readModels, changes };
    };
    const register = async (eventStore: SqliteEventStore): Promise<bigint> => {
      const entityId = `u-${randomUUID()}`;
      return (await eventStore.appendToStream(`entity-${entityId}`, [userRegistered(entityId)], 'no_stream')).position;
    };
    /** Two instances, started one after the other: the first takes the lease. */
    const startPair = async () => {
      const a = instance('a');
      const b = instance('b');
      await a.live.start();
      await b.live.start();
      return { a, b };
    };
    return { dataDir, errors, startPair, register };
  }

  async function eventually(condition: () => boolean, withinMs: number): Promise<number> {
    const startedMs = performance.now();
    while (!condition()) {
      if (performance.now() - startedMs > withinMs) throw new Error(`not within ${withinMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return performance.now() - startedMs;
  }

  it('runs in one instance; the other answers read-your-writes exactly from the shared checkpoints', async () => {
    const { startPair, register } = fleet();
    const { a, b } = await startPair();
    expect([a.live.holding, b.live.holding]).toEqual([true, false]);
    expect(b.live.healthy).toBe(true);
    for (let i = 0; i < 5; i += 1) {
      const position = await register(b.eventStore);
      await b.live.waitForPosition(entitiesProjection.name, position, 5_000);
      const checkpoint = await b.readModels.getCheckpoint(entitiesProjection.name);
      expect(checkpoint !== 'start' && checkpoint >= position).toBe(true);
    }
    // Held for several TTLs by renewals alone: the standby never got it.
    await new Promise((resolve) => setTimeout(resolve, 2 * TTL_MS));
    expect([a.live.holding, b.live.holding]).toEqual([true, false]);
    expect(b.changes).toEqual([]);
  });

  it('stops at once when the lease is taken from it, and the other takes over with a larger token', async () => {
    const { dataDir, startPair, register } = fleet();
    const { a, b } = await startPair();
    // What a rebuild does under the exclusive lock: every lease freed. The holder hears it at its next renewal.
    const tool = new SqliteReadModelStore(join(dataDir, 'read-models.sqlite'));
    await tool.freeAllLeases();
    await tool.close();
    await eventually(() => !a.live.holding || b.live.holding, TTL_MS);
    await eventually(() => a.live.holding !== b.live.holding, TTL_MS);
    const holder = a.live.holding ? a : b;
    expect(holder.changes.at(-1)).toBeGreaterThan(1n);
    const position = await register(a.eventStore);
    await a.live.waitForPosition(entitiesProjection.name, position, 5_000);
    await b.live.waitForPosition(entitiesProjection.name, position, 5_000);
  });

  it('stops its projections within the TTL when it cannot renew, and the other takes over', async () => {
    const { startPair, register } = fleet();
    const { a, b } = await startPair();
    expect(a.live.holding).toBe(true);
    await register(b.eventStore);
    // Its read-model store stops answering (closed under it): renewals fail.
    await a.readModels.close();
    const stoppedAfterMs = await eventually(() => !a.live.holding, 2 * TTL_MS);
    expect(stoppedAfterMs).toBeLessThanOrEqual(TTL_MS + 100);
    expect(a.changes.at(-1)).toBeNull();
    await eventually(() => b.live.holding, 2 * TTL_MS);
    const position = await register(b.eventStore);
    await b.live.waitForPosition(entitiesProjection.name, position, 5_000);
  });

  it('releases on a graceful stop: the other takes over at its next poll, not a TTL later', async () => {
    const { dataDir, startPair, register } = fleet();
    const { a, b } = await startPair();
    for (let i = 0; i < 3; i += 1) await register(a.eventStore);
    await a.live.stop();
    expect(a.changes).toEqual([1n, null]);
    const tookMs = await eventually(() => b.live.holding, TTL_MS);
    expect(tookMs).toBeLessThan(leaseTimingFor(TTL_MS).takeOverPollMs + 100);
    const last = await register(a.eventStore);
    await b.live.waitForPosition(entitiesProjection.name, last, 5_000);
    await b.live.stop();
    const check = new SqliteReadModelStore(join(dataDir, 'read-models.sqlite'));
    const fresh = new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-leased-fresh-')), 'rm.sqlite'));
    closers.push(() => Promise.all([check.close(), fresh.close()]).then(() => undefined));
    expect(await check.listLeases()).toMatchObject([{ name: PROJECTIONS_LEASE, holder: null, token: 2n }]);
    await check.ensureCollections(entitiesProjection.collections);
    await new ProjectionRunner(b.eventStore, fresh, projections).catchUp();
    expect(await canonicalDump(check, projections)).toBe(await canonicalDump(fresh, projections));
  });
});

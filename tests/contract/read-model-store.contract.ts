import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidQueryError,
  LeaseLostError,
  ReadModelStoreUnavailableError,
  ReadModelWriteUnknownError,
  type DocumentWrite,
  type ReadModelStore,
} from '../../src/ports/read-model-store.js';
import { compareCodePoints } from '../../src/domain/reconciliation/match-order.js';
import { FaultyReadModelStore } from './faulty-read-model-store.js';

/**
 * The read-model store contract: what every adapter must do. Run against the embedded SQLite adapter
 * always, and against MongoDB when MONGODB_URL is set. Names are unique per run so the suite can share a
 * server with other data.
 */
export function readModelStoreContract(adapterName: string, open: () => Promise<ReadModelStore>): void {
  describe(`read-model store contract: ${adapterName}`, () => {
    let store: ReadModelStore;
    const run = randomUUID().replaceAll('-', '').slice(0, 12);
    const statements = `stmt_${run}`;
    const balances = `bal_${run}`;
    const projection = `proj-${run}`;

    beforeAll(async () => {
      store = await open();
      await store.ensureCollections([
        { name: statements, indexes: ['accountId', 'seq', 'day', 'flag'] },
        { name: balances, indexes: ['currency'] },
      ]);
    });
    afterAll(async () => {
      await store.close();
    });

    it('creates collections idempotently', async () => {
      await expect(store.ensureCollections([{ name: balances, indexes: ['currency'] }])).resolves.toBeUndefined();
    });

    it('gets what was written, with the position it came from', async () => {
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'a1', data: { currency: 'CNY', balanceMinor: '100' }, position: 5n }],
        5n,
      );
      const doc = await store.get(balances, 'a1');
      expect(doc).toEqual({ id: 'a1', position: 5n, data: { currency: 'CNY', balanceMinor: '100' } });
      expect(await store.get(balances, 'missing')).toBeNull();
    });

    it('ignores writes not newer than the stored position (replays change nothing)', async () => {
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'a2', data: { currency: 'CNY', v: 2 }, position: 20n }],
        20n,
      );
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'a2', data: { currency: 'CNY', v: 1 }, position: 10n }],
        10n,
      );
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'a2', data: { currency: 'CNY', v: 99 }, position: 20n }],
        20n,
      );
      expect((await store.get(balances, 'a2'))?.data).toEqual({ currency: 'CNY', v: 2 });
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'a2', data: { currency: 'CNY', v: 3 }, position: 21n }],
        21n,
      );
      expect((await store.get(balances, 'a2'))?.data).toEqual({ currency: 'CNY', v: 3 });
    });

    it('keeps checkpoints per projection and never moves them backwards', async () => {
      const other = `other-${run}`;
      expect(await store.getCheckpoint(other)).toBe('start');
      await store.applyBatch(other, [], 42n);
      await store.applyBatch(other, [], 7n);
      expect(await store.getCheckpoint(other)).toBe(42n);
    });

    it('removes a document with a tombstone that older writes cannot revive', async () => {
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'gone', data: { currency: 'USD' }, position: 30n }],
        30n,
      );
      await store.applyBatch(projection, [{ collection: balances, id: 'gone', data: null, position: 31n }], 31n);
      expect(await store.get(balances, 'gone')).toBeNull();
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'gone', data: { currency: 'USD' }, position: 30n }],
        31n,
      );
      expect(await store.get(balances, 'gone')).toBeNull();
    });

    it('keeps positions above 2^53 exact: a write one above the stored one wins, an equal one does not', async () => {
      const high = 2n ** 53n + 1n;
      await store.applyBatch(projection, [{ collection: balances, id: 'big', data: { v: 1 }, position: high }], high);
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'big', data: { v: 2 }, position: high + 1n }],
        high + 1n,
      );
      await store.applyBatch(
        projection,
        [{ collection: balances, id: 'big', data: { v: 3 }, position: high + 1n }],
        high + 1n,
      );
      expect(await store.get(balances, 'big')).toEqual({ id: 'big', position: high + 1n, data: { v: 2 } });
      expect((await store.getMany(balances, ['big'])).get('big')?.position).toBe(high + 1n);
      expect(await store.getCheckpoint(projection)).toBe(high + 1n);
    });

    describe('batches that fail half-way (through the fault wrapper)', () => {
      const writesAt = (collection: string, from: bigint, version: number): DocumentWrite[] =>
        Array.from({ length: 10 }, (_, i) => ({
          collection,
          id: `doc-${i}`,
          data: { currency: 'CNY', version, i },
          position: from + BigInt(i),
        }));

      it('leaves the checkpoint behind the documents, and a retry of the batch as one clean apply', async () => {
        const faulty = new FaultyReadModelStore(store);
        const name = `half-${randomUUID().slice(0, 8)}`;
        const collection = `half_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
        await faulty.ensureCollections([{ name: collection, indexes: ['currency'] }]);
        await faulty.applyBatch(name, writesAt(collection, 100n, 1), 109n);
        const batch = writesAt(collection, 200n, 2);
        faulty.failNextBatches('half-written');
        await expect(faulty.applyBatch(name, batch, 209n)).rejects.toBeInstanceOf(ReadModelWriteUnknownError);
        // Never ahead: the checkpoint still says the batch is to be applied.
        expect(await faulty.getCheckpoint(name)).toBe(109n);
        await faulty.applyBatch(name, batch, 209n);
        const stored = await faulty.getMany(
          collection,
          batch.map((write) => write.id),
        );
        expect([...stored.values()].map((doc) => [doc.id, doc.position, doc.data['version']]).sort()).toEqual(
          batch.map((write) => [write.id, write.position, 2]).sort(),
        );
        expect(await faulty.getCheckpoint(name)).toBe(209n);
      });

      it('takes a batch again after an unconfirmed or refused write, changing nothing twice', async () => {
        const faulty = new FaultyReadModelStore(store);
        const name = `unconfirmed-${randomUUID().slice(0, 8)}`;
        const collection = `unc_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
        await faulty.ensureCollections([{ name: collection, indexes: ['currency'] }]);
        const batch = writesAt(collection, 300n, 1);
        faulty.failNextBatches('unavailable', 'written-unconfirmed');
        await expect(faulty.applyBatch(name, batch, 309n)).rejects.toBeInstanceOf(ReadModelStoreUnavailableError);
        expect(await faulty.getCheckpoint(name)).toBe('start');
        await expect(faulty.applyBatch(name, batch, 309n)).rejects.toBeInstanceOf(ReadModelWriteUnknownError);
        await faulty.applyBatch(name, batch, 309n);
        expect(await faulty.getCheckpoint(name)).toBe(309n);
        expect((await faulty.get(collection, 'doc-9'))?.position).toBe(309n);
      });
    });

    it('gets many documents by id', async () => {
      const found = await store.getMany(balances, ['a1', 'a2', 'nope']);
      expect([...found.keys()].sort()).toEqual(['a1', 'a2']);
    });

    it('finds by indexed fields with a range, ordering and cursor pagination', async () => {
      const writes = Array.from({ length: 25 }, (_, i) => ({
        collection: statements,
        id: `line-${String(i).padStart(3, '0')}`,
        data: {
          accountId: i % 2 === 0 ? 'acc-even' : 'acc-odd',
          seq: i,
          day: `2026-11-${String(10 + (i % 5)).padStart(2, '0')}`,
          flag: i % 3 === 0,
        },
        position: BigInt(100 + i),
      }));
      await store.applyBatch(projection, writes, 124n);

      const seen: number[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const page = await store.find(statements, {
          where: { accountId: 'acc-even' },
          orderBy: 'seq',
          limit: 4,
          ...(after ? { after } : {}),
        });
        seen.push(...page.items.map((d) => d.data['seq'] as number));
        if (!page.nextCursor) break;
        after = page.nextCursor;
      }
      expect(seen).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);

      const desc = await store.find(statements, {
        where: { accountId: 'acc-odd' },
        orderBy: 'seq',
        direction: 'desc',
        limit: 3,
      });
      expect(desc.items.map((d) => d.data['seq'])).toEqual([23, 21, 19]);
      const descNext = await store.find(statements, {
        where: { accountId: 'acc-odd' },
        orderBy: 'seq',
        direction: 'desc',
        limit: 3,
        after: desc.nextCursor!,
      });
      expect(descNext.items.map((d) => d.data['seq'])).toEqual([17, 15, 13]);

      const ranged = await store.find(statements, {
        range: { field: 'day', gte: '2026-11-11', lt: '2026-11-13' },
        orderBy: 'seq',
        limit: 100,
      });
      expect(ranged.items.map((d) => d.data['seq'])).toEqual([1, 2, 6, 7, 11, 12, 16, 17, 21, 22]);
      expect(ranged.nextCursor).toBeNull();

      const flagged = await store.find(statements, { where: { flag: true, accountId: 'acc-odd' }, limit: 100 });
      expect(flagged.items.map((d) => d.data['seq'])).toEqual([3, 9, 15, 21]);
    });

    it('orders and ranges strings by code point, as match-order.ts compares (the channel-orders match key)', async () => {
      const keyed = `ord_${run}`;
      await store.ensureCollections([{ name: keyed, indexes: ['key'] }]);
      // A separator below every character of an order number, "|", characters above U+FFFF and U+FFFD:
      // UTF-16 code-unit order would put the emoji before U+FFFD, code-point order after it.
      const keys = [
        'd|A\u0001',
        'd|A\u0001r1',
        'd|AB\u0001',
        'd|A|\u0001',
        'd|\u{1F600}\u0001',
        'd|\uFFFD\u0001',
        'e|A\u0001',
      ];
      await store.applyBatch(
        projection,
        keys.map((key, i) => ({ collection: keyed, id: `k${i}`, data: { key }, position: BigInt(500 + i) })),
        506n,
      );
      const read: string[] = [];
      let after: string | undefined;
      do {
        const page = await store.find(keyed, {
          range: { field: 'key', gte: 'd|', lt: 'd}' },
          orderBy: 'key',
          limit: 2,
          ...(after ? { after } : {}),
        });
        read.push(...page.items.map((d) => d.data['key'] as string));
        after = page.nextCursor ?? undefined;
      } while (after);
      expect(read).toEqual(keys.slice(0, 6).sort(compareCodePoints));
      expect(read).toEqual([
        'd|A\u0001',
        'd|A\u0001r1',
        'd|AB\u0001',
        'd|A|\u0001',
        'd|\uFFFD\u0001',
        'd|\u{1F600}\u0001',
      ]);
    });

    it('a field indexed with its documents answers as any index: latest versions, no tombstones, in order', async () => {
      const swept = `swp_${run}`;
      await expect(
        store.ensureCollections([{ name: `bad_${run}`, indexes: ['key'], documentIndexes: ['other'] }]),
      ).rejects.toBeInstanceOf(InvalidQueryError);
      await store.ensureCollections([{ name: swept, indexes: ['key', 'n'], documentIndexes: ['key'] }]);
      const write = (i: number, n: number, position: bigint, removed = false): DocumentWrite => ({
        collection: swept,
        id: `s${i}`,
        data: removed ? null : { key: `k${String(i).padStart(2, '0')}`, n },
        position,
      });
      await store.applyBatch(
        projection,
        Array.from({ length: 12 }, (_, i) => write(i, 0, BigInt(700 + i))),
        711n,
      );
      // A later version of one, a removal of another, an older write that must not win.
      await store.applyBatch(projection, [write(3, 1, 720n), write(5, 0, 721n, true), write(7, 9, 701n)], 721n);
      const read: [string, number][] = [];
      let after: string | undefined;
      do {
        const page = await store.find(swept, {
          range: { field: 'key', gte: 'k02', lt: 'k10' },
          orderBy: 'key',
          limit: 3,
          ...(after ? { after } : {}),
        });
        read.push(...page.items.map((d): [string, number] => [d.data['key'] as string, d.data['n'] as number]));
        after = page.nextCursor ?? undefined;
      } while (after);
      expect(read).toEqual([
        ['k02', 0],
        ['k03', 1],
        ['k04', 0],
        ['k06', 0],
        ['k07', 0],
        ['k08', 0],
        ['k09', 0],
      ]);
      // Declared again without it (or with it again): the same answers.
      await store.ensureCollections([{ name: swept, indexes: ['key', 'n'] }]);
      const plain = await store.find(swept, { range: { field: 'key', gte: 'k02', lt: 'k10' }, limit: 100 });
      expect(plain.items.map((d) => d.data['key'])).toEqual(read.map(([key]) => key));
    });

    it('refuses queries on fields that are not indexed, bad limits and bad cursors', async () => {
      await expect(store.find(statements, { where: { memo: 'x' }, limit: 10 })).rejects.toBeInstanceOf(
        InvalidQueryError,
      );
      await expect(store.find(statements, { limit: 0 })).rejects.toBeInstanceOf(InvalidQueryError);
      await expect(store.find(statements, { limit: 10, after: 'garbage!' })).rejects.toBeInstanceOf(InvalidQueryError);
      await expect(store.find(`unknown_${run}`, { limit: 10 })).rejects.toBeInstanceOf(InvalidQueryError);
    });

    it('records the version each projection was built with, replacing what was recorded', async () => {
      const versioned = `versioned-${run}`;
      expect((await store.getProjectionVersions()).has(versioned)).toBe(false);
      await store.recordProjectionVersion(versioned, 1);
      await store.recordProjectionVersion(`${versioned}-other`, 4);
      await store.recordProjectionVersion(versioned, 2);
      const versions = await store.getProjectionVersions();
      expect(versions.get(versioned)).toBe(2);
      expect(versions.get(`${versioned}-other`)).toBe(4);
      await expect(store.recordProjectionVersion(versioned, 0)).rejects.toBeInstanceOf(InvalidQueryError);
      await expect(store.recordProjectionVersion(versioned, 1.5)).rejects.toBeInstanceOf(InvalidQueryError);
    });

    it('resets a projection: its documents and checkpoint are gone', async () => {
      const p = `reset-${run}`;
      const c = `reset_${run}`;
      await store.ensureCollections([{ name: c, indexes: [] }]);
      await store.applyBatch(p, [{ collection: c, id: 'x', data: { a: 1 }, position: 3n }], 3n);
      await store.resetProjection(p, [c]);
      expect(await store.get(c, 'x')).toBeNull();
      expect(await store.getCheckpoint(p)).toBe('start');
      await store.applyBatch(p, [{ collection: c, id: 'x', data: { a: 2 }, position: 1n }], 1n);
      expect((await store.get(c, 'x'))?.data).toEqual({ a: 2 });
    });

    describe('leases', () => {
      const TTL_MS = 300;
      const lease = (label: string) => `lease-${label}-${run}`;
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

      it('is held by one holder at a time, also when several ask at once', async () => {
        const name = lease('exclusive');
        const attempts = await Promise.all(
          ['a', 'b', 'c', 'd'].map((holder) => store.acquireLease(name, holder, 60_000)),
        );
        const granted = attempts.filter((grant) => grant !== null);
        expect(granted).toHaveLength(1);
        expect(granted[0]).toMatchObject({ name, token: 1n });
        const others = ['a', 'b', 'c', 'd'].filter((holder) => holder !== granted[0]!.holder);
        for (const holder of others) expect(await store.acquireLease(name, holder, 60_000)).toBeNull();
        // Its own holder may take it again (a restarted worker of the same instance): a new token, which
        // fences off what the previous one would still write.
        const again = (await store.acquireLease(name, granted[0]!.holder, 60_000))!;
        expect(again.token).toBe(2n);
        await expect(
          store.applyBatch(`p-${name}`, [], 1n, { lease: name, token: granted[0]!.token }),
        ).rejects.toBeInstanceOf(LeaseLostError);
        const [state] = (await store.listLeases()).filter((l) => l.name === name);
        expect(state).toMatchObject({ name, holder: granted[0]!.holder, token: 2n });
        expect(state!.expiresAtMs - state!.nowMs).toBeGreaterThan(50_000);
        expect(state!.expiresAtMs - state!.nowMs).toBeLessThanOrEqual(60_000);
      });

      it('is renewed by its holder only, and renewal keeps it past its first expiry', async () => {
        const name = lease('renew');
        const grant = (await store.acquireLease(name, 'a', TTL_MS))!;
        expect(await store.renewLease({ ...grant, holder: 'b' }, TTL_MS)).toBeNull();
        expect(await store.renewLease({ ...grant, token: grant.token + 1n }, TTL_MS)).toBeNull();
        for (let i = 0; i < 4; i += 1) {
          await sleep(TTL_MS / 3);
          const renewed = await store.renewLease(grant, TTL_MS);
          expect(renewed).toMatchObject({ name, holder: 'a', token: grant.token });
        }
        // Held for more than a TTL in all: nobody else could take it.
        expect(await store.acquireLease(name, 'b', TTL_MS)).toBeNull();
      });

      it('is taken over once expired, with a larger token; the old holder can no longer renew it', async () => {
        const name = lease('takeover');
        const first = (await store.acquireLease(name, 'a', TTL_MS))!;
        expect(await store.acquireLease(name, 'b', TTL_MS)).toBeNull();
        await sleep(TTL_MS + 100);
        const second = await store.acquireLease(name, 'b', TTL_MS);
        expect(second).toMatchObject({ name, holder: 'b' });
        expect(second!.token).toBeGreaterThan(first.token);
        expect(await store.renewLease(first, TTL_MS)).toBeNull();
        await store.releaseLease(first); // a stale release changes nothing
        expect((await store.listLeases()).find((l) => l.name === name)).toMatchObject({ holder: 'b' });
      });

      it('is free at once when released; tokens keep growing across releases and holders', async () => {
        const name = lease('release');
        const tokens: bigint[] = [];
        for (const holder of ['a', 'b', 'a', 'c']) {
          const grant = (await store.acquireLease(name, holder, 60_000))!;
          expect(grant).not.toBeNull();
          tokens.push(grant.token);
          await store.releaseLease(grant);
          expect((await store.listLeases()).find((l) => l.name === name)).toMatchObject({ holder: null });
        }
        expect(tokens).toEqual([1n, 2n, 3n, 4n]);
        const held = (await store.acquireLease(name, 'd', 60_000))!;
        await store.freeAllLeases();
        expect(await store.renewLease(held, 60_000)).toBeNull();
        expect((await store.acquireLease(name, 'e', 60_000))?.token).toBe(6n);
      });

      it("refuses a stale holder's fenced batch: no document, no checkpoint written", async () => {
        const name = lease('fence');
        const p = `fenced-${run}`;
        const old = (await store.acquireLease(name, 'old', TTL_MS))!;
        const write = (v: number, position: bigint): DocumentWrite => ({
          collection: balances,
          id: `fenced-${run}`,
          data: { currency: 'CNY', v },
          position,
        });
        await store.applyBatch(p, [write(1, 100n)], 100n, { lease: name, token: old.token });
        await sleep(TTL_MS + 100);
        // Expired but not taken over: the token is still the current one, so the write is no one else's.
        await store.applyBatch(p, [write(2, 101n)], 101n, { lease: name, token: old.token });
        const taker = (await store.acquireLease(name, 'new', TTL_MS))!;
        const refused = store.applyBatch(p, [write(3, 200n)], 200n, { lease: name, token: old.token });
        await expect(refused).rejects.toBeInstanceOf(LeaseLostError);
        await expect(refused).rejects.toMatchObject({ currentToken: taker.token });
        expect((await store.get(balances, `fenced-${run}`))?.data).toEqual({ currency: 'CNY', v: 2 });
        expect(await store.getCheckpoint(p)).toBe(101n);
        await store.applyBatch(p, [write(4, 201n)], 201n, { lease: name, token: taker.token });
        expect(await store.getCheckpoint(p)).toBe(201n);
        await store.releaseLease(taker);
        // Released: even its last holder's token fences nothing any more.
        await expect(
          store.applyBatch(p, [write(5, 202n)], 202n, { lease: name, token: taker.token }),
        ).rejects.toBeInstanceOf(LeaseLostError);
        await expect(store.applyBatch(p, [], 203n, { lease: lease('never-taken'), token: 1n })).rejects.toBeInstanceOf(
          LeaseLostError,
        );
        expect(await store.getCheckpoint(p)).toBe(201n);
      });

      it('refuses TTLs out of bounds', async () => {
        await expect(store.acquireLease(lease('ttl'), 'a', 0)).rejects.toBeInstanceOf(InvalidQueryError);
        await expect(store.acquireLease(lease('ttl'), 'a', 1.5)).rejects.toBeInstanceOf(InvalidQueryError);
      });
    });
  });
}

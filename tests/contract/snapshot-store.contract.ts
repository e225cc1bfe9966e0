import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/domain/shared/json.js';
import {
  InvalidSnapshotError,
  MAX_SNAPSHOT_BYTES,
  type SnapshotStore,
  type StoredSnapshot,
} from '../../src/ports/snapshot-store.js';

/**
 * The snapshot store contract (src/ports/snapshot-store.ts): what every adapter must do. Run against the
 * embedded SQLite adapter always, and against EventStoreDB when EVENTSTORE_URL is set. Stream ids are
 * unique per run, so the suite can share a server with other data.
 */
export function snapshotStoreContract(adapterName: string, open: () => Promise<SnapshotStore>): void {
  describe(`snapshot store contract: ${adapterName}`, () => {
    let store: SnapshotStore;
    const stream = () => `account-${randomUUID()}`;

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('answers undefined for a stream without a snapshot', async () => {
      expect(await store.load(stream())).toBeUndefined();
    });

    it('hands a snapshot back exactly as saved: bigints, nested JSON, text of every kind', async () => {
      const saved = aSnapshot(stream(), 41n, {
        exists: true,
        balanceMinor: '123456789012345678901',
        nested: { list: [1, 2.5, -3, null, true, 'x'], empty: {}, none: [] },
        text: 'Zürich 支付 "quoted" \\ \u0000 \u2028 😀',
      });
      await store.save(saved);
      expect(await store.load(saved.streamId)).toEqual(saved);
    });

    it('keeps revisions above 2^53 exact', async () => {
      const saved = aSnapshot(stream(), 2n ** 60n + 7n);
      await store.save(saved);
      expect((await store.load(saved.streamId))?.revision).toBe(2n ** 60n + 7n);
    });

    it('answers the latest of saves one after another, and never goes back to a lower revision', async () => {
      const id = stream();
      await store.save(aSnapshot(id, 999n, { n: 1 }));
      await store.save(aSnapshot(id, 1_999n, { n: 2 }));
      expect(await store.load(id)).toEqual(aSnapshot(id, 1_999n, { n: 2 }));
      await store.save(aSnapshot(id, 999n, { n: 3 }));
      expect(await store.load(id)).toEqual(aSnapshot(id, 1_999n, { n: 2 }));
    });

    it('replaces a snapshot saved again at the same revision (a new schema version of the same state)', async () => {
      const id = stream();
      await store.save(aSnapshot(id, 5n, { v: 1 }, 1));
      await store.save(aSnapshot(id, 5n, { v: 2 }, 2));
      expect(await store.load(id)).toEqual(aSnapshot(id, 5n, { v: 2 }, 2));
    });

    it("keeps streams apart, ids that are prefixes of each other's too", async () => {
      const base = stream();
      await store.save(aSnapshot(base, 1n, { of: 'base' }));
      await store.save(aSnapshot(`${base}0`, 2n, { of: 'longer' }));
      expect((await store.load(base))?.state).toEqual({ of: 'base' });
      expect((await store.load(`${base}0`))?.state).toEqual({ of: 'longer' });
      expect(await store.load(`${base}1`)).toBeUndefined();
    });

    it('stores a snapshot near the size limit, and refuses one over it, keeping what it held', async () => {
      const id = stream();
      const near = aSnapshot(id, 10n, { blob: 'x'.repeat(MAX_SNAPSHOT_BYTES - 2_000) });
      await store.save(near);
      expect(await store.load(id)).toEqual(near);
      await expect(store.save(aSnapshot(id, 20n, { blob: 'x'.repeat(MAX_SNAPSHOT_BYTES) }))).rejects.toBeInstanceOf(
        InvalidSnapshotError,
      );
      expect((await store.load(id))?.revision).toBe(10n);
    });

    it('refuses a malformed snapshot and stores nothing', async () => {
      const id = stream();
      const bad = (overrides: Partial<StoredSnapshot>) => store.save({ ...aSnapshot(id, 3n), ...overrides });
      await expect(bad({ eventHash: 'not-a-hash' })).rejects.toBeInstanceOf(InvalidSnapshotError);
      await expect(bad({ revision: -1n })).rejects.toBeInstanceOf(InvalidSnapshotError);
      await expect(bad({ streamId: 'No Stream' })).rejects.toBeInstanceOf(InvalidSnapshotError);
      await expect(bad({ schemaVersion: 0 })).rejects.toBeInstanceOf(InvalidSnapshotError);
      expect(await store.load(id)).toBeUndefined();
    });

    it('ends every save of many at once with the latest revision or one of them, each whole', async () => {
      const id = stream();
      const revisions = Array.from({ length: 10 }, (_, i) => BigInt((i + 1) * 1_000 - 1));
      await Promise.all(revisions.map((revision) => store.save(aSnapshot(id, revision, { at: String(revision) }))));
      const loaded = await store.load(id);
      expect(loaded).toBeDefined();
      expect(loaded).toEqual(aSnapshot(id, loaded!.revision, { at: String(loaded!.revision) }));
    });
  });
}

/** A well-formed snapshot; the store judges none of its content, so the hashes need only look right. */
export function aSnapshot(
  streamId: string,
  revision: bigint,
  state: JsonObject = { exists: false },
  schemaVersion = 1,
): StoredSnapshot {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  return {
    streamId,
    revision,
    eventHash: hash(`${streamId}@${revision}`),
    schema: 'account-state',
    schemaVersion,
    state,
    digest: hash(JSON.stringify(state)),
  };
}

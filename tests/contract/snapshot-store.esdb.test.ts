import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { EsdbSnapshotStore, SNAPSHOTS_KEPT, snapshotStreamOf } from '../../src/adapters/esdb/esdb-snapshot-store.js';
import { UnreadableSnapshotError } from '../../src/ports/snapshot-store.js';
import { aSnapshot, snapshotStoreContract } from './snapshot-store.contract.js';

/**
 * The snapshot store contract against EventStoreDB. Runs when EVENTSTORE_URL is set (see docker-compose.yml,
 * e.g. esdb://localhost:2113?tls=false, whose default user may write `$` streams); otherwise reported as
 * skipped, without connecting.
 */
const url = process.env['EVENTSTORE_URL'];

describe.skipIf(!url)('EventStoreDB (EVENTSTORE_URL)', () => {
  snapshotStoreContract('esdb', async () => EsdbSnapshotStore.connect(url!));

  it(`keeps the companion stream to its last ${SNAPSHOTS_KEPT} snapshots`, async () => {
    const store = EsdbSnapshotStore.connect(url!);
    const client = EventStoreDBClient.connectionString(url!);
    try {
      const streamId = `account-${randomUUID()}`;
      await store.save(aSnapshot(streamId, 1n));
      await store.save(aSnapshot(streamId, 2n));
      const { metadata } = await client.getStreamMetadata(snapshotStreamOf(streamId));
      expect(metadata?.maxCount).toBe(SNAPSHOTS_KEPT);
    } finally {
      await store.close();
      await client.dispose();
    }
  });

  it('answers a companion stream whose last event is not a snapshot with an error', async () => {
    const store = EsdbSnapshotStore.connect(url!);
    const client = EventStoreDBClient.connectionString(url!);
    try {
      const streamId = `account-${randomUUID()}`;
      await client.appendToStream(snapshotStreamOf(streamId), jsonEvent({ type: 'SomethingElse', data: { a: 1 } }));
      await expect(store.load(streamId)).rejects.toBeInstanceOf(UnreadableSnapshotError);
    } finally {
      await store.close();
      await client.dispose();
    }
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { encodeEvent } from '../../src/domain/event-catalogue.js';
import { entitiesProjection } from '../../src/projections/entities.js';
import { PositionWaitTimeoutError, ProjectionRunner } from '../../src/projections/projection-runner.js';
import { anEvent, uniqueStream, userRegistered } from '../support/events.js';

/**
 * Waiting for a position that is no ledger event (the log's head is often an idempotency record, which no
 * read model applies): the wait ends once nothing the projection applies lies before it.
 */
describe('waiting for a position', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-wait-'));
  const store = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  const readModels = new SqliteReadModelStore(join(dataDir, 'read-models.sqlite'));
  const runner = new ProjectionRunner(store, readModels, [entitiesProjection]);
  afterAll(async () => {
    await store.close();
    await readModels.close();
  });

  it('returns at a non-ledger head once the ledger events before it are applied, and not before', async () => {
    const entityId = 'u-00000000-0000-4000-8000-000000000001';
    await store.appendToStream(`entity-${entityId}`, [userRegistered(entityId)], 'no_stream');
    const record = await store.appendToStream(uniqueStream('idempotency'), [anEvent()], 'no_stream');
    // The entity's registration is not applied yet: waiting for the head must wait for it.
    await expect(runner.waitForPosition('entities', record.position, 100)).rejects.toBeInstanceOf(
      PositionWaitTimeoutError,
    );
    await runner.catchUp();
    // A catch-up ends at the head it read first: nothing the projection reads lies before it.
    expect(await readModels.getCheckpoint('entities')).toBe(record.position);
    await runner.waitForPosition('entities', record.position, 100);
    // Beyond the head there is nothing yet to have applied: it still waits.
    await expect(runner.waitForPosition('entities', record.position + 1n, 100)).rejects.toBeInstanceOf(
      PositionWaitTimeoutError,
    );
  });

  it('returns at an event of a type the projection does not read, its checkpoint left before it', async () => {
    // The live runner reads the log for the entities' event types only: its checkpoint stops at the last
    // of them, and an account's event after it is nothing for entities to apply.
    const live = new ProjectionRunner(store, readModels, [entitiesProjection], { flushIntervalMs: 1 });
    await live.start();
    try {
      const entityId = 'u-00000000-0000-4000-8000-000000000002';
      const entity = await store.appendToStream(`entity-${entityId}`, [userRegistered(entityId)], 'no_stream');
      await live.waitForPosition('entities', entity.position, 5_000);
      const statusChanged = {
        ...anEvent(),
        ...encodeEvent({
          type: 'AccountStatusChanged',
          data: { accountId: '1015550123456782', status: 'frozen', reason: 'test' },
        }),
      };
      const account = await store.appendToStream(uniqueStream('account'), [statusChanged], 'no_stream');
      await live.waitForPosition('entities', account.position, 1_000);
      expect(await readModels.getCheckpoint('entities')).toBe(entity.position);
      expect(await readModels.get('entities', entityId)).not.toBeNull();
    } finally {
      await live.stop();
    }
  });
});

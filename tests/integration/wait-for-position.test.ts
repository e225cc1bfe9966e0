import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
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
    const checkpoint = await readModels.getCheckpoint('entities');
    expect(checkpoint !== 'start' && checkpoint < record.position).toBe(true);
    await runner.waitForPosition('entities', record.position, 100);
    // Beyond the head there is nothing yet to have applied: it still waits.
    await expect(runner.waitForPosition('entities', record.position + 1n, 100)).rejects.toBeInstanceOf(
      PositionWaitTimeoutError,
    );
  });
});

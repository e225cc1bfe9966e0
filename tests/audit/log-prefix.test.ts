import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { logPrefix } from '../../src/audit/log-prefix.js';
import { anEvent, collect, uniqueStream } from '../support/events.js';

describe('logPrefix: the log as it stood at a position', () => {
  let eventStore: SqliteEventStore;
  const streamId = uniqueStream('test');

  beforeEach(async () => {
    eventStore = new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-prefix-')), 'events.sqlite'));
    await eventStore.appendToStream(streamId, [anEvent(), anEvent(), anEvent(), anEvent()], 'no_stream');
  });

  afterEach(async () => {
    await eventStore.close();
  });

  it('ends every read at the position, and hides everything for "start"', async () => {
    const view = logPrefix(eventStore, 2n);
    expect(await view.headPosition()).toBe(2n);
    expect((await view.readAll({ after: 'start', maxCount: 10 })).map((e) => e.position)).toEqual([1n, 2n]);
    expect(await view.readAll({ after: 2n, maxCount: 10 })).toEqual([]);
    expect((await collect(view.readStream(streamId))).map((e) => e.revision)).toEqual([0n, 1n]);
    expect((await collect(view.readStream(streamId, { direction: 'backwards' }))).map((e) => e.revision)).toEqual([
      1n,
      0n,
    ]);

    const empty = logPrefix(eventStore, 'start');
    expect(await empty.headPosition()).toBe('start');
    expect(await empty.readAll({ after: 'start', maxCount: 10 })).toEqual([]);
  });

  it('ends a subscription at the position instead of going live', async () => {
    const subscription = logPrefix(eventStore, 3n).subscribeToAll({ after: 1n });
    expect((await collect(subscription)).map((e) => e.position)).toEqual([2n, 3n]);
    await subscription.close();
  });

  it('refuses appends and leaves the underlying store open when closed', async () => {
    const view = logPrefix(eventStore, 4n);
    await expect(view.appendToStream(streamId, [anEvent()], 3n)).rejects.toThrow(/read-only/);
    await view.close();
    expect(await eventStore.headPosition()).toBe(4n);
  });
});

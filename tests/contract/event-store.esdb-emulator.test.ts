import { UnknownError, jsonEvent, START } from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsdbEventStore, NO_POSITION } from '../../src/adapters/esdb/esdb-event-store.js';
import {
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
} from '../../src/ports/event-store.js';
import { EsdbServerEmulator } from '../support/esdb-server-emulator.js';
import { anEvent, collect, uniqueStream } from '../support/events.js';
import { eventStoreContract } from './event-store.contract.js';

/**
 * The EventStoreDB adapter over an emulation of the server's rules (tests/support/esdb-server-emulator.ts):
 * the adapter's own decisions where the server behaves worse than SQLite (issue 8, findings 1, 2 and 7).
 * Not a substitute for the real-engine run (event-store.esdb.test.ts, when EVENTSTORE_URL is set).
 */
const shared = new EsdbServerEmulator();
eventStoreContract('esdb adapter over the server emulator', () => EsdbEventStore.over(shared.client(), 'emulated'));

describe('the emulator keeps the server rules that SQLite does not have', () => {
  it('stores the same events again when appended exactly at the head (IndexWriter.CheckCommit)', async () => {
    const server = new EsdbServerEmulator();
    const client = server.client();
    const stream = uniqueStream();
    const debit = jsonEvent({ id: crypto.randomUUID(), type: 'Debited', data: { n: 1 } });
    const first = await client.appendToStream(stream, [debit], { expectedRevision: 'no_stream' });
    await client.appendToStream(stream, [debit], { expectedRevision: first.nextExpectedRevision });
    expect(server.streamLength(stream)).toBe(2);
  });

  it('fails a read of $all from a position that is no event’s with Unknown', async () => {
    const server = new EsdbServerEmulator();
    const client = server.client();
    const appended = await client.appendToStream(uniqueStream(), [jsonEvent({ type: 'A', data: {} })]);
    const commit = appended.position!.commit - 1n;
    const read = collect(client.readAll({ fromPosition: { commit, prepare: commit } }));
    await expect(read).rejects.toBeInstanceOf(UnknownError);
    expect((await collect(client.readAll({ fromPosition: START }))).length).toBe(2);
  });
});

describe('EventStoreDB adapter decisions over the emulated server', () => {
  let server: EsdbServerEmulator;
  let store: EsdbEventStore;
  beforeAll(async () => {
    server = new EsdbServerEmulator();
    store = await EsdbEventStore.over(server.client(), 'emulated');
  });
  afterAll(async () => {
    await store.close();
  });

  it('finding 1: a step run twice appends its debit once, though the server would store it again', async () => {
    const stream = uniqueStream('account');
    const opened = await store.appendToStream(stream, [anEvent('Opened')], 'no_stream');
    const debit = [anEvent('Debited')];
    const first = await store.appendToStream(stream, debit, opened.nextExpectedRevision);
    // The second run decided on state loaded after the first: it expects the head, the debit itself.
    expect(await store.appendToStream(stream, debit, first.nextExpectedRevision)).toEqual(first);
    expect(server.streamLength(stream)).toBe(2);
  });

  it('finding 2: reads $all after a position that is no event’s, though the server refuses to start there', async () => {
    const a = await store.appendToStream(uniqueStream('f2'), [anEvent('A')], 'no_stream');
    const b = await store.appendToStream(uniqueStream('f2'), [anEvent('B')], 'no_stream');
    const page = await store.readAll({ after: a.position + 1n, maxCount: 10 });
    expect(page.map((event) => event.position)).toEqual([b.position]);
  });

  it('finding 7: an any append that collides with other writers several times in a row still lands', async () => {
    const stream = uniqueStream();
    // More than the 5 attempts the adapter once gave up after (with a wrong revision), fewer than it makes now.
    const collisions = 7;
    const { store: colliding, other } = await collidingStores(stream, collisions);
    try {
      await other.appendToStream(stream, [anEvent('Opened')], 'no_stream');
      const result = await colliding.appendToStream(stream, [anEvent('Ours')], 'any');
      const events = await collect(colliding.readStream(stream));
      expect(events.map((event) => event.type).at(-1)).toBe('Ours');
      // Opened (revision 0), one of theirs per collision, then ours.
      expect(result.nextExpectedRevision).toBe(BigInt(collisions + 1));
    } finally {
      await Promise.all([colliding.close(), other.close()]);
    }
  });

  it('finding 7: an any append that always collides fails as unavailable, never as a wrong revision, writing nothing', async () => {
    const stream = uniqueStream();
    const { store: colliding, other } = await collidingStores(stream, Number.POSITIVE_INFINITY);
    try {
      await other.appendToStream(stream, [anEvent('Opened')], 'no_stream');
      const error = await colliding.appendToStream(stream, [anEvent('Ours')], 'any').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventStoreUnavailableError);
      expect(error).not.toBeInstanceOf(WrongExpectedRevisionError);
      const events = await collect(other.readStream(stream));
      expect(events.some((event) => event.type === 'Ours')).toBe(false);
    } finally {
      await Promise.all([colliding.close(), other.close()]);
    }
  });

  for (const repeatPosition of ['unsigned-minus-one', 'none'] as const) {
    it(`finding 7: a repeat the server answers with ${repeatPosition === 'none' ? 'no position' : '2^64 - 1'} gets the event's own position`, async () => {
      const raced = new EsdbServerEmulator({ repeatPosition });
      const stream = uniqueStream();
      const other = await EsdbEventStore.over(raced.client(), 'emulated');
      const opened = await other.appendToStream(stream, [anEvent('Opened')], 'no_stream');
      const debit = [anEvent('Debited')];
      let landed: AppendResult | undefined;
      // The same step on another instance lands between this adapter's read of the head and its append.
      const late = await EsdbEventStore.over(
        raced.client({
          beforeAppend: async () => {
            if (!landed) landed = await other.appendToStream(stream, debit, opened.nextExpectedRevision);
          },
        }),
        'emulated',
      );
      try {
        const result = await late.appendToStream(stream, debit, opened.nextExpectedRevision);
        expect(result.position).not.toBe(NO_POSITION);
        expect(result).toEqual(landed);
        expect(raced.streamLength(stream)).toBe(2);
      } finally {
        await Promise.all([late.close(), other.close()]);
      }
    });
  }
});

/**
 * A store whose appends to `stream` each meet another writer's append first, `collisions` times, and the
 * other writer's store. Both over one emulated server.
 */
async function collidingStores(
  stream: string,
  collisions: number,
): Promise<{ store: EsdbEventStore; other: EsdbEventStore }> {
  const server = new EsdbServerEmulator();
  const other = await EsdbEventStore.over(server.client(), 'emulated');
  let left = collisions;
  const store = await EsdbEventStore.over(
    server.client({
      beforeAppend: async (name) => {
        if (name !== stream || left <= 0 || server.streamLength(stream) === 0) return;
        left -= 1;
        await other.appendToStream(stream, [anEvent('Theirs')], 'any');
      },
    }),
    'emulated',
  );
  return { store, other };
}

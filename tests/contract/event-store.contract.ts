import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, chainHash } from '../../src/domain/audit/hash-chain.js';
import type { JsonObject } from '../../src/domain/shared/json.js';
import {
  AppendOutcomeUnknownError,
  EventStoreUnavailableError,
  IDEMPOTENCY_WINDOW_EVENTS,
  InvalidEventError,
  MAX_APPEND_BYTES,
  MAX_EVENTS_PER_APPEND,
  MAX_EVENTS_PER_MULTI_APPEND,
  MAX_MULTI_APPEND_BYTES,
  MAX_STREAMS_PER_MULTI_APPEND,
  WrongExpectedRevisionError,
  readBackAppend,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
  type StreamAppend,
} from '../../src/ports/event-store.js';
import { anEvent, collect, uniqueStream } from '../support/events.js';
import { FaultyEventStore, type AppendFault } from './faulty-event-store.js';

/**
 * The event store contract: what every adapter must do. Run against the embedded SQLite adapter always,
 * and against EventStoreDB when EVENTSTORE_URL is set. Streams are unique per test so the suite can run
 * against a shared, non-empty server. `open` may be called more than once: every call must open the same
 * storage (another process's connection to it).
 */
export function eventStoreContract(adapterName: string, open: () => Promise<EventStore>): void {
  describe(`event store contract: ${adapterName}`, () => {
    let store: EventStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    describe('append with expected revision', () => {
      it('creates a stream with no_stream and numbers events from 0', async () => {
        const stream = uniqueStream();
        const result = await store.appendToStream(stream, [anEvent(), anEvent()], 'no_stream');
        expect(result.nextExpectedRevision).toBe(1n);
        const events = await collect(store.readStream(stream));
        expect(events.map((e) => e.revision)).toEqual([0n, 1n]);
        expect(result.position).toBe(events[1]!.position);
      });

      it('refuses no_stream when the stream exists', async () => {
        const stream = uniqueStream();
        await store.appendToStream(stream, [anEvent()], 'no_stream');
        const error = await store.appendToStream(stream, [anEvent()], 'no_stream').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe(0n);
      });

      it('refuses stream_exists on a missing stream and accepts it on an existing one', async () => {
        const stream = uniqueStream();
        const error = await store.appendToStream(stream, [anEvent()], 'stream_exists').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe('no_stream');
        await store.appendToStream(stream, [anEvent()], 'no_stream');
        const result = await store.appendToStream(stream, [anEvent()], 'stream_exists');
        expect(result.nextExpectedRevision).toBe(1n);
      });

      it('accepts any on missing and existing streams', async () => {
        const stream = uniqueStream();
        await store.appendToStream(stream, [anEvent()], 'any');
        const result = await store.appendToStream(stream, [anEvent()], 'any');
        expect(result.nextExpectedRevision).toBe(1n);
      });

      it('accepts the exact current revision and refuses a stale one, writing nothing', async () => {
        const stream = uniqueStream();
        const first = await store.appendToStream(stream, [anEvent()], 'no_stream');
        await store.appendToStream(stream, [anEvent()], first.nextExpectedRevision);
        const error = await store
          .appendToStream(stream, [anEvent()], first.nextExpectedRevision)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe(1n);
        expect(await collect(store.readStream(stream))).toHaveLength(2);
      });

      it('refuses an exact revision on a missing stream', async () => {
        const error = await store.appendToStream(uniqueStream(), [anEvent()], 0n).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      });

      it('lets exactly one of many concurrent appends at the same revision win', async () => {
        const stream = uniqueStream();
        const created = await store.appendToStream(stream, [anEvent()], 'no_stream');
        const attempts = await Promise.allSettled(
          Array.from({ length: 20 }, () => store.appendToStream(stream, [anEvent()], created.nextExpectedRevision)),
        );
        expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
        for (const failed of attempts.filter((a) => a.status === 'rejected')) {
          expect(failed.reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        expect(await collect(store.readStream(stream))).toHaveLength(2);
      });

      it('commits concurrent appends to different streams independently of a failing one', async () => {
        const streams = Array.from({ length: 30 }, () => uniqueStream());
        const bad = uniqueStream();
        const results = await Promise.allSettled([
          ...streams.map((s) => store.appendToStream(s, [anEvent()], 'no_stream')),
          store.appendToStream(bad, [anEvent()], 5n),
        ]);
        expect(results.slice(0, 30).every((r) => r.status === 'fulfilled')).toBe(true);
        expect(results[30]!.status).toBe('rejected');
        expect(await collect(store.readStream(bad))).toHaveLength(0);
      });

      it('rejects invalid events before storing anything', async () => {
        const stream = uniqueStream();
        await expect(store.appendToStream(stream, [], 'any')).rejects.toBeInstanceOf(InvalidEventError);
        await expect(store.appendToStream(stream, [anEvent('not pascal')], 'any')).rejects.toBeInstanceOf(
          InvalidEventError,
        );
        const badMetadata = { ...anEvent(), metadata: { ...anEvent().metadata, eventId: 'not-a-uuid' } };
        await expect(store.appendToStream(stream, [badMetadata], 'any')).rejects.toBeInstanceOf(InvalidEventError);
        await expect(store.appendToStream('No Stream', [anEvent()], 'any')).rejects.toBeInstanceOf(InvalidEventError);
        expect(await collect(store.readStream(stream))).toHaveLength(0);
      });
    });

    describe('idempotent append by event id', () => {
      it('answers a repeated append of the same events as the first, and stores them once', async () => {
        const stream = uniqueStream();
        const events = [anEvent('A'), anEvent('B')];
        const first = await store.appendToStream(stream, events, 'no_stream');
        const again = await store.appendToStream(stream, events, 'no_stream');
        expect(again).toEqual(first);
        expect(await collect(store.readStream(stream))).toHaveLength(2);
      });

      it('is idempotent even after later events were appended', async () => {
        const stream = uniqueStream();
        const events = [anEvent('A')];
        const first = await store.appendToStream(stream, events, 'no_stream');
        await store.appendToStream(stream, [anEvent('B')], first.nextExpectedRevision);
        const again = await store.appendToStream(
          stream,
          events,
          first.nextExpectedRevision - 1n < 0n ? 'no_stream' : first.nextExpectedRevision,
        );
        expect(again).toEqual(first);
        expect(await collect(store.readStream(stream))).toHaveLength(2);
      });
    });

    describe('what a real engine does with repeated event ids', () => {
      const exactHead = (revision: bigint): ExpectedRevision => revision;
      for (const [kind, expectedFor] of [
        ['its exact revision', exactHead],
        ['stream_exists', () => 'stream_exists' as const],
        ['any', () => 'any' as const],
      ] as const) {
        it(`answers a repeat appended at the head with ${kind} as the first, storing nothing`, async () => {
          const stream = uniqueStream();
          await store.appendToStream(stream, [anEvent('Opened')], 'no_stream');
          const debit = [anEvent('Debited'), anEvent('Held')];
          const first = await store.appendToStream(stream, debit, 0n);
          // The head is the repeated events themselves: EventStoreDB's server accepts this as new.
          const again = await store.appendToStream(stream, debit, expectedFor(first.nextExpectedRevision));
          expect(again).toEqual(first);
          expect(await collect(store.readStream(stream))).toHaveLength(3);
        });
      }

      it('refuses an append at the head that reuses an event id of the window, storing nothing', async () => {
        const stream = uniqueStream();
        const reused = anEvent('Debited');
        await store.appendToStream(stream, [reused], 'no_stream');
        const moved = await store.appendToStream(stream, [anEvent('Other')], 0n);
        const error = await store
          .appendToStream(stream, [anEvent('New'), reused], moved.nextExpectedRevision)
          .catch((e: unknown) => e);
        expect(error instanceof InvalidEventError || error instanceof WrongExpectedRevisionError).toBe(true);
        expect(await collect(store.readStream(stream))).toHaveLength(2);
      });

      it(`recognises a repeat at the head up to ${IDEMPOTENCY_WINDOW_EVENTS} events back, for every kind`, async () => {
        const stream = uniqueStream();
        const step = [anEvent('Debited')];
        const first = await store.appendToStream(stream, step, 'no_stream');
        const head = await appendFiller(store, stream, first.nextExpectedRevision, IDEMPOTENCY_WINDOW_EVENTS - 1);
        for (const expected of [head, 'any', 'stream_exists'] as const) {
          expect(await store.appendToStream(stream, step, expected)).toEqual(first);
        }
        expect(await collect(store.readStream(stream))).toHaveLength(IDEMPOTENCY_WINDOW_EVENTS);
      });

      it('recognises a repeat behind the head by its exact revision, beyond the window', async () => {
        const stream = uniqueStream();
        const opening = [anEvent('Claimed')];
        const first = await store.appendToStream(stream, opening, 'no_stream');
        const second = [anEvent('Debited')];
        const atOne = await store.appendToStream(stream, second, first.nextExpectedRevision);
        await appendFiller(store, stream, atOne.nextExpectedRevision, IDEMPOTENCY_WINDOW_EVENTS + 5);
        expect(await store.appendToStream(stream, opening, 'no_stream')).toEqual(first);
        expect(await store.appendToStream(stream, second, first.nextExpectedRevision)).toEqual(atOne);
        expect(await collect(store.readStream(stream))).toHaveLength(IDEMPOTENCY_WINDOW_EVENTS + 7);
      });
    });

    describe('limits', () => {
      it(`takes ${MAX_EVENTS_PER_APPEND} events in one append and refuses one more, writing nothing`, async () => {
        const stream = uniqueStream();
        const many = Array.from({ length: MAX_EVENTS_PER_APPEND }, (_, i) => anEvent('Numbered', { i }));
        const result = await store.appendToStream(stream, many, 'no_stream');
        expect(result.nextExpectedRevision).toBe(BigInt(MAX_EVENTS_PER_APPEND - 1));
        const tooMany = [...many.map(() => anEvent()), anEvent()];
        await expect(store.appendToStream(stream, tooMany, 'any')).rejects.toBeInstanceOf(InvalidEventError);
        expect(await collect(store.readStream(stream))).toHaveLength(MAX_EVENTS_PER_APPEND);
      });

      it(`takes an append just under ${MAX_APPEND_BYTES} bytes and refuses one over, writing nothing`, async () => {
        const stream = uniqueStream();
        // Four events of ~125 KiB each: under the port's limit, and under EventStoreDB's default 1 MiB.
        const filler = (kib: number) => 'x'.repeat(kib * 1024);
        const under = Array.from({ length: 4 }, () => anEvent('Large', { text: filler(125) }));
        await store.appendToStream(stream, under, 'no_stream');
        const stored = await collect(store.readStream(stream));
        expect(stored.map((e) => e.data['text'])).toEqual(under.map((e) => e.data['text']));
        const over = Array.from({ length: 5 }, () => anEvent('Large', { text: filler(105) }));
        await expect(store.appendToStream(stream, over, 3n)).rejects.toBeInstanceOf(InvalidEventError);
        expect(await collect(store.readStream(stream))).toHaveLength(4);
      });
    });

    describe('positions', () => {
      it("reads the global log after a position that is no event's", async () => {
        const prefix = `pos${Date.now()}${Math.floor(Math.random() * 1e6)}`;
        const a = await store.appendToStream(`${prefix}-a`, [anEvent('A')], 'no_stream');
        const b = await store.appendToStream(`${prefix}-b`, [anEvent('B')], 'no_stream');
        for (const after of [a.position - 1n, a.position + 1n, b.position - 1n, b.position + 1n]) {
          const page = await store.readAll({ after, maxCount: 100, filter: { streamPrefixes: [`${prefix}-`] } });
          const expected = [a, b].filter((appended) => appended.position > after).map((appended) => appended.position);
          expect(page.map((e) => e.position)).toEqual(expected);
        }
      });

      it('reads nothing after a position above 2^53 beyond the head, and keeps positions exact', async () => {
        const stream = uniqueStream();
        const appended = await store.appendToStream(stream, [anEvent()], 'no_stream');
        expect(typeof appended.position).toBe('bigint');
        const far = 2n ** 53n + 1n > appended.position ? 2n ** 60n + 1n : appended.position + 2n ** 53n;
        expect(await store.readAll({ after: far, maxCount: 10 })).toEqual([]);
        const [event] = await collect(store.readStream(stream));
        expect(event!.position).toBe(appended.position);
      });

      it("subscribes after a position that is no event's", async () => {
        const prefix = `subpos${Date.now()}${Math.floor(Math.random() * 1e6)}`;
        const a = await store.appendToStream(`${prefix}-a`, [anEvent('A')], 'no_stream');
        const b = await store.appendToStream(`${prefix}-b`, [anEvent('B')], 'no_stream');
        const c = await store.appendToStream(`${prefix}-c`, [anEvent('C')], 'no_stream');
        const after = a.position + 1n;
        const expected = [a, b, c].filter((appended) => appended.position > after).map((e) => e.position);
        const subscription = store.subscribeToAll({ after, filter: { streamPrefixes: [`${prefix}-`] } });
        const received: bigint[] = [];
        const done = (async () => {
          for await (const event of subscription) {
            received.push(event.position);
            if (received.length === expected.length) break;
          }
        })();
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        await subscription.close();
        expect(received).toEqual(expected);
      });
    });

    describe('concurrent writers', () => {
      it('never answers an any append with a wrong revision, however many writers collide', async () => {
        const other = await open();
        try {
          const stream = uniqueStream();
          const attempts = await Promise.allSettled(
            Array.from({ length: 40 }, (_, i) =>
              (i % 2 === 0 ? store : other).appendToStream(stream, [anEvent()], 'any'),
            ),
          );
          for (const failed of attempts.filter((a) => a.status === 'rejected')) {
            expect(failed.reason).toBeInstanceOf(EventStoreUnavailableError);
          }
          const written = attempts.filter((a) => a.status === 'fulfilled').length;
          expect(written).toBeGreaterThan(0);
          expect(await collect(store.readStream(stream))).toHaveLength(written);
        } finally {
          await other.close();
        }
      });
    });

    describe('reading past the head while another connection writes', () => {
      it("sees another connection's events right after it read, or appended, to the end of the stream", async () => {
        const other = await open();
        try {
          const stream = uniqueStream();
          const revisions = async (fromRevision: bigint) =>
            (await collect(store.readStream(stream, { fromRevision }))).map((e) => e.revision);
          // This connection reads the stream to its end (it has none), then the other creates it.
          expect(await revisions(0n)).toEqual([]);
          await other.appendToStream(stream, [anEvent()], 'no_stream');
          expect(await revisions(0n)).toEqual([0n]);
          expect(await revisions(1n)).toEqual([]);
          // This connection appends and reads past its own head; then the other appends after it.
          await store.appendToStream(stream, [anEvent()], 0n);
          expect(await revisions(2n)).toEqual([]);
          await other.appendToStream(stream, [anEvent(), anEvent()], 1n);
          expect(await revisions(2n)).toEqual([2n, 3n]);
          // A write to another stream by the other connection changes nothing here.
          await other.appendToStream(uniqueStream(), [anEvent()], 'no_stream');
          expect(await revisions(4n)).toEqual([]);
          expect(await revisions(3n)).toEqual([3n]);
        } finally {
          await other.close();
        }
      });
    });

    describe('appends of unknown outcome (through the fault wrapper)', () => {
      it('reads back an append that timed out after it was written, and its repeat stores nothing', async () => {
        const faulty = new FaultyEventStore(store);
        const stream = uniqueStream();
        const events = [anEvent('Debited')];
        await appendWithFault(faulty, 'timeout-after-write', stream, events, 'no_stream');
        const back = await readBackAppend(faulty, stream, events, 'no_stream');
        expect(back.outcome).toBe('written');
        const again = await faulty.appendToStream(stream, events, 'no_stream');
        expect(back.outcome === 'written' && back.result).toEqual(again);
        expect(await collect(store.readStream(stream))).toHaveLength(1);
      });

      it('re-appends one that was lost or lands late at the same revision: the events are stored once', async () => {
        const faulty = new FaultyEventStore(store);
        const stream = uniqueStream();
        const opened = await faulty.appendToStream(stream, [anEvent('Opened')], 'no_stream');
        const events = [anEvent('Debited'), anEvent('Held')];
        await appendWithFault(faulty, 'lands-late', stream, events, opened.nextExpectedRevision);
        expect((await readBackAppend(faulty, stream, events, opened.nextExpectedRevision)).outcome).toBe('absent');
        const retried = await faulty.appendToStream(stream, events, opened.nextExpectedRevision);
        // The late commit expected the same revision: it is answered as a repeat, or refused.
        const [late] = await faulty.releaseLate();
        if (late!.status === 'fulfilled') expect(late!.value).toEqual(retried);
        else expect(late!.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await collect(store.readStream(stream))).toHaveLength(3);
      });

      it('says superseded when other events took the revision the unknown append expected', async () => {
        const faulty = new FaultyEventStore(store);
        const stream = uniqueStream();
        const events = [anEvent('Debited')];
        await appendWithFault(faulty, 'lost', stream, events, 'no_stream');
        await store.appendToStream(stream, [anEvent('SomeoneElse')], 'no_stream');
        expect((await readBackAppend(faulty, stream, events, 'no_stream')).outcome).toBe('superseded');
      });
    });

    describe('reading a stream', () => {
      it('reads forwards from a revision and backwards from the end, with a bound', async () => {
        const stream = uniqueStream();
        await store.appendToStream(
          stream,
          Array.from({ length: 5 }, (_, i) => anEvent('Numbered', { i })),
          'no_stream',
        );
        const forwards = await collect(store.readStream(stream, { fromRevision: 2n }));
        expect(forwards.map((e) => e.data['i'])).toEqual([2, 3, 4]);
        const backwards = await collect(store.readStream(stream, { direction: 'backwards', maxCount: 2 }));
        expect(backwards.map((e) => e.data['i'])).toEqual([4, 3]);
        const bounded = await collect(store.readStream(stream, { maxCount: 2 }));
        expect(bounded.map((e) => e.data['i'])).toEqual([0, 1]);
      });

      it('reads a missing stream as empty', async () => {
        expect(await collect(store.readStream(uniqueStream()))).toEqual([]);
      });

      it('returns data, type and metadata exactly as appended', async () => {
        const stream = uniqueStream();
        const data: JsonObject = {
          text: '中文 ✓',
          nested: { list: [1, 'two', null, true] },
          amountMinor: '12345678901234567890',
        };
        const event = anEvent('Detailed', data);
        await store.appendToStream(stream, [event], 'no_stream');
        const [stored] = await collect(store.readStream(stream));
        expect(stored!.type).toBe('Detailed');
        expect(stored!.data).toEqual(data);
        expect(stored!.metadata).toEqual(event.metadata);
        expect(stored!.streamId).toBe(stream);
      });
    });

    describe('hash chain', () => {
      it('chains every event of a stream to its predecessor', async () => {
        const stream = uniqueStream();
        const first = await store.appendToStream(stream, [anEvent('A'), anEvent('B')], 'no_stream');
        await store.appendToStream(stream, [anEvent('C')], first.nextExpectedRevision);
        expectChained(await collect(store.readStream(stream)));
      });
    });

    describe('multi-stream append (where the engine has it)', () => {
      /** The capability, or a skip of the test on an engine without it. */
      function multi(ctx: { skip: () => void }): (appends: readonly StreamAppend[]) => Promise<bigint[]> {
        const append = store.appendToStreams?.bind(store);
        if (!append) {
          ctx.skip();
          throw new Error('unreachable: skipped');
        }
        return async (appends) => (await append(appends)).map((r) => r.nextExpectedRevision);
      }

      it('appends to several streams in one commit, each numbered as its own', async (ctx) => {
        const append = multi(ctx);
        const [a, b] = [uniqueStream(), uniqueStream()];
        await store.appendToStream(b, [anEvent('Before')], 'no_stream');
        const results = await store.appendToStreams!([
          { streamId: a, events: [anEvent('A1'), anEvent('A2')], expectedRevision: 'no_stream' },
          { streamId: b, events: [anEvent('B1')], expectedRevision: 0n },
        ]);
        expect(results.map((r) => r.nextExpectedRevision)).toEqual([1n, 1n]);
        const [eventsA, eventsB] = [await collect(store.readStream(a)), await collect(store.readStream(b))];
        expect(eventsA.map((e) => e.type)).toEqual(['A1', 'A2']);
        expect(eventsB.map((e) => e.type)).toEqual(['Before', 'B1']);
        expect(results[0]!.position).toBe(eventsA[1]!.position);
        expect(results[1]!.position).toBe(eventsB[1]!.position);
        // One commit: the positions of its events are consecutive in the global log.
        const log = await store.readAll({ after: eventsA[0]!.position - 1n, maxCount: 3 });
        expect(log.map((e) => e.type)).toEqual(['A1', 'A2', 'B1']);
        expect(await append([{ streamId: a, events: [anEvent('A3')], expectedRevision: 1n }])).toEqual([2n]);
      });

      it('writes nothing on any stream when one stream conflicts', async (ctx) => {
        const append = multi(ctx);
        const [a, b] = [uniqueStream(), uniqueStream()];
        await store.appendToStream(b, [anEvent(), anEvent()], 'no_stream');
        const head = await store.headPosition();
        const error = await append([
          { streamId: a, events: [anEvent('A1')], expectedRevision: 'no_stream' },
          { streamId: b, events: [anEvent('B1')], expectedRevision: 0n },
        ]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).streamId).toBe(b);
        expect((error as WrongExpectedRevisionError).actual).toBe(1n);
        expect(await collect(store.readStream(a))).toEqual([]);
        expect((await collect(store.readStream(b))).length).toBe(2);
        expect(await store.readAll({ after: head, maxCount: 10, filter: { streamPrefixes: [a, b] } })).toEqual([]);
      });

      it('answers a repeat as the first did and stores nothing twice, also beside a new part', async (ctx) => {
        const append = multi(ctx);
        const [a, b, c] = [uniqueStream(), uniqueStream(), uniqueStream()];
        const parts: StreamAppend[] = [
          { streamId: a, events: [anEvent('A1'), anEvent('A2')], expectedRevision: 'no_stream' },
          { streamId: b, events: [anEvent('B1')], expectedRevision: 'no_stream' },
        ];
        const first = await store.appendToStreams!(parts);
        const again = await store.appendToStreams!(parts);
        expect(again).toEqual(first);
        const withNew = await append([
          ...parts,
          { streamId: c, events: [anEvent('C1')], expectedRevision: 'no_stream' },
        ]);
        expect(withNew).toEqual([1n, 0n, 0n]);
        expect((await collect(store.readStream(a))).length).toBe(2);
        expect((await collect(store.readStream(b))).length).toBe(1);
        // A repeat recognised by a single-stream append too: the rules per stream are appendToStream's.
        const single = await store.appendToStream(b, parts[1]!.events, 'no_stream');
        expect(single).toEqual(first[1]);
      });

      it('refuses an event id used in another stream, writing nothing', async (ctx) => {
        const append = multi(ctx);
        const [a, b] = [uniqueStream(), uniqueStream()];
        const used = anEvent('Used');
        await store.appendToStream(a, [used], 'no_stream');
        const error = await append([
          { streamId: a, events: [anEvent('A2')], expectedRevision: 0n },
          { streamId: b, events: [used], expectedRevision: 'no_stream' },
        ]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect((await collect(store.readStream(a))).length).toBe(1);
        expect(await collect(store.readStream(b))).toEqual([]);
      });

      it("keeps every stream's hash chain intact", async (ctx) => {
        const append = multi(ctx);
        const [a, b] = [uniqueStream(), uniqueStream()];
        await store.appendToStream(a, [anEvent('A0')], 'no_stream');
        await append([
          { streamId: a, events: [anEvent('A1'), anEvent('A2')], expectedRevision: 0n },
          { streamId: b, events: [anEvent('B0')], expectedRevision: 'no_stream' },
        ]);
        await append([{ streamId: b, events: [anEvent('B1')], expectedRevision: 0n }]);
        for (const stream of [a, b]) expectChained(await collect(store.readStream(stream)));
      });

      it('lets exactly one of concurrent multi-appends expecting the same revision win', async (ctx) => {
        const append = multi(ctx);
        const shared = uniqueStream();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, () =>
            append([
              { streamId: uniqueStream(), events: [anEvent()], expectedRevision: 'no_stream' },
              { streamId: shared, events: [anEvent()], expectedRevision: 'no_stream' },
            ]),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBe(1);
        expect((await collect(store.readStream(shared))).length).toBe(1);
      });

      it(`takes ${MAX_STREAMS_PER_MULTI_APPEND} streams and refuses one more, or a stream twice, writing nothing`, async (ctx) => {
        const append = multi(ctx);
        const parts = (count: number): StreamAppend[] =>
          Array.from({ length: count }, () => ({
            streamId: uniqueStream(),
            events: [anEvent()],
            expectedRevision: 'no_stream' as const,
          }));
        const most = parts(MAX_STREAMS_PER_MULTI_APPEND);
        expect((await append(most)).length).toBe(MAX_STREAMS_PER_MULTI_APPEND);
        const tooMany = parts(MAX_STREAMS_PER_MULTI_APPEND + 1);
        await expect(append(tooMany)).rejects.toBeInstanceOf(InvalidEventError);
        expect(await collect(store.readStream(tooMany[0]!.streamId))).toEqual([]);
        const twice = parts(1);
        await expect(append([...twice, { ...twice[0]!, events: [anEvent()] }])).rejects.toBeInstanceOf(
          InvalidEventError,
        );
        expect(await collect(store.readStream(twice[0]!.streamId))).toEqual([]);
      });

      it(`takes ${MAX_EVENTS_PER_MULTI_APPEND} events (more than one append's on a stream) and refuses one more`, async (ctx) => {
        const append = multi(ctx);
        const [a, b] = [uniqueStream(), uniqueStream()];
        const half = MAX_EVENTS_PER_MULTI_APPEND / 2;
        const events = (count: number) => Array.from({ length: count }, () => anEvent('Filler'));
        await expect(
          append([
            { streamId: a, events: events(half), expectedRevision: 'no_stream' },
            { streamId: b, events: events(half + 1), expectedRevision: 'no_stream' },
          ]),
        ).rejects.toBeInstanceOf(InvalidEventError);
        expect(await collect(store.readStream(a))).toEqual([]);
        expect(
          await append([
            { streamId: a, events: events(half), expectedRevision: 'no_stream' },
            { streamId: b, events: events(half), expectedRevision: 'no_stream' },
          ]),
        ).toEqual([BigInt(half - 1), BigInt(half - 1)]);
      });

      it(`refuses more than ${MAX_MULTI_APPEND_BYTES} bytes, writing nothing`, async (ctx) => {
        const append = multi(ctx);
        const chunk = 'x'.repeat(400 * 1024);
        const count = Math.ceil(MAX_MULTI_APPEND_BYTES / chunk.length) + 1;
        const parts = Array.from({ length: count }, () => ({
          streamId: uniqueStream(),
          events: [anEvent('Big', { chunk })],
          expectedRevision: 'no_stream' as const,
        }));
        await expect(append(parts)).rejects.toBeInstanceOf(InvalidEventError);
        expect(await collect(store.readStream(parts[0]!.streamId))).toEqual([]);
      });
    });

    describe('the global log', () => {
      it('orders events by strictly increasing position and reads after a position', async () => {
        const streamA = uniqueStream('globala');
        const streamB = uniqueStream('globalb');
        const a = await store.appendToStream(streamA, [anEvent('A')], 'no_stream');
        const b = await store.appendToStream(streamB, [anEvent('B')], 'no_stream');
        expect(b.position > a.position).toBe(true);
        const page = await store.readAll({ after: a.position - 1n, maxCount: 10_000 });
        const ours = page.filter((e) => e.streamId === streamA || e.streamId === streamB);
        expect(ours.map((e) => e.type)).toEqual(['A', 'B']);
        for (let i = 1; i < page.length; i += 1) expect(page[i]!.position > page[i - 1]!.position).toBe(true);
        const head = await store.headPosition();
        expect(head !== 'start' && head >= b.position).toBe(true);
      });

      it('filters the global log by stream prefix or event type', async () => {
        const marker = `m${Date.now()}${Math.floor(Math.random() * 1e6)}`;
        const first = await store.appendToStream(`${marker}-1`, [anEvent('Kept')], 'no_stream');
        await store.appendToStream(`other${marker}-1`, [anEvent('Kept')], 'no_stream');
        await store.appendToStream(`${marker}-2`, [anEvent('Dropped')], 'no_stream');
        const byPrefix = await store.readAll({
          after: first.position - 1n,
          maxCount: 100,
          filter: { streamPrefixes: [`${marker}-`] },
        });
        expect(byPrefix.map((e) => e.streamId)).toEqual([`${marker}-1`, `${marker}-2`]);
        const byType = await store.readAll({
          after: first.position - 1n,
          maxCount: 100,
          filter: { eventTypes: ['Kept'] },
        });
        expect(byType.filter((e) => e.streamId.includes(marker)).map((e) => e.streamId)).toEqual([
          `${marker}-1`,
          `other${marker}-1`,
        ]);
      });
    });

    describe('catch-up subscription', () => {
      it('delivers the past, then goes live, in position order', async () => {
        const prefix = `sub${Date.now()}${Math.floor(Math.random() * 1e6)}`;
        const before = await store.appendToStream(`${prefix}-1`, [anEvent('Past')], 'no_stream');
        const subscription = store.subscribeToAll({
          after: before.position - 1n,
          filter: { streamPrefixes: [`${prefix}-`] },
        });
        const received: RecordedEvent[] = [];
        const done = (async () => {
          for await (const event of subscription) {
            received.push(event);
            if (received.length === 3) break;
          }
        })();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await store.appendToStream(`${prefix}-2`, [anEvent('Live1')], 'no_stream');
        await store.appendToStream(`${prefix}-1`, [anEvent('Live2')], 0n);
        await Promise.race([
          done,
          new Promise((_, reject) => setTimeout(() => reject(new Error('subscription did not go live')), 10_000)),
        ]);
        await subscription.close();
        expect(received.map((e) => e.type)).toEqual(['Past', 'Live1', 'Live2']);
        expect(received[1]!.position < received[2]!.position).toBe(true);
      });

      it('stops iterating once closed', async () => {
        const subscription = store.subscribeToAll({ after: 'start', filter: { streamPrefixes: ['nothing-here-'] } });
        const iteration = (async () => {
          for await (const _ of subscription) {
            // nothing matches the filter
          }
          return 'ended';
        })();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await subscription.close();
        await expect(iteration).resolves.toBe('ended');
      });
    });
  });
}

/** Every event of a stream, read in order, is chained to its predecessor by its recomputed hash. */
function expectChained(events: readonly RecordedEvent[]): void {
  let prevHash = GENESIS_HASH;
  for (const event of events) {
    expect(event.prevHash).toBe(prevHash);
    const recomputed = chainHash(prevHash, {
      streamId: event.streamId,
      revision: event.revision,
      eventId: event.metadata.eventId,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
    });
    expect(event.hash).toBe(recomputed);
    prevHash = event.hash;
  }
}

/** Appends `count` small events after `revision`, in appends of the largest size; returns the new head. */
async function appendFiller(store: EventStore, stream: string, revision: bigint, count: number): Promise<bigint> {
  let head = revision;
  for (let left = count; left > 0; left -= MAX_EVENTS_PER_APPEND) {
    const batch: NewEvent[] = Array.from({ length: Math.min(left, MAX_EVENTS_PER_APPEND) }, () => anEvent('Filler'));
    head = (await store.appendToStream(stream, batch, head)).nextExpectedRevision;
  }
  return head;
}

/** An append through the fault wrapper that fails with an unknown outcome, as `fault` says. */
async function appendWithFault(
  faulty: FaultyEventStore,
  fault: AppendFault,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
): Promise<void> {
  faulty.failNextAppends(fault);
  await expect(faulty.appendToStream(stream, events, expected)).rejects.toBeInstanceOf(AppendOutcomeUnknownError);
}

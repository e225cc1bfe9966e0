import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLedgerService } from '../../src/adapters/ledger-service.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteSnapshotStore } from '../../src/adapters/sqlite/sqlite-snapshot-store.js';
import { EVENTS_FILE, SNAPSHOTS_FILE } from '../../src/adapters/storage.js';
import { accountStreamId } from '../../src/commands/accounts/open-account-handler.js';
import { StreamCommandHandler, toNewEvent } from '../../src/commands/stream-command-handler.js';
import { snapshotDigest, StreamSnapshots, type SnapshotWarning } from '../../src/commands/stream-snapshots.js';
import { loadConfig } from '../../src/config.js';
import { accountDecider, type AccountCommand } from '../../src/domain/accounts/account-decider.js';
import type { AccountEvent } from '../../src/domain/accounts/account-events.js';
import { accountStateCodec } from '../../src/domain/accounts/account-state-codec.js';
import type { AccountState } from '../../src/domain/accounts/account-state.js';
import type { StateCodec } from '../../src/domain/shared/state-codec.js';
import {
  MAX_EVENTS_PER_APPEND,
  type EventStore,
  type NewEvent,
  type ReadStreamOptions,
  type RecordedEvent,
} from '../../src/ports/event-store.js';
import type { SnapshotStore, StoredSnapshot } from '../../src/ports/snapshot-store.js';
import { ACCOUNT_ID, fundingCommand, openAccountCommand } from '../support/account-commands.js';
import { CNY, context } from '../support/command-fixtures.js';
import fc from 'fast-check';

/**
 * Snapshots of long account streams, on the real embedded stores: a cold handler starts from a verified
 * snapshot and reads only the events after it, decides exactly as a full read would, and ignores (with a
 * warning) a snapshot that is damaged, of another history or of an old schema version.
 */
const STREAM = accountStreamId(ACCOUNT_ID);
const EVERY = 1_000;
const HISTORY = 5_500;

/** Counts the events each stream read hands out: how much of a stream a load really read. */
class CountingEventStore implements EventStore {
  readonly engine;
  eventsRead = 0;
  /** Called as each stream read starts. */
  onRead: (options: ReadStreamOptions | undefined) => void = () => undefined;
  constructor(private readonly inner: EventStore) {
    this.engine = inner.engine;
  }
  appendToStream(...args: Parameters<EventStore['appendToStream']>) {
    return this.inner.appendToStream(...args);
  }
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    this.onRead(options);
    return this.counted(streamId, options);
  }
  private async *counted(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    for await (const event of this.inner.readStream(streamId, options)) {
      this.eventsRead += 1;
      yield event;
    }
  }
  readAll(...args: Parameters<EventStore['readAll']>) {
    return this.inner.readAll(...args);
  }
  headPosition() {
    return this.inner.headPosition();
  }
  subscribeToAll(...args: Parameters<EventStore['subscribeToAll']>) {
    return this.inner.subscribeToAll(...args);
  }
  close() {
    return this.inner.close();
  }
}

/** Appends `count` credits (after an AccountOpened when the stream is new), decided by the real decider. */
async function appendHistory(store: EventStore, count: number, from: AccountState): Promise<AccountState> {
  let state = from;
  let revision = -1n;
  for await (const last of store.readStream(STREAM, { direction: 'backwards', maxCount: 1 })) revision = last.revision;
  const commands: AccountCommand[] = state.exists ? [] : [fc.sample(openAccountCommand, { numRuns: 1, seed: 3 })[0]!];
  const events: NewEvent[] = [];
  let written = 0;
  const flush = async () => {
    if (events.length === 0) return;
    await store.appendToStream(STREAM, events, revision < 0n ? 'no_stream' : revision);
    revision += BigInt(events.length);
    events.length = 0;
  };
  while (written < count) {
    const command = commands.shift() ?? fc.sample(fundingCommand, { numRuns: 1, seed: written })[0]!;
    for (const event of accountDecider.decide(command, state)) {
      state = accountDecider.evolve(state, event);
      events.push(toNewEvent(event, 0, STREAM, context()));
      written += 1;
    }
    if (events.length === MAX_EVENTS_PER_APPEND) await flush();
  }
  await flush();
  return state;
}

describe('snapshots of a long account stream', () => {
  let dir: string;
  let events: SqliteEventStore;
  let snapshots: SqliteSnapshotStore;
  let warnings: Array<{ message: string; details: Readonly<Record<string, string>> }>;
  let folded: AccountState;
  /** Every test's writers finish before its stores close. */
  let started: StreamSnapshots<AccountState>[];
  const warn: SnapshotWarning = (message, details) => warnings.push({ message, details });

  /** A handler as a new process has it: nothing in memory. */
  function coldHandler(codec: StateCodec<AccountState> = accountStateCodec, store: SnapshotStore = snapshots) {
    const counting = new CountingEventStore(events);
    const streamSnapshots = new StreamSnapshots(counting, store, codec, { everyEvents: EVERY, warn });
    started.push(streamSnapshots);
    const handler = new StreamCommandHandler(counting, accountDecider, undefined, streamSnapshots);
    return { handler, counting, snapshots: streamSnapshots };
  }

  async function fullRead(): Promise<AccountState> {
    return (await new StreamCommandHandler(events, accountDecider).load(STREAM)).state;
  }

  /** The stored snapshot, changed by `edit` and written back as is. */
  function rewriteSnapshot(edit: (snapshot: Record<string, unknown>) => Record<string, unknown>): void {
    const db = new Database(join(dir, SNAPSHOTS_FILE));
    const row = db.prepare(`SELECT snapshot FROM snapshots WHERE stream_id = ?`).get(STREAM) as { snapshot: string };
    const edited = edit(JSON.parse(row.snapshot) as Record<string, unknown>);
    db.prepare(`UPDATE snapshots SET snapshot = ? WHERE stream_id = ?`).run(JSON.stringify(edited), STREAM);
    db.close();
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-snapshots-'));
    events = new SqliteEventStore(join(dir, EVENTS_FILE));
    snapshots = new SqliteSnapshotStore(join(dir, SNAPSHOTS_FILE));
    warnings = [];
    started = [];
    folded = await appendHistory(events, HISTORY, accountDecider.initialState());
    // A first cold read takes the snapshot (the stream passed multiples of EVERY since nothing).
    const first = coldHandler();
    await first.handler.load(STREAM);
    await first.snapshots.idle();
  });
  afterEach(async () => {
    await Promise.all(started.map((taken) => taken.idle()));
    await events.close();
    await snapshots.close();
  });

  it('is taken by the first cold read, at the head', async () => {
    const saved = await snapshots.load(STREAM);
    expect(saved?.revision).toBe(BigInt(HISTORY - 1));
    expect(saved?.schema).toBe('account-state');
    expect(warnings).toEqual([]);
  });

  it('lets a cold handler read only the events after it, and decide exactly as a full read', async () => {
    folded = await appendHistory(events, 300, folded);
    const { handler, counting } = coldHandler();
    const loaded = await handler.load(STREAM);
    // One event to check the snapshot's hash, then the 300 after it.
    expect(counting.eventsRead).toBe(1 + 300);
    expect(loaded.revision).toBe(BigInt(HISTORY + 300 - 1));
    expect(loaded.state).toEqual(await fullRead());
    expect(loaded.state).toEqual(folded);

    const debit: AccountCommand = {
      type: 'DebitAccount',
      accountId: ACCOUNT_ID,
      amount: { amountMinor: 12_345n, currency: CNY },
      kind: 'refund',
      operationId: '0190a0a0-0000-7000-8000-0000000000bb',
      merchantOrderNo: null,
      counterparty: { accountId: null, ownerId: null, name: null, channel: null },
      memo: '',
    };
    const expected: AccountEvent[] = accountDecider.decide(debit, await fullRead());
    const handled = await handler.handle(STREAM, debit, context());
    expect(handled.events).toEqual(expected);
    expect(handled.state).toEqual(await fullRead());
    expect(warnings).toEqual([]);
  });

  it('ignores a snapshot whose state was edited, reads in full, and takes a good one again', async () => {
    rewriteSnapshot((s) => ({ ...s, state: { ...(s['state'] as object), balanceMinor: '999999999' } }));
    const { handler, counting, snapshots: taken } = coldHandler();
    expect((await handler.load(STREAM)).state).toEqual(folded);
    expect(counting.eventsRead).toBe(HISTORY);
    expect(warnings).toEqual([
      {
        message: 'snapshot ignored; reading the stream in full',
        details: expect.objectContaining({ streamId: STREAM }),
      },
    ]);
    expect(warnings[0]!.details['reason']).toMatch(/digest/);

    await taken.idle();
    const again = coldHandler();
    await again.handler.load(STREAM);
    expect(again.counting.eventsRead).toBe(1);
  });

  it('ignores a snapshot of another history: the event at its revision has another hash', async () => {
    // Sealed anew, so only the hash chain can tell: a store restored from another environment's backup.
    rewriteSnapshot((s) => {
      const other = {
        ...(s as unknown as StoredSnapshot),
        revision: BigInt(s['revision'] as string),
        eventHash: 'ab'.repeat(32),
      };
      return { ...s, eventHash: other.eventHash, digest: snapshotDigest(other) };
    });
    const { handler, counting } = coldHandler();
    expect((await handler.load(STREAM)).state).toEqual(folded);
    expect(counting.eventsRead).toBe(1 + HISTORY);
    expect(warnings[0]!.details['reason']).toMatch(/another hash/);
  });

  it('ignores a snapshot beyond the stream (an event store older than its snapshots)', async () => {
    rewriteSnapshot((s) => {
      const beyond = { ...(s as unknown as StoredSnapshot), revision: BigInt(HISTORY + 10) };
      return { ...s, revision: String(beyond.revision), digest: snapshotDigest(beyond) };
    });
    const { handler } = coldHandler();
    expect((await handler.load(STREAM)).state).toEqual(folded);
    expect(warnings[0]!.details['reason']).toMatch(/no event at revision/);
  });

  it('ignores a snapshot of an older schema version, then replaces it with the current one', async () => {
    const v2 = { ...accountStateCodec, version: 2 };
    const { handler, counting, snapshots: taken } = coldHandler(v2);
    expect((await handler.load(STREAM)).state).toEqual(folded);
    expect(counting.eventsRead).toBe(HISTORY);
    expect(warnings[0]!.details['reason']).toMatch(/schema version 1; this code folds version 2/);
    await taken.idle();
    expect((await snapshots.load(STREAM))?.schemaVersion).toBe(2);
  });

  it('reads in full when the snapshot store cannot answer, and never fails a command for a snapshot', async () => {
    const broken: SnapshotStore = {
      engine: 'sqlite',
      load: () => Promise.reject(new Error('disk on fire')),
      save: () => Promise.reject(new Error('disk still on fire')),
      close: () => Promise.resolve(),
    };
    const { handler, snapshots: taken } = coldHandler(accountStateCodec, broken);
    const loaded = await handler.load(STREAM);
    expect(loaded.state).toEqual(folded);
    await taken.idle();
    expect(warnings.map((w) => w.message)).toEqual([
      'snapshot not readable; reading the stream in full',
      'snapshot not saved',
    ]);
    expect(warnings[1]!.details['reason']).toBe('disk still on fire');
  });

  it('writes a snapshot only after the command that made it due is answered', async () => {
    let answered = false;
    const saves: boolean[] = [];
    const watching: SnapshotStore = {
      engine: 'sqlite',
      load: (id) => snapshots.load(id),
      save: async (snapshot) => {
        saves.push(answered);
        await snapshots.save(snapshot);
      },
      close: () => Promise.resolve(),
    };
    const { handler, counting, snapshots: taken } = coldHandler(accountStateCodec, watching);
    await handler.load(STREAM);
    await taken.idle();
    expect(saves).toEqual([]); // read from the snapshot: nothing due
    // The writer's first step is reading the hash of the event at the snapshot's revision (one event).
    const hashReads: boolean[] = [];
    counting.onRead = (options) => {
      if (options?.maxCount === 1) hashReads.push(answered);
    };
    const nextMultiple = Math.ceil(HISTORY / EVERY) * EVERY;
    // Up to one event short of the next multiple: the command's own event passes it.
    folded = await appendHistory(events, nextMultiple - HISTORY - 1, folded);
    const credit = fc.sample(fundingCommand, { numRuns: 1, seed: 99 })[0]!;
    await handler.handle(STREAM, credit, context());
    answered = true;
    await taken.idle();
    expect(hashReads).toEqual([true]);
    expect(saves).toEqual([true]);
    expect((await snapshots.load(STREAM))?.revision).toBe(BigInt(nextMultiple - 1));
  });
});

describe('snapshots in the service', () => {
  it('are kept under DATA_DIR and read by the next cold service; SNAPSHOT_EVERY_EVENTS=0 reads none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-service-snapshots-'));
    const store = new SqliteEventStore(join(dir, EVENTS_FILE));
    const folded = await appendHistory(store, 1_200, accountDecider.initialState());
    await store.close();

    const warnings: string[] = [];
    const start = (every: string) =>
      startLedgerService(loadConfig({ DATA_DIR: dir, SNAPSHOT_EVERY_EVENTS: every }), {
        runProjections: false,
        onSnapshotWarning: (message) => warnings.push(message),
      });
    const first = await start('500');
    expect(await first.commands.getAccountState(ACCOUNT_ID)).toEqual(folded);
    await first.close(); // lets the snapshot the read made due be written

    const saved = new SqliteSnapshotStore(join(dir, SNAPSHOTS_FILE));
    expect((await saved.load(STREAM))?.revision).toBe(1_199n);
    // Damaged on purpose: a service with snapshots off must not even look at it.
    const damaged = { ...(await saved.load(STREAM))!, digest: '0'.repeat(64) };
    await saved.save(damaged);
    await saved.close();

    const off = await start('0');
    expect(await off.commands.getAccountState(ACCOUNT_ID)).toEqual(folded);
    await off.close();
    expect(warnings).toEqual([]);

    const on = await start('500');
    expect(await on.commands.getAccountState(ACCOUNT_ID)).toEqual(folded);
    await on.close();
    expect(warnings).toEqual(['snapshot ignored; reading the stream in full']);
  });
});

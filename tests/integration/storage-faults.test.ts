import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { EventStoreUnavailableError } from '../../src/ports/event-store.js';
import { anEvent } from '../support/events.js';
import { openWallet, recharge, startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * A full disk and read-only storage, for real, on the service's own connection to its event file (no
 * mock): `PRAGMA max_page_count` stops the file growing, so SQLite answers SQLITE_FULL exactly as on a
 * full disk; `PRAGMA query_only` makes every write answer SQLITE_READONLY. (chmod cannot do it here:
 * the suite runs as root, whom file modes do not stop, and an open connection keeps its descriptor.)
 *
 * Either way the command answers 503 storage_unavailable with Retry-After, nothing of it is written
 * (signed reads too answer 503: each claims its nonce in the same file), and once space or write access returns the same key's retry runs at once: no
 * restart, no claim left holding the key.
 */
describe('storage faults', () => {
  let ledger: TestLedger;
  let from: string;
  let to: string;
  let db: Database.Database;

  beforeAll(async () => {
    // The embedded engine's path: an operation in one commit (ONE_COMMIT=off runs the per-stream process,
    // whose steps a fault can split; its retry resumes them, docs/reliability.md).
    ledger = await startTestLedger(undefined, { ONE_COMMIT: 'auto' });
    from = (await openWallet(ledger.app)).accountId;
    to = (await openWallet(ledger.app)).accountId;
    expect((await recharge(ledger.app, from, '100.00')).statusCode).toBe(201);
    expect(ledger.service.eventStore).toBeInstanceOf(SqliteEventStore);
    // The connection the service writes with: the fault must be the one its own writes meet.
    db = (ledger.service.eventStore as unknown as { db: Database.Database }).db;
  });
  afterAll(async () => {
    await ledger.close();
  });

  const transfer = (key: string, amount = '1.00') =>
    ledger.inject({
      method: 'POST',
      url: '/v1/transfers',
      headers: { 'idempotency-key': key },
      payload: { fromAccountId: from, toAccountId: to, amount, currency: 'CNY' },
    });

  const balanceOf = async (accountId: string, minPosition = '0') => {
    const read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${accountId}?minPosition=${minPosition}` });
    expect(read.statusCode, read.body).toBe(200);
    return read.json<{ balance: string }>().balance;
  };

  function expectStorageUnavailable(response: Awaited<ReturnType<typeof transfer>>): void {
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'storage_unavailable', status: 503 });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.body).not.toMatch(/SQLITE|sqlite|events\.sqlite/);
  }

  /** Fills the file's last free pages with transfers until the limit refuses one; returns its key. */
  async function transferUntilFull(): Promise<{ key: string; head: bigint | 'start'; balance: string }> {
    const limit = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${limit}`);
    // Each transfer takes some of the free space left in the file's pages: a bounded number fills them.
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const head = await ledger.service.eventStore.headPosition();
      const balance = await balanceOf(from, head === 'start' ? '0' : head.toString());
      const key = randomUUID();
      const response = await transfer(key);
      if (response.statusCode === 201) continue;
      expectStorageUnavailable(response);
      return { key, head, balance };
    }
    throw new Error('200 transfers fitted in the file: the page limit did not take');
  }

  it('a full disk answers 503, writes nothing, and the same key succeeds once space returns', async () => {
    const { key, head, balance } = await transferUntilFull();
    expect(await ledger.service.eventStore.headPosition()).toBe(head);
    // Still full: the retry is refused the same way, and still writes nothing.
    expectStorageUnavailable(await transfer(key));
    expect(await ledger.service.eventStore.headPosition()).toBe(head);

    db.pragma('max_page_count = 4294967294');
    const retried = await transfer(key);
    expect(retried.statusCode, retried.body).toBe(201);
    const position = retried.json<{ position: string }>().position;
    expect(await balanceOf(from, position)).toBe((Number(balance) - 1).toFixed(2));
    // Once, whatever the retries: the recorded answer replays.
    const again = await transfer(key);
    expect([again.statusCode, again.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(await balanceOf(from, position)).toBe((Number(balance) - 1).toFixed(2));
  });

  it('read-only storage answers 503, writes nothing, and recovers when write access returns', async () => {
    const head = await ledger.service.eventStore.headPosition();
    const balance = await balanceOf(from, head === 'start' ? '0' : head.toString());
    db.pragma('query_only = ON');
    const key = randomUUID();
    try {
      expectStorageUnavailable(await transfer(key, '2.00'));
      expectStorageUnavailable(await transfer(key, '2.00'));
      expect(await ledger.service.eventStore.headPosition()).toBe(head);
      // A signed read claims its nonce in the event file too (replay protection): it cannot be served either.
      const read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${from}` });
      expect([read.statusCode, read.json<{ code: string }>().code]).toEqual([503, 'storage_unavailable']);
    } finally {
      db.pragma('query_only = OFF');
    }
    const retried = await transfer(key, '2.00');
    expect(retried.statusCode, retried.body).toBe(201);
    expect(await balanceOf(from, retried.json<{ position: string }>().position)).toBe((Number(balance) - 2).toFixed(2));
  });
});

describe('a full read-model file', () => {
  it('stops the projections, which catch up by themselves once space returns', async () => {
    // In this thread, so its connection is the one the fault is set on (a worker thread runs the same runner).
    const ledger = await startTestLedger(undefined, { ONE_COMMIT: 'auto', PROJECTIONS_THREAD: 'main' });
    try {
      const from = (await openWallet(ledger.app)).accountId;
      const to = (await openWallet(ledger.app)).accountId;
      const charged = await recharge(ledger.app, from, '100.00');
      expect(charged.statusCode).toBe(201);
      const readModels = (ledger.service.readModels as unknown as { db: Database.Database }).db;
      readModels.pragma(`max_page_count = ${readModels.pragma('page_count', { simple: true }) as number}`);
      // The log takes the commands; the read models cannot: the runner fails, backs off, and tries again.
      let position = charged.json<{ position: string }>().position;
      let transfers = 0;
      for (let attempt = 0; attempt < 500 && ledger.service.projections.healthy; attempt += 1) {
        const moved = await ledger.inject({
          method: 'POST',
          url: '/v1/transfers',
          payload: { fromAccountId: from, toAccountId: to, amount: '0.01', currency: 'CNY' },
        });
        expect(moved.statusCode, moved.body).toBe(201);
        position = moved.json<{ position: string }>().position;
        transfers += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(ledger.service.projections.healthy).toBe(false);
      readModels.pragma('max_page_count = 4294967294');
      // Bounded and generous: each read waits up to READ_YOUR_WRITES_TIMEOUT_MS (5 s) for the runner's back-off.
      let read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${from}?minPosition=${position}` });
      for (let wait = 0; wait < 12 && read.statusCode !== 200; wait += 1) {
        expect(read.json<{ code: string }>().code).toBe('read_model_behind');
        read = await ledger.inject({ method: 'GET', url: `/v1/accounts/${from}?minPosition=${position}` });
      }
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json<{ balance: string }>().balance).toBe((100 - transfers / 100).toFixed(2));
    } finally {
      await ledger.close();
    }
  }, 120_000);
});

describe('a full disk during a group commit', () => {
  const event = (bytes: number) => anEvent('Noted', { text: 'x'.repeat(bytes) });

  it('fails the whole commit: an append after the one that filled the file is not written behind a failure', async () => {
    const store = new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-full-')), 'events.sqlite'));
    try {
      await store.appendToStream('note-0', [event(10)], 'no_stream');
      const db = (store as unknown as { db: Database.Database }).db;
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      const head = await store.headPosition();
      // One turn of the event loop: one group commit. The first needs new pages, the second fits in a free one.
      const big = store.appendToStream('note-big', [event(200_000)], 'no_stream');
      const small = store.appendToStream('note-small', [event(10)], 'no_stream');
      const [bigOutcome, smallOutcome] = await Promise.allSettled([big, small]);
      expect(bigOutcome).toMatchObject({ status: 'rejected', reason: expect.any(EventStoreUnavailableError) });
      expect(smallOutcome).toMatchObject({ status: 'rejected', reason: expect.any(EventStoreUnavailableError) });
      expect(await store.headPosition()).toBe(head);
      db.pragma('max_page_count = 4294967294');
      await store.appendToStream('note-small', [event(10)], 'no_stream');
    } finally {
      await store.close();
    }
  });
});

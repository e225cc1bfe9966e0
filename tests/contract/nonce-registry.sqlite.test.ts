import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { EventStoreNonceRegistry } from '../../src/adapters/sqlite/event-store-nonce-registry.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteNonceRegistry } from '../../src/adapters/sqlite/sqlite-nonce-registry.js';
import { anEvent, uniqueStream } from '../support/events.js';
import { nonceRegistryContract } from './nonce-registry.contract.js';

nonceRegistryContract(
  'sqlite (embedded)',
  async () => new SqliteNonceRegistry(join(mkdtempSync(join(tmpdir(), 'ledger-nonces-')), 'nonces.sqlite')),
);

describe('sqlite nonce registry', () => {
  it('purges in bounded steps, oldest expiry first', async () => {
    const registry = new SqliteNonceRegistry(join(mkdtempSync(join(tmpdir(), 'ledger-nonces-')), 'nonces.sqlite'));
    const now = new Date('2026-11-21T10:00:00.000Z');
    for (let i = 0; i < 3; i += 1)
      await registry.claim('m-x/1', `expired-nonce-00000${i}`, new Date(now.getTime() - 1_000 * (i + 1)));
    await registry.claim('m-x/1', 'live-nonce-000000001', new Date(now.getTime() + 1_000));
    expect(await registry.purgeExpired(now, 2)).toBe(2);
    expect(await registry.purgeExpired(now, 2)).toBe(1);
    expect(await registry.purgeExpired(now, 2)).toBe(0);
    expect(await registry.claim('m-x/1', 'live-nonce-000000001', now)).toBe(false);
    await registry.close();
  });

  it('refuses in one registry a nonce claimed through another, and remembers it after a reopen', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ledger-nonces-')), 'nonces.sqlite');
    const a = new SqliteNonceRegistry(file);
    const b = new SqliteNonceRegistry(file);
    const until = new Date(Date.now() + 60_000);
    expect(await a.claim('m-x/1', 'nonce-0000000000001', until)).toBe(true);
    expect(await b.claim('m-x/1', 'nonce-0000000000001', until)).toBe(false);
    await a.close();
    await b.close();
    const reopened = new SqliteNonceRegistry(file);
    expect(await reopened.claim('m-x/1', 'nonce-0000000000001', until)).toBe(false);
    await reopened.close();
  });
});

const eventsFile = () => join(mkdtempSync(join(tmpdir(), 'ledger-nonces-')), 'events.sqlite');
nonceRegistryContract('sqlite, in the event store commits', async () => {
  const store = new SqliteEventStore(eventsFile());
  return new (class extends EventStoreNonceRegistry {
    override async close() {
      await store.close();
    }
  })(store);
});

describe('nonces in the event store commits', () => {
  it('answers a claim once it is committed (another connection sees it), sharing the commit of appends', async () => {
    const file = eventsFile();
    const [a, b] = [new SqliteEventStore(file), new SqliteEventStore(file)];
    const until = new Date(Date.now() + 60_000);
    const stream = uniqueStream();
    // Claimed and appended in the same turn: one group commit takes both.
    const [claimed, appended] = await Promise.all([
      new EventStoreNonceRegistry(a).claim('m-x/1', 'nonce-0000000000001', until),
      a.appendToStream(stream, [anEvent()], 'no_stream'),
    ]);
    expect([claimed, appended.nextExpectedRevision]).toEqual([true, 0n]);
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT count(*) FROM nonces').pluck().get()).toBe(1);
    raw.close();
    expect(await new EventStoreNonceRegistry(b).claim('m-x/1', 'nonce-0000000000001', until)).toBe(false);
    const racing = await Promise.all([
      new EventStoreNonceRegistry(a).claim('m-x/1', 'nonce-0000000000002', until),
      new EventStoreNonceRegistry(b).claim('m-x/1', 'nonce-0000000000002', until),
    ]);
    expect(racing.sort()).toEqual([false, true]);
    await Promise.all([a.close(), b.close()]);
    const reopened = new SqliteEventStore(file);
    expect(await new EventStoreNonceRegistry(reopened).claim('m-x/1', 'nonce-0000000000001', until)).toBe(false);
    await reopened.close();
  });
});

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScryptPasswordHasher } from '../../src/adapters/crypto/scrypt-password-hasher.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import type { CommandContext } from '../../src/commands/command-context.js';
import { EntityCommands } from '../../src/commands/entities/entity-commands.js';
import { EntityDirectory } from '../../src/commands/entities/entity-directory.js';
import type { EventStore, ReadStreamOptions } from '../../src/ports/event-store.js';

/** The entity command layer and the directory request authentication reads keys from. */
describe('entity commands and the entity directory', () => {
  let store: SqliteEventStore;
  let entities: EntityCommands;
  const hasher = new ScryptPasswordHasher({ logN: 10, blockSize: 8, parallelization: 1 });
  const context = (operationKey: string = randomUUID()): CommandContext => ({
    actor: 'test',
    correlationId: randomUUID(),
    causationId: null,
    idempotencyKey: null,
    operationKey,
    occurredAt: '2026-11-21T10:00:00.000Z',
  });
  const publicKey = () =>
    generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

  beforeAll(() => {
    store = new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-entities-')), 'events.sqlite'));
    entities = new EntityCommands(store, hasher);
  });
  afterAll(async () => {
    await store.close();
  });

  /** The store, counting the stream reads made through it. */
  function counting(inner: EventStore): { store: EventStore; reads: () => number } {
    let reads = 0;
    const wrapped = Object.create(inner) as EventStore;
    wrapped.readStream = (streamId: string, options?: ReadStreamOptions) => {
      reads += 1;
      return inner.readStream(streamId, options);
    };
    return { store: wrapped, reads: () => reads };
  }

  it('finds its own entity when a registration is retried under the same operation key', async () => {
    const key = randomUUID();
    const first = await entities.register({ kind: 'merchant', displayName: 'Retry' }, context(key));
    const again = await entities.register({ kind: 'merchant', displayName: 'Retry' }, context(key));
    expect(again.entityId).toBe(first.entityId);
    expect(again.events).toEqual(first.events);
  });

  it('answers a taken-over key registration with the key the first run registered', async () => {
    const { entityId } = await entities.register({ kind: 'merchant', displayName: 'Takeover' }, context());
    const key = randomUUID();
    const first = await entities.registerApiKey(entityId, publicKey(), context(key), { takeover: false });
    const takeover = await entities.registerApiKey(entityId, publicKey(), context(key), { takeover: true });
    expect(takeover.key).toEqual(first.key);
    expect(takeover.state.keys).toHaveLength(1);
  });

  it('answers a taken-over password change without verifying the (already replaced) old password', async () => {
    const { entityId } = await entities.register({ kind: 'user', displayName: 'Password takeover' }, context());
    await entities.setPaymentPassword(entityId, { newPassword: '583920', currentPassword: null }, context(), {
      takeover: false,
    });
    const key = randomUUID();
    await entities.setPaymentPassword(entityId, { newPassword: '740261', currentPassword: '583920' }, context(key), {
      takeover: false,
    });
    const takeover = await entities.setPaymentPassword(
      entityId,
      { newPassword: '740261', currentPassword: '583920' },
      context(key),
      { takeover: true },
    );
    expect(takeover.events[0]).toMatchObject({ type: 'PaymentPasswordSet', data: { reason: 'change' } });
    expect(await entities.verifyPaymentPassword(entityId, '740261')).toBe(true);
  });

  it('serves an entity from memory, one read however many lookups arrive at once', async () => {
    const { entityId } = await entities.register({ kind: 'merchant', displayName: 'Hot' }, context());
    const { store: countingStore, reads } = counting(store);
    const directory = new EntityDirectory(countingStore, { maxEntities: 10, refreshAfterMs: 60_000 });
    const found = await Promise.all(Array.from({ length: 50 }, () => directory.get(entityId)));
    expect(found.every((entity) => entity?.entityId === entityId)).toBe(true);
    await directory.get(entityId);
    expect(reads()).toBe(1);
  });

  it('does not cache unknown entities, so made-up ids cannot push real ones out', async () => {
    const { store: countingStore, reads } = counting(store);
    const directory = new EntityDirectory(countingStore, { maxEntities: 10, refreshAfterMs: 60_000 });
    const unknown = 'm-0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3';
    expect(await directory.get(unknown)).toBeUndefined();
    expect(await directory.get(unknown)).toBeUndefined();
    expect(reads()).toBe(2);
  });

  it("sees another writer's revocation once the entry is older than refreshAfterMs, reading only the new events", async () => {
    const { entityId } = await entities.register({ kind: 'merchant', displayName: 'Elsewhere' }, context());
    await entities.registerApiKey(entityId, publicKey(), context(), { takeover: false });
    let nowMs = 0;
    const directory = new EntityDirectory(store, { maxEntities: 10, refreshAfterMs: 5_000 }, () => nowMs);
    expect((await directory.get(entityId))?.keys[0]?.status).toBe('active');

    // Another process (another EntityCommands on the same store) revokes the key.
    const elsewhere = new EntityCommands(store, hasher);
    await elsewhere.revokeApiKey(entityId, 1, 'leaked', context(), { takeover: false });
    nowMs = 4_999;
    expect((await directory.get(entityId))?.keys[0]?.status).toBe('active');
    nowMs = 5_000;
    expect((await directory.get(entityId))?.keys[0]?.status).toBe('revoked');
  });

  it('sees a revocation made through the same commands at once', async () => {
    const { entityId } = await entities.register({ kind: 'merchant', displayName: 'Here' }, context());
    await entities.registerApiKey(entityId, publicKey(), context(), { takeover: false });
    expect((await entities.directory.get(entityId))?.keys[0]?.status).toBe('active');
    await entities.revokeApiKey(entityId, 1, 'leaked', context(), { takeover: false });
    expect((await entities.directory.get(entityId))?.keys[0]?.status).toBe('revoked');
  });

  it('keeps at most maxEntities in memory', async () => {
    const ids = [];
    for (let i = 0; i < 3; i += 1)
      ids.push((await entities.register({ kind: 'merchant', displayName: `LRU ${i}` }, context())).entityId);
    const { store: countingStore, reads } = counting(store);
    const directory = new EntityDirectory(countingStore, { maxEntities: 2, refreshAfterMs: 60_000 });
    for (const id of ids) await directory.get(id);
    await directory.get(ids[2]!);
    await directory.get(ids[1]!);
    expect(reads()).toBe(3);
    await directory.get(ids[0]!);
    expect(reads()).toBe(4);
  });
});

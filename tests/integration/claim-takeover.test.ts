import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeInstances, printInstances } from '../../scripts/instance-status.js';
import { buildHttpServer } from '../../src/adapters/http/server.js';
import { INSTANCES_FILE } from '../../src/adapters/storage.js';
import { SqliteInstanceRegistry } from '../../src/adapters/sqlite/sqlite-instance-registry.js';
import { InstanceHeartbeats } from '../../src/commands/claim-owners.js';
import {
  IdempotencyKeeper,
  IdempotentRequestInProgressError,
  type CommandResponse,
} from '../../src/commands/idempotency.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import type { Clock } from '../../src/ports/clock.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { openWallet, recharge, signedInject, startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * Idempotency claims against the instances that own them, on the real embedded stores: a claim of an
 * instance that may still work is never taken (409 in progress), one of an instance known to be gone
 * (ended, its process gone, its heartbeat stale) is taken over at once, and an owner taken over while it
 * was only paused cannot record its answer over the new claim's (fencing by the claim's revision).
 */
const TIMING = { beatIntervalMs: 5_000, staleAfterMs: 10_000 };
/** Later than the staleness limit, well within the claim's lease (30 s): the heartbeat decides, not the lease. */
const PAST_STALENESS_S = 11;

/** A store that offers no multi-stream append: commands run as processes of separate appends. */
function perStream(store: EventStore, beforeAppend?: (streamId: string) => Promise<void>): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'appendToStreams') return undefined;
      if (property === 'appendToStream' && beforeAppend) {
        return async (...args: Parameters<EventStore['appendToStream']>) => {
          await beforeAppend(args[0]);
          return target.appendToStream(...args);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

const later = (clock: Clock, seconds: number): Clock => ({ now: () => clock.now().plus({ seconds }) });

describe('idempotency claims and their owners', () => {
  let ledger: TestLedger;
  const instances: InstanceHeartbeats[] = [];
  const registryFile = () => join(ledger.dataDir, INSTANCES_FILE);

  /** Another service instance on the same stores: its own registry connection, its own clock. */
  async function anInstance(clock: Clock = ledger.service.clock): Promise<InstanceHeartbeats> {
    const instance = new InstanceHeartbeats(new SqliteInstanceRegistry(registryFile()), clock, TIMING);
    await instance.start();
    instances.push(instance);
    return instance;
  }
  const keeperOf = (instance: InstanceHeartbeats, clock: Clock = ledger.service.clock) =>
    new IdempotencyKeeper(perStream(ledger.service.eventStore), clock, { owners: instance });

  beforeAll(async () => {
    ledger = await startTestLedger();
  });
  afterAll(async () => {
    for (const instance of instances) await instance.stop().catch(() => undefined);
    await ledger.close();
  });

  const ok: CommandResponse = { statusCode: 201, body: { done: true } };
  const request = () => ({ scope: 'm-claims', key: randomUUID(), fingerprint: 'f' });
  /** Claims the key at `owner` and leaves it unanswered, as a request cut short or still running does. */
  async function strand(owner: IdempotencyKeeper, key: ReturnType<typeof request>) {
    const never = new Promise<CommandResponse>(() => {});
    void owner.run(
      key,
      () => never,
      () => undefined,
    );
    // The claim is durable once the keeper's append returns: wait until the stream has it.
    for (let attempt = 0; attempt < 500; attempt += 1) {
      for await (const event of ledger.service.eventStore.readStream(owner.streamIdOf(key))) return event;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the claim was never recorded');
  }

  it('names the owner and the revision in the claim', async () => {
    const owner = await anInstance();
    const key = request();
    const claim = await strand(keeperOf(owner), key);
    expect(claim.data).toMatchObject({ owner: owner.self, revision: '0' });
  });

  it('never takes the claim of an owner that still beats: 409 in progress, with a wait', async () => {
    const owner = await anInstance();
    const key = request();
    await strand(keeperOf(owner), key);
    let ran = false;
    const retry = keeperOf(await anInstance()).run(
      key,
      async () => ((ran = true), ok),
      () => undefined,
    );
    const refused = await retry.catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IdempotentRequestInProgressError);
    expect((refused as IdempotentRequestInProgressError).retryAfterMs).toBeGreaterThan(20_000);
    expect(ran).toBe(false);
  });

  it('takes over at once the claim of an owner that ended, that died (its lock free), or that went silent', async () => {
    const ended = await anInstance();
    const died = await anInstance();
    const silent = await anInstance();
    // Its registry connection is closed below: it is never stopped.
    instances.splice(instances.indexOf(died), 1);
    const cases: Array<[InstanceHeartbeats, () => Promise<void>, Clock]> = [
      [ended, () => ended.stop(), ledger.service.clock],
      // Its process gone: the registry connection holding its lock closed, as a kill -9 does.
      [died, () => (died as unknown as { registry: SqliteInstanceRegistry }).registry.close(), ledger.service.clock],
      [silent, async () => {}, later(ledger.service.clock, PAST_STALENESS_S)],
    ];
    for (const [owner, gone, retryClock] of cases) {
      const key = request();
      await strand(keeperOf(owner), key);
      await gone();
      const retry = await keeperOf(await anInstance(retryClock), retryClock).run(
        key,
        async (attempt) => ({ statusCode: 201, body: { takeover: attempt.takeover } }),
        () => undefined,
      );
      expect(retry, owner.self).toEqual({ statusCode: 201, body: { takeover: true }, replayed: false });
    }
  });

  it('leaves a claim that names no owner (recorded before owners were named) to the lease', async () => {
    const key = request();
    await strand(new IdempotencyKeeper(perStream(ledger.service.eventStore), ledger.service.clock), key);
    const retry = keeperOf(await anInstance()).run(
      key,
      async () => ok,
      () => undefined,
    );
    await expect(retry).rejects.toBeInstanceOf(IdempotentRequestInProgressError);
  });

  it('lists the instances on record with what each may still do (`ledger instances`)', async () => {
    const ended = await anInstance();
    await ended.stop();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    let records;
    try {
      records = await printInstances(ledger.service.config, 1_000);
    } finally {
      log.mockRestore();
    }
    const lines = describeInstances(records, Date.now(), TIMING.staleAfterMs);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${ledger.service.instance.self}  running `)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${ended.self}  ended `)));
    await expect(printInstances(ledger.service.config, 0)).rejects.toThrow(RangeError);
  });

  describe('an owner paused, taken over, and resumed (fencing by claim revision)', () => {
    let paused: FastifyInstance;
    let retrying: FastifyInstance;
    let resume: () => void;
    let pausedAtEffect: Promise<void>;

    beforeAll(async () => {
      const { service } = ledger;
      let reachedEffect!: () => void;
      pausedAtEffect = new Promise((resolve) => (reachedEffect = resolve));
      const gate = new Promise<void>((resolve) => (resume = resolve));
      let pausedOnce = false;
      // The paused owner stops before its first write of the operation (a GC pause, a stalled disk).
      const pausing = perStream(service.eventStore, async (streamId) => {
        if (streamId.startsWith('idempotency-') || pausedOnce) return;
        pausedOnce = true;
        reachedEffect();
        await gate;
      });
      const owner = await anInstance();
      paused = await buildHttpServer({
        ...service,
        commands: new LedgerCommands(pausing, service.channels.gateway, service.config.accountingTimeZone),
        idempotency: new IdempotencyKeeper(pausing, service.clock, { owners: owner }),
      });
      // The retry's instance sees the paused owner's heartbeat stale (the pause outlasted the limit).
      const retryClock = later(service.clock, PAST_STALENESS_S);
      retrying = await buildHttpServer({
        ...service,
        commands: new LedgerCommands(
          perStream(service.eventStore),
          service.channels.gateway,
          service.config.accountingTimeZone,
        ),
        idempotency: keeperOf(await anInstance(retryClock), retryClock),
      });
    });
    afterAll(async () => {
      resume();
      await Promise.all([paused.close(), retrying.close()]);
    });

    it("refuses the resumed owner's answer, moves the money once, and both answer what the ledger holds", async () => {
      const from = await openWallet(ledger.app);
      const to = await openWallet(ledger.app);
      expect((await recharge(ledger.app, from.accountId, '100.00')).statusCode).toBe(201);
      const transfer = {
        method: 'POST' as const,
        url: '/v1/transfers',
        headers: { 'idempotency-key': randomUUID() },
        payload: { fromAccountId: from.accountId, toAccountId: to.accountId, amount: '30.00', currency: 'CNY' },
      };
      const first = signedInject(paused, transfer, ledger.operator);
      await pausedAtEffect;

      const retry = await signedInject(retrying, transfer, ledger.operator);
      expect(retry.statusCode, retry.body).toBe(201);
      resume();
      const resumed = await first;
      // The paused owner answers what the owner after it recorded, never an answer of its own.
      expect([resumed.statusCode, resumed.headers['idempotent-replayed']], resumed.body).toEqual([201, 'true']);
      expect(resumed.json()).toEqual(retry.json());

      const key = ledger.service.idempotency.streamIdOf({
        scope: ledger.operator.entityId,
        key: transfer.headers['idempotency-key'],
        fingerprint: '',
      });
      const types: string[] = [];
      for await (const event of ledger.service.eventStore.readStream(key)) types.push(event.type);
      expect(types).toEqual(['IdempotencyKeyClaimed', 'IdempotencyKeyClaimed', 'IdempotentResponseRecorded']);

      const { commands } = ledger.service;
      const moved = (await commands.getAccountEvents(to.accountId)).filter((e) => e.type === 'FundsCredited');
      expect(moved).toHaveLength(1);
      const balanceOf = async (accountId: string) => {
        const state = await commands.getAccountState(accountId);
        return state.exists ? state.balanceMinor : undefined;
      };
      expect([await balanceOf(from.accountId), await balanceOf(to.accountId)]).toEqual([7_000n, 3_000n]);
      expect(await commands.getTransfer(retry.json().transferId)).toMatchObject({ status: 'completed' });
    });
  });
});

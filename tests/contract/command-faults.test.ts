import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../src/adapters/esdb/esdb-event-store.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { accountStreamId } from '../../src/commands/accounts/open-account-handler.js';
import {
  IdempotencyKeeper,
  IdempotentRequestInProgressError,
  type CommandResponse,
} from '../../src/commands/idempotency.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { runAccountStep, stepContext } from '../../src/commands/operations/operation-steps.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler } from '../../src/commands/stream-command-handler.js';
import { accountDecider } from '../../src/domain/accounts/account-decider.js';
import { AppendOutcomeUnknownError, type EventStore } from '../../src/ports/event-store.js';
import { cny, context, openFunded } from '../support/command-fixtures.js';
import { collect } from '../support/events.js';
import { FaultyEventStore, type AppendFault } from './faulty-event-store.js';
import { testChannels } from '../support/test-channels.js';

/**
 * The command side against event stores that fail the way real engines fail: an append that times out
 * after it was written, one that lands late, two runs of one step. On the embedded store always, and on
 * EventStoreDB when EVENTSTORE_URL is set.
 */
const engines: Array<[string, () => Promise<EventStore>]> = [
  ['sqlite (embedded)', async () => new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-faults-')), 'e.db'))],
];
const esdbUrl = process.env['EVENTSTORE_URL'];
if (esdbUrl) engines.push(['esdb (EVENTSTORE_URL)', () => EsdbEventStore.connect(esdbUrl)]);

for (const [engine, open] of engines) {
  describe(`command side under append faults: ${engine}`, () => {
    let inner: EventStore;
    let store: FaultyEventStore;
    let commands: LedgerCommands;
    const channels = testChannels().gateway;

    beforeAll(async () => {
      inner = await open();
      store = new FaultyEventStore(inner);
      commands = new LedgerCommands(store, channels, 'Asia/Shanghai');
    });
    afterAll(async () => {
      await inner.close();
    });

    /** A payer with 100.00 pays 12.50 while the store fails its appends as told. */
    async function payThrough(...faults: AppendFault[]) {
      const payer = await openFunded(commands, 'wallet', '100.00');
      const payee = await openFunded(commands, 'merchant_settlement', null, 'm-faults');
      store.failNextAppends(...faults);
      const { payment } = await commands.pay(
        {
          merchantId: 'm-faults',
          merchantOrderNo: `order-${randomUUID()}`,
          description: 'faults',
          payerAccountId: payer,
          payeeAccountId: payee,
          amount: cny('12.50'),
          payerIp: null,
          payerPlatform: null,
        },
        context(),
      );
      return { payer, payment };
    }

    async function balanceOf(accountId: string): Promise<bigint | undefined> {
      const state = await commands.getAccountState(accountId);
      return state.exists ? state.balanceMinor : undefined;
    }

    async function debits(accountId: string): Promise<number> {
      const events = await collect(inner.readStream(accountStreamId(accountId)));
      return events.filter((event) => event.type === 'FundsDebited').length;
    }

    it('completes a payment whose debit timed out after it was written, debiting once', async () => {
      // PaymentInitiated goes through; the payer's debit is written but its answer lost.
      const { payer, payment } = await payThrough('none', 'timeout-after-write');
      expect(payment.status).toBe('completed');
      expect(await balanceOf(payer)).toBe(8_750n);
      expect(await debits(payer)).toBe(1);
    });

    it('stores a debit once when its timed-out append lands after the retry', async () => {
      const { payer, payment } = await payThrough('none', 'lands-late');
      expect(payment.status).toBe('completed');
      const [late] = await store.releaseLate();
      expect(late).toBeDefined();
      expect(await debits(payer)).toBe(1);
      expect(await balanceOf(payer)).toBe(8_750n);
    });

    it('records one debit when two runs of a step each decide it (a resume beside a retry)', async () => {
      const payer = await openFunded(commands, 'wallet', '100.00');
      const operationId = randomUUID();
      const command = {
        type: 'DebitAccount' as const,
        accountId: payer,
        amount: cny('30.00'),
        kind: 'payment' as const,
        operationId,
        merchantOrderNo: null,
        counterparty: { accountId: 'x', ownerId: 'x', name: null, channel: null },
        memo: 'step run twice',
      };
      const step = stepContext(context(), operationId, 'debit');
      // Two processes: each has its own handler and cache; neither has seen the other's run.
      const first = { eventStore: store, accounts: new StreamCommandHandler(store, accountDecider) };
      const second = { eventStore: store, accounts: new StreamCommandHandler(store, accountDecider) };
      await second.accounts.load(accountStreamId(payer));
      expect((await runAccountStep(first, payer, command, step, null)).ok).toBe(true);
      // The second decides again on the state it loads (with the first debit in it) and appends the same
      // event id at the head of the stream.
      expect((await runAccountStep(second, payer, command, step, null)).ok).toBe(true);
      expect(await debits(payer)).toBe(1);
      expect(await balanceOf(payer)).toBe(7_000n);
    });

    it('records the new commands of a batch that also holds a repeat of a recorded one, and the repeat once', async () => {
      const payer = await openFunded(commands, 'wallet', '100.00');
      const streamId = accountStreamId(payer);
      // Few attempts: a batch that cannot go through should fail fast here, not after 30 backoffs.
      const accounts = new StreamCommandHandler(store, accountDecider, { ...DEFAULT_HANDLER_LIMITS, maxAttempts: 3 });
      const debit = (amount: string) => ({
        type: 'DebitAccount' as const,
        accountId: payer,
        amount: cny(amount),
        kind: 'payment' as const,
        operationId: randomUUID(),
        merchantOrderNo: null,
        counterparty: { accountId: 'x', ownerId: 'x', name: null, channel: null },
        memo: 'batched with a repeat',
      });
      const repeated = { command: debit('10.00'), context: context() };
      await accounts.handle(streamId, repeated.command, repeated.context);
      for (const repeatFirst of [true, false]) {
        // The stream is busy with a first debit, so the repeat (a client retry: same command, same ids) and
        // the new debit wait together and are decided as one batch.
        // The handler's drain of the last batch ends after its answers: let it end, so `busy` runs alone.
        await new Promise((resolve) => setImmediate(resolve));
        const busy = accounts.handle(streamId, debit('1.00'), context());
        const handleRepeat = () => accounts.handle(streamId, repeated.command, repeated.context);
        const handleFresh = () => accounts.handle(streamId, debit('2.00'), context());
        const repeat = repeatFirst ? handleRepeat() : undefined;
        const fresh = handleFresh();
        const [busyResult, repeatResult, freshResult] = await Promise.all([busy, repeat ?? handleRepeat(), fresh]);
        expect(busyResult.events).toHaveLength(1);
        expect(freshResult.events).toHaveLength(1);
        expect(repeatResult.events).toEqual([]);
      }
      expect(await debits(payer)).toBe(5);
      expect(await balanceOf(payer)).toBe(10_000n - 1_000n - 2n * (100n + 200n));
    });

    describe('idempotency keys', () => {
      const request = () => ({ scope: 'm-faults', key: randomUUID(), fingerprint: 'f' });
      const ok: CommandResponse = { statusCode: 201, body: { done: true } };

      it('holds a key whose claim timed out after it was written, and runs the command once', async () => {
        const keeper = new IdempotencyKeeper(store, systemClock);
        const key = request();
        let runs = 0;
        store.failNextAppends('timeout-after-write');
        const answer = await keeper.run(
          key,
          async () => ((runs += 1), ok),
          () => undefined,
        );
        expect(answer).toMatchObject({ ...ok, replayed: false });
        expect(
          await keeper.run(
            key,
            async () => ((runs += 1), ok),
            () => undefined,
          ),
        ).toMatchObject({
          replayed: true,
        });
        expect(runs).toBe(1);
      });

      it('keeps the claim of a request whose write may have landed, so a retry does not race it', async () => {
        const keeper = new IdempotencyKeeper(store, systemClock);
        const key = request();
        const unknown = new AppendOutcomeUnknownError('the debit may have been written');
        await expect(
          keeper.run(
            key,
            async () => {
              throw unknown;
            },
            () => undefined,
          ),
        ).rejects.toBe(unknown);
        let retried = false;
        await expect(
          keeper.run(
            key,
            async () => ((retried = true), ok),
            () => undefined,
          ),
        ).rejects.toBeInstanceOf(IdempotentRequestInProgressError);
        expect(retried).toBe(false);
      });
    });
  });
}

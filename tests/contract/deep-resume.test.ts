import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { accountStreamId } from '../../src/commands/accounts/open-account-handler.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { RETRY_LOOKBACK_EVENTS } from '../../src/commands/recorded-events.js';
import { StreamCommandHandler } from '../../src/commands/stream-command-handler.js';
import { accountDecider } from '../../src/domain/accounts/account-decider.js';
import { EventStoreUnavailableError, IDEMPOTENCY_WINDOW_EVENTS } from '../../src/ports/event-store.js';
import { cny, context, openFunded } from '../support/command-fixtures.js';
import { collect } from '../support/events.js';
import { FaultyEventStore } from './faulty-event-store.js';
import { WindowOnlyEventStore } from './window-only-event-store.js';
import { testChannels } from '../support/test-channels.js';

/**
 * An operation resumed long after its first step, on a busy account: the step must be found however many
 * events the account took meanwhile, because the event store recognises a repeated event id only within
 * IDEMPOTENCY_WINDOW_EVENTS (EventStoreDB stores an append at the head again). Run through a wrapper that
 * behaves exactly that way over the embedded store.
 */
describe('an operation resumed after its account took more events than any look-back window', () => {
  let inner: SqliteEventStore;
  let faulty: FaultyEventStore;
  let windowOnly: WindowOnlyEventStore;
  let commands: LedgerCommands;

  beforeAll(() => {
    inner = new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-deep-resume-')), 'e.db'));
    windowOnly = new WindowOnlyEventStore(inner);
    faulty = new FaultyEventStore(windowOnly);
    const channels = testChannels().gateway;
    commands = new LedgerCommands(faulty, channels, 'Asia/Shanghai');
  });
  afterAll(async () => {
    await inner.close();
  });

  /** Credits the account `count` times with 0.01, straight on the store (another busy writer). */
  async function busy(accountId: string, count: number): Promise<void> {
    const accounts = new StreamCommandHandler(inner, accountDecider);
    const wave = 1_000;
    for (let done = 0; done < count; done += wave) {
      await Promise.all(
        Array.from({ length: Math.min(wave, count - done) }, () =>
          accounts.handle(
            accountStreamId(accountId),
            {
              type: 'RechargeAccount',
              rechargeId: randomUUID(),
              accountId,
              amount: cny('0.01'),
              channel: 'sim-bank',
              channelOrderNo: 'busy',
              channelFeeMinor: 0n,
            },
            context(),
          ),
        ),
      );
    }
  }

  it('debits the sender once when the retry comes after more than the look-back of other events', async () => {
    const from = await openFunded(commands, 'wallet', '100.00', 'u-deep-from');
    const to = await openFunded(commands, 'wallet', null, 'u-deep-to');
    const request = { fromAccountId: from, toAccountId: to, amount: cny('12.50'), memo: 'deep resume' };
    const ctx = context();
    // The transfer is requested and the sender debited; the receiver's credit finds the store unavailable.
    faulty.failNextAppends('none', 'none', 'unavailable');
    await expect(commands.transfer(request, ctx)).rejects.toBeInstanceOf(EventStoreUnavailableError);

    const deeperThan = Math.max(RETRY_LOOKBACK_EVENTS, IDEMPOTENCY_WINDOW_EVENTS) + 50;
    await busy(from, deeperThan);

    const { transfer } = await commands.transfer(request, ctx); // the client's retry, same key
    expect(transfer.status).toBe('completed');
    const events = await collect(inner.readStream(accountStreamId(from)));
    expect(events.filter((e) => e.type === 'FundsDebited')).toHaveLength(1);
    expect(windowOnly.storedAgain).toBe(0);
    const state = await commands.getAccountState(from);
    expect(state.exists && state.balanceMinor).toBe(10_000n - 1_250n + BigInt(deeperThan));
  }, 120_000);
});

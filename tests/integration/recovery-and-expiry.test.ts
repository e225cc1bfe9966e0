import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { resumeStalledOperations } from '../../src/commands/operations/resume-operations.js';
import { expireDuePreauths } from '../../src/commands/preauths/preauth-expiry.js';
import { availableMinor } from '../../src/domain/accounts/account-state.js';
import { EventStoreUnavailableError, type EventStore } from '../../src/ports/event-store.js';
import { operationsProjection } from '../../src/projections/operations.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { context, cny, openFunded } from '../support/command-fixtures.js';
import { testChannels, payerFor } from '../support/test-channels.js';

/**
 * A process that dies mid-operation: the event store is the real embedded one, and the n-th append
 * fails as if the process had died just before it (nothing of it is written).
 */
function dyingAfter(store: EventStore, appends: number): EventStore {
  let left = appends;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'appendToStream') {
        return (...args: Parameters<EventStore['appendToStream']>) => {
          if (left <= 0) return Promise.reject(new EventStoreUnavailableError('the process died'));
          left -= 1;
          return target.appendToStream(...args);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

// One bank for every instance of a test (the one that dies, the one restarted): its orders and contracts stay.
const sharedChannels = testChannels();
const channels = () => sharedChannels.gateway;
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe('recovery and expiry sweeps', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-recovery-'));
  const store = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  const readModels = new SqliteReadModelStore(join(dataDir, 'read-models.sqlite'));
  const runner = new ProjectionRunner(store, readModels, [operationsProjection]);

  afterEach(async () => {
    await runner.catchUp();
  });

  it('resumes a payment whose process died after debiting the payer, crediting the payee exactly once', async () => {
    const survivor = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    const payer = await openFunded(survivor, 'wallet', '50.00');
    const payee = await openFunded(survivor, 'merchant_settlement', null, 'm-crash');

    // Initiated, debited, then death before the credit.
    const dying = new LedgerCommands(dyingAfter(store, 2), channels(), 'Asia/Shanghai');
    await expect(
      dying.pay(
        {
          merchantId: 'm-crash',
          merchantOrderNo: 'crash-1',
          description: '',
          payerAccountId: payer,
          payeeAccountId: payee,
          amount: cny('20.00'),
          payerIp: null,
          payerPlatform: null,
        },
        context(),
      ),
    ).rejects.toBeInstanceOf(EventStoreUnavailableError);

    const restarted = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    const payerState = await restarted.getAccountState(payer);
    expect(payerState.exists && payerState.balanceMinor).toBe(3_000n); // debited, money in transit
    await runner.catchUp();

    // Too early: a request might still be running. After the grace period: resumed.
    expect(await resumeStalledOperations(restarted, readModels, new Date().toISOString(), 60_000)).toBe(0);
    expect(await resumeStalledOperations(restarted, readModels, later(5), 60_000)).toBe(1);
    const payeeState = await restarted.getAccountState(payee);
    expect(payeeState.exists && payeeState.balanceMinor).toBe(2_000n);
    const payments = await restarted.getAccountEvents(payer);
    expect(payments.filter((e) => e.type === 'FundsDebited')).toHaveLength(1);

    // A second sweep finds nothing left to do.
    await runner.catchUp();
    expect(await resumeStalledOperations(restarted, readModels, later(5), 60_000)).toBe(0);
  });

  it('resumes a recharge whose process died after the card was charged, crediting it exactly once', async () => {
    const survivor = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    const wallet = await openFunded(survivor, 'wallet', null);
    // The request is recorded, the channel charges the card, then death before the credit.
    const dying = new LedgerCommands(dyingAfter(store, 1), channels(), 'Asia/Shanghai');
    await expect(
      dying.recharge({ accountId: wallet, amount: cny('42.00'), payer: await payerFor(dying) }, context()),
    ).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await runner.catchUp();

    const restarted = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    expect(await resumeStalledOperations(restarted, readModels, later(5), 60_000)).toBe(1);
    const state = await restarted.getAccountState(wallet);
    expect(state.exists && state.balanceMinor).toBe(4_200n);
    await runner.catchUp();
    expect(await resumeStalledOperations(restarted, readModels, later(5), 60_000)).toBe(0);
    expect((await restarted.getAccountEvents(wallet)).filter((e) => e.type === 'FundsRecharged')).toHaveLength(1);
  });

  it('resumes a freeze release that died after reserving the amount, releasing it once', async () => {
    const survivor = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    const wallet = await openFunded(survivor, 'wallet', '50.00');
    const { freeze } = await survivor.placeFreeze(
      { accountId: wallet, amount: cny('30.00'), reason: 'order' },
      context(),
    );
    const dying = new LedgerCommands(dyingAfter(store, 1), channels(), 'Asia/Shanghai');
    await expect(dying.releaseFreeze(freeze.request.freezeId, 1_000n, 'partial', context())).rejects.toBeInstanceOf(
      EventStoreUnavailableError,
    );
    await runner.catchUp();

    const restarted = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    expect(await resumeStalledOperations(restarted, readModels, later(5), 60_000)).toBe(1);
    const state = await restarted.getAccountState(wallet);
    expect(state.exists && [availableMinor(state), state.frozenMinor]).toEqual([3_000n, 2_000n]);
    await runner.catchUp();
    expect(await resumeStalledOperations(restarted, readModels, later(5), 60_000)).toBe(0);
  });

  it('resumes a pre-authorisation completion that died after capturing from the payer', async () => {
    const survivor = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    const payer = await openFunded(survivor, 'wallet', '100.00');
    const payee = await openFunded(survivor, 'merchant_settlement', null, 'm-hold');
    const { preauth } = await survivor.authorisePreauth(
      {
        merchantId: 'm-hold',
        merchantOrderNo: 'h-1',
        payerAccountId: payer,
        payeeAccountId: payee,
        amount: cny('40.00'),
        expiresAt: later(60),
      },
      context(),
    );

    // Completion requested, payer captured, then death before the payee credit.
    const dying = new LedgerCommands(dyingAfter(store, 2), channels(), 'Asia/Shanghai');
    await expect(dying.completePreauth(preauth.request.preauthId, cny('30.00'), context())).rejects.toBeInstanceOf(
      EventStoreUnavailableError,
    );
    await runner.catchUp();

    const restarted = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    expect(await resumeStalledOperations(restarted, readModels, later(5), 60_000)).toBe(1);
    expect((await restarted.getPreauth(preauth.request.preauthId)).status).toBe('completed');
    const [payerState, payeeState] = [await restarted.getAccountState(payer), await restarted.getAccountState(payee)];
    expect(payerState.exists && [payerState.balanceMinor, payerState.frozenMinor]).toEqual([7_000n, 0n]);
    expect(payeeState.exists && payeeState.balanceMinor).toBe(3_000n);
  });

  it('cancels pre-authorisations whose hold has lapsed, and only those', async () => {
    const commands = new LedgerCommands(store, channels(), 'Asia/Shanghai');
    const payer = await openFunded(commands, 'wallet', '100.00');
    const payee = await openFunded(commands, 'merchant_settlement', null, 'm-exp');
    const soon = await commands.authorisePreauth(
      {
        merchantId: 'm-exp',
        merchantOrderNo: 'e-1',
        payerAccountId: payer,
        payeeAccountId: payee,
        amount: cny('10.00'),
        expiresAt: later(1),
      },
      context(),
    );
    const lateOne = await commands.authorisePreauth(
      {
        merchantId: 'm-exp',
        merchantOrderNo: 'e-2',
        payerAccountId: payer,
        payeeAccountId: payee,
        amount: cny('20.00'),
        expiresAt: later(120),
      },
      context(),
    );
    await runner.catchUp();

    expect(await expireDuePreauths(commands, readModels, later(2))).toBe(1);
    expect(await commands.getPreauth(soon.preauth.request.preauthId)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'expired',
    });
    expect((await commands.getPreauth(lateOne.preauth.request.preauthId)).status).toBe('authorised');
    const payerState = await commands.getAccountState(payer);
    expect(payerState.exists && [availableMinor(payerState), payerState.frozenMinor]).toEqual([8_000n, 2_000n]);
  });
});

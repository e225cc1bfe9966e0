import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { CNY, context, cny, openFunded } from '../support/command-fixtures.js';
import { testChannels } from '../support/test-channels.js';

/**
 * The batch on an engine without a multi-stream append: items run as transfer processes after every
 * item was decided. A concurrent change that refuses a later item at run time makes an all_or_nothing
 * batch compensate the items that already ran; an independent batch reports just that item.
 */
describe('a transfer batch on the per-item process path', () => {
  async function ledgerWithConcurrentSpend() {
    // No multi-stream append: a store wrapper that hides it, as the EventStoreDB adapter has none.
    const store = new SqliteEventStore(join(mkdtempSync(join(tmpdir(), 'ledger-batch-fallback-')), 'events.sqlite'));
    Object.defineProperty(store, 'appendToStreams', { value: undefined });
    const channels = testChannels().gateway;
    const commands = new LedgerCommands(store, channels, 'Asia/Shanghai');
    expect(commands.oneCommit).toBeNull();
    const [a, b, c] = [
      await openFunded(commands, 'wallet', '10.00'),
      await openFunded(commands, 'wallet', null),
      await openFunded(commands, 'wallet', null),
    ];
    // Once the batch's first transfer completes, another request spends from `a` before the second runs.
    const append = store.appendToStream.bind(store);
    let armed = true;
    store.appendToStream = async (streamId, events, expected) => {
      const result = await append(streamId, events, expected);
      if (armed && events.some((e) => e.type === 'TransferCompleted')) {
        armed = false;
        await commands.transfer(
          { fromAccountId: a, toAccountId: c, amount: cny('5.00'), memo: 'elsewhere' },
          context(),
        );
      }
      return result;
    };
    const batch = (mode: 'all_or_nothing' | 'independent') => ({
      mode,
      callerId: null,
      items: [b, c].map((to) => ({
        fromAccountId: a,
        toAccountId: to,
        amount: { amountMinor: 500n, currency: CNY },
        memo: 'batch',
        reference: null,
      })),
    });
    const balance = async (accountId: string) => {
      const state = await commands.getAccountState(accountId);
      return state.exists ? state.balanceMinor : null;
    };
    return { commands, store, a, b, c, batch, balance, close: () => store.close() };
  }

  it('all_or_nothing: compensates the items that ran before the refused one', async () => {
    const l = await ledgerWithConcurrentSpend();
    try {
      const { batch } = await l.commands.transferBatch(l.batch('all_or_nothing'), context());
      expect(batch.items.map((i) => [i.status, i.failure?.code ?? null])).toEqual([
        ['compensated', null],
        ['refused', 'insufficient_funds'],
      ]);
      expect([await l.balance(l.a), await l.balance(l.b), await l.balance(l.c)]).toEqual([500n, 0n, 500n]);
      expect(await l.commands.getTransferBatch(batch.batchId)).toEqual(batch);
    } finally {
      await l.close();
    }
  });

  it('independent: the item a concurrent change refuses is reported, the others stand', async () => {
    const l = await ledgerWithConcurrentSpend();
    try {
      const { batch } = await l.commands.transferBatch(l.batch('independent'), context());
      expect(batch.items.map((i) => [i.status, i.failure?.code ?? null])).toEqual([
        ['completed', null],
        ['refused', 'insufficient_funds'],
      ]);
      expect([await l.balance(l.a), await l.balance(l.b), await l.balance(l.c)]).toEqual([0n, 500n, 500n]);
    } finally {
      await l.close();
    }
  });

  it('all_or_nothing: a retry after a crash before the record finishes the compensation, not the batch', async () => {
    const l = await ledgerWithConcurrentSpend();
    try {
      const append = l.store.appendToStream.bind(l.store);
      let crash = true;
      l.store.appendToStream = (streamId, events, expected) => {
        if (crash && streamId.startsWith('transferbatch-')) {
          crash = false;
          return Promise.reject(new Error('the process died before recording the batch'));
        }
        return append(streamId, events, expected);
      };
      const same = context();
      await expect(l.commands.transferBatch(l.batch('all_or_nothing'), same)).rejects.toThrow('died');
      const { batch } = await l.commands.transferBatch(l.batch('all_or_nothing'), same);
      expect(batch.items.map((i) => i.status)).toEqual(['compensated', 'not_applied']);
      expect([await l.balance(l.a), await l.balance(l.b), await l.balance(l.c)]).toEqual([500n, 0n, 500n]);
    } finally {
      await l.close();
    }
  });
});

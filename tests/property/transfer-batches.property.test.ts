import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { DEFAULT_HANDLER_LIMITS } from '../../src/commands/stream-command-handler.js';
import type { TransferBatchRequest } from '../../src/commands/transfers/transfer-batch.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import type { TransferBatchMode } from '../../src/domain/transfers/transfer-batch-events.js';
import type { StreamAppend } from '../../src/ports/event-store.js';
import { CNY, context, openFunded } from '../support/command-fixtures.js';
import { testChannels } from '../support/test-channels.js';

/**
 * A batch leaves the ledger as the same transfers run one by one would: the same items refused (each
 * decided on the states the earlier ones left), and, when it applies, every balance and every account's
 * movements the same; an all_or_nothing batch with a refusal moves nothing. Both batch paths are held to
 * it: one commit (SQLite's multi-stream append, exactly one per batch) and the per-item process.
 */
const WALLETS = 4;

interface Item {
  readonly from: number;
  readonly to: number;
  readonly amountMinor: bigint;
}

class CountingStore extends SqliteEventStore {
  multiAppends = 0;
  override appendToStreams(appends: readonly StreamAppend[]) {
    this.multiAppends += 1;
    return super.appendToStreams(appends);
  }
}

async function openLedger(fundsMinor: readonly bigint[], oneCommit: boolean) {
  const store = new CountingStore(join(mkdtempSync(join(tmpdir(), 'ledger-batch-')), 'events.sqlite'));
  const channels = testChannels().gateway;
  const commands = new LedgerCommands(store, channels, 'Asia/Shanghai', DEFAULT_HANDLER_LIMITS, undefined, oneCommit);
  const wallets: string[] = [];
  for (const funds of fundsMinor) wallets.push(await openFunded(commands, 'wallet', (Number(funds) / 100).toFixed(2)));
  return { commands, store, wallets, close: () => store.close() };
}
type Ledger = Awaited<ReturnType<typeof openLedger>>;

function batchOf(ledger: Ledger, mode: TransferBatchMode, items: readonly Item[]): TransferBatchRequest {
  return {
    mode,
    callerId: null,
    items: items.map((item) => ({
      fromAccountId: ledger.wallets[item.from]!,
      toAccountId: ledger.wallets[item.to]!,
      amount: { amountMinor: item.amountMinor, currency: CNY },
      memo: 'p',
      reference: null,
    })),
  };
}

/** Balances, and each account's debits and credits summed, in wallet order. */
async function books(ledger: Ledger): Promise<Array<[bigint, bigint, bigint]>> {
  const all: Array<[bigint, bigint, bigint]> = [];
  for (const accountId of ledger.wallets) {
    const state = await ledger.commands.getAccountState(accountId);
    if (!state.exists) throw new Error(`account ${accountId} vanished`);
    let [debits, credits] = [0n, 0n];
    for (const event of await ledger.commands.getAccountEvents(accountId)) {
      if (event.type === 'FundsDebited') debits += event.data.amountMinor;
      if (event.type === 'FundsCredited') credits += event.data.amountMinor;
    }
    all.push([state.balanceMinor, debits, credits]);
  }
  return all;
}

describe('a transfer batch and the same transfers one by one', () => {
  const funds = fc.array(
    fc.integer({ min: 1, max: 50 }).map((units) => BigInt(units) * 100n),
    { minLength: WALLETS, maxLength: WALLETS },
  );
  const item: fc.Arbitrary<Item> = fc.record({
    from: fc.nat({ max: WALLETS - 1 }),
    to: fc.nat({ max: WALLETS - 1 }),
    amountMinor: fc.bigInt({ min: 1n, max: 3_000n }),
  });

  it('refuse the same items and leave the same balances and movements', async () => {
    await fc.assert(
      fc.asyncProperty(
        funds,
        fc.constantFrom<TransferBatchMode>('all_or_nothing', 'independent'),
        fc.array(item, { minLength: 1, maxLength: 12 }),
        async (fundsMinor, mode, items) => {
          const [single, whole, process, untouched] = await Promise.all([
            openLedger(fundsMinor, true),
            openLedger(fundsMinor, true),
            openLedger(fundsMinor, false),
            openLedger(fundsMinor, true),
          ]);
          try {
            const refusedOneByOne: number[] = [];
            for (const [index, move] of batchOf(single, 'independent', items).items.entries()) {
              try {
                const done = await single.commands.transfer(move, context());
                if (done.transfer.status !== 'completed') refusedOneByOne.push(index);
              } catch (error) {
                if (!(error instanceof DomainError)) throw error;
                refusedOneByOne.push(index);
              }
            }
            const oneCommit = whole.commands.transferBatchInOneCommit(batchOf(whole, mode, items), context());
            const before = whole.store.multiAppends;
            const committed = await whole.commands.oneCommit!.commit(oneCommit.streams, oneCommit.decide);
            expect(whole.store.multiAppends - before).toBe(1);
            const processed = await process.commands.transferBatch(batchOf(process, mode, items), context());

            for (const batch of [committed.value, processed.batch]) {
              const refused = batch.items.flatMap((it, index) => (it.status === 'refused' ? [index] : []));
              expect(refused).toEqual(refusedOneByOne);
              const applied = mode === 'independent' || refused.length === 0;
              expect(
                batch.items.every(
                  (it) => it.status === (applied ? 'completed' : 'not_applied') || it.status === 'refused',
                ),
              ).toBe(true);
            }
            const expected = mode === 'independent' || refusedOneByOne.length === 0 ? single : untouched;
            expect(await books(whole)).toEqual(await books(expected));
            expect(await books(process)).toEqual(await books(expected));
          } finally {
            await Promise.all([single, whole, process, untouched].map((l) => l.close()));
          }
        },
      ),
      { numRuns: 20 },
    );
  }, 120_000);
});

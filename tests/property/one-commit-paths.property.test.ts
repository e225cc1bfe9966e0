import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedBank } from '../../src/adapters/channels/simulated-bank.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import type { PayRequest } from '../../src/commands/payments/payment-operations.js';
import type { StreamAppend } from '../../src/ports/event-store.js';
import type { PaymentChannel } from '../../src/ports/payment-channel.js';
import { availableMinor } from '../../src/domain/accounts/account-state.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { context, openFunded, CNY } from '../support/command-fixtures.js';

/**
 * A payment decided whole in one commit (src/commands/one-commit.ts) and the same payment run as its
 * process of separate appends leave the same ledger: the same payments succeed and are refused, every
 * account ends with the same balance, and money is neither made nor lost. Payments run in rounds whose
 * payments are in flight together (the one-commit path then decides them in one round, on each other's
 * states); with one payment per round the two paths must agree exactly.
 */
const WALLETS = 3;
const MERCHANTS = 2;

interface Payment {
  readonly payer: number;
  readonly payee: number;
  readonly amountMinor: bigint;
  /** A wallet-to-wallet transfer to the next wallet instead of a payment to the merchant. */
  readonly transfer?: boolean;
}

const payment: fc.Arbitrary<Payment> = fc.record({
  payer: fc.nat({ max: WALLETS - 1 }),
  payee: fc.nat({ max: MERCHANTS - 1 }),
  amountMinor: fc.bigInt({ min: 1n, max: 4_000n }),
});
const paymentOrTransfer: fc.Arbitrary<Payment> = fc.record({
  payer: fc.nat({ max: WALLETS - 1 }),
  payee: fc.nat({ max: MERCHANTS - 1 }),
  amountMinor: fc.bigInt({ min: 1n, max: 4_000n }),
  transfer: fc.boolean(),
});

interface Ledger {
  readonly commands: LedgerCommands;
  readonly wallets: string[];
  readonly merchants: string[];
  readonly close: () => Promise<void>;
}

/** Counts multi-stream appends: one per payment means none was refused for a neighbour and retried. */
class CountingStore extends SqliteEventStore {
  multiAppends = 0;
  override appendToStreams(appends: readonly StreamAppend[]) {
    this.multiAppends += 1;
    return super.appendToStreams(appends);
  }
}

async function openLedger(
  fundsMinor: readonly bigint[],
  file = join(mkdtempSync(join(tmpdir(), 'ledger-one-commit-')), 'events.sqlite'),
): Promise<Ledger & { store: CountingStore; file: string }> {
  const store = new CountingStore(file);
  const channels = new Map<string, PaymentChannel>([['sim-bank', new SimulatedBank('sim-bank', systemClock)]]);
  const fixture = { commands: new LedgerCommands(store, channels, 'Asia/Shanghai'), close: () => store.close() };
  const wallets: string[] = [];
  for (const funds of fundsMinor) {
    wallets.push(await openFunded(fixture.commands, 'wallet', (Number(funds) / 100).toFixed(2)));
  }
  const merchants: string[] = [];
  for (let i = 0; i < MERCHANTS; i += 1) {
    merchants.push(await openFunded(fixture.commands, 'merchant_settlement', null, `m-${i}`));
  }
  return { commands: fixture.commands, wallets, merchants, close: fixture.close, store, file };
}

function request(ledger: Ledger, p: Payment, orderNo: string): PayRequest {
  return {
    merchantId: `m-${p.payee}`,
    merchantOrderNo: orderNo,
    description: '',
    payerAccountId: ledger.wallets[p.payer]!,
    payeeAccountId: ledger.merchants[p.payee]!,
    amount: { amountMinor: p.amountMinor, currency: CNY },
    payerIp: null,
    payerPlatform: null,
  };
}

/** Runs each round's payments together; answers which order numbers were paid (true) or refused (false). */
async function run(ledger: Ledger, rounds: readonly Payment[][], oneCommit: boolean): Promise<Map<string, boolean>> {
  const outcomes = new Map<string, boolean>();
  let seq = 0;
  for (const round of rounds) {
    const settled = await Promise.allSettled(
      round.map(async (p) => {
        const orderNo = `order-${(seq += 1)}`;
        if (p.transfer) return [`transfer-${seq}`, await moveToNextWallet(ledger, p, oneCommit)] as const;
        const pay = request(ledger, p, orderNo);
        if (!oneCommit) {
          const { payment: paid } = await ledger.commands.pay(pay, context());
          return [orderNo, paid.status === 'completed'] as const;
        }
        const whole = ledger.commands.payInOneCommit(pay, context());
        if (!whole || !ledger.commands.oneCommit) throw new Error('the embedded store commits an operation whole');
        await ledger.commands.oneCommit.commit(whole.streams, whole.decide);
        return [orderNo, true] as const;
      }),
    );
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') outcomes.set(s.value[0], s.value[1]);
      else if (s.reason instanceof DomainError) outcomes.set(`refused-${seq}-${i}`, false);
      else throw s.reason;
    });
  }
  return outcomes;
}

/** A transfer from the payer's wallet to the next wallet, by either path: true when it completed. */
async function moveToNextWallet(ledger: Ledger, p: Payment, oneCommit: boolean): Promise<boolean> {
  const move = {
    fromAccountId: ledger.wallets[p.payer]!,
    toAccountId: ledger.wallets[(p.payer + 1) % WALLETS]!,
    amount: { amountMinor: p.amountMinor, currency: CNY },
    memo: '',
  };
  if (!oneCommit) return (await ledger.commands.transfer(move, context())).transfer.status === 'completed';
  const whole = ledger.commands.transferInOneCommit(move, context());
  if (!whole || !ledger.commands.oneCommit) throw new Error('the embedded store commits an operation whole');
  await ledger.commands.oneCommit.commit(whole.streams, whole.decide);
  return true;
}

/** Balances in account order, after checking each account's own invariants and the ledger's total. */
async function balances(ledger: Ledger, fundsMinor: readonly bigint[]): Promise<bigint[]> {
  const all: bigint[] = [];
  for (const accountId of [...ledger.wallets, ...ledger.merchants]) {
    const state = await ledger.commands.getAccountState(accountId);
    if (!state.exists) throw new Error(`account ${accountId} vanished`);
    expect(availableMinor(state) >= 0n, `available of ${accountId} is negative`).toBe(true);
    all.push(state.balanceMinor);
  }
  expect(all.reduce((a, b) => a + b, 0n)).toBe(fundsMinor.reduce((a, b) => a + b, 0n));
  return all;
}

/** Every recorded payment is whole: initiated and completed, with its debit and its credit. */
async function wholePayments(ledger: Ledger, paid: number): Promise<void> {
  let completed = 0;
  const debited = new Set<string>();
  const credited = new Set<string>();
  for (const accountId of [...ledger.wallets, ...ledger.merchants]) {
    for (const event of await ledger.commands.getAccountEvents(accountId)) {
      if (event.type === 'FundsDebited' && event.data.kind === 'payment') debited.add(event.data.operationId);
      if (event.type === 'FundsCredited' && event.data.kind === 'payment') credited.add(event.data.operationId);
    }
  }
  for (const operationId of debited) {
    expect(credited.has(operationId)).toBe(true);
    const recorded = await ledger.commands.getPayment(operationId);
    expect(recorded.status).toBe('completed');
    completed += 1;
  }
  expect(credited.size).toBe(debited.size);
  expect(completed).toBe(paid);
}

describe('one commit per payment and the per-stream process', () => {
  const funds = fc.array(
    fc.integer({ min: 1, max: 100 }).map((units) => BigInt(units) * 100n),
    { minLength: WALLETS, maxLength: WALLETS },
  );

  it('agree exactly, payment (or transfer) by payment', async () => {
    await fc.assert(
      fc.asyncProperty(
        funds,
        fc.array(paymentOrTransfer, { minLength: 1, maxLength: 12 }),
        async (fundsMinor, payments) => {
          const [a, b] = [await openLedger(fundsMinor), await openLedger(fundsMinor)];
          try {
            const rounds = payments.map((p) => [p]);
            const [process, whole] = [await run(a, rounds, false), await run(b, rounds, true)];
            expect([...whole.values()]).toEqual([...process.values()]);
            expect(await balances(b, fundsMinor)).toEqual(await balances(a, fundsMinor));
            await wholePayments(b, [...whole].filter(([key, paid]) => paid && key.startsWith('order-')).length);
          } finally {
            await Promise.all([a.close(), b.close()]);
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('keep every balance and the total with payments in flight together', async () => {
    await fc.assert(
      fc.asyncProperty(
        funds,
        fc.array(fc.array(payment, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        async (fundsMinor, rounds) => {
          const ledger = await openLedger(fundsMinor);
          try {
            const outcomes = await run(ledger, rounds, true);
            await balances(ledger, fundsMinor);
            await wholePayments(ledger, [...outcomes.values()].filter(Boolean).length);
          } finally {
            await ledger.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('share one commit between payments into one hot merchant account', async () => {
    const ledger = await openLedger([100_000n, 100_000n, 100_000n]);
    try {
      const before = ledger.store.multiAppends;
      const hot = Array.from({ length: 30 }, (_, i) => ({ payer: i % WALLETS, payee: 0, amountMinor: 100n }));
      const outcomes = await run(ledger, [hot], true);
      expect([...outcomes.values()].every(Boolean)).toBe(true);
      // Each payment one multi-stream append, none refused for its neighbours (no retries).
      expect(ledger.store.multiAppends - before).toBe(hot.length);
      const merchant = await ledger.commands.getAccountState(ledger.merchants[0]!);
      expect(merchant.exists && merchant.balanceMinor).toBe(3_000n);
    } finally {
      await ledger.close();
    }
  });

  it('keep every balance with a second writer on the same file (another connection, as another process)', async () => {
    const first = await openLedger([5_000n, 5_000n, 5_000n]);
    // The second writer: its own connection and its own handlers and caches, on the same accounts.
    const store = new CountingStore(first.file);
    const channels = new Map<string, PaymentChannel>([['sim-bank', new SimulatedBank('sim-bank', systemClock)]]);
    const second: Ledger = {
      commands: new LedgerCommands(store, channels, 'Asia/Shanghai'),
      wallets: first.wallets,
      merchants: first.merchants,
      close: () => store.close(),
    };
    try {
      // Warm both caches, so each decides on a state the other then moves.
      for (const ledger of [first, second]) {
        for (const accountId of [...ledger.wallets, ...ledger.merchants])
          await ledger.commands.getAccountState(accountId);
      }
      const round = Array.from({ length: 40 }, (_, i) => ({
        payer: i % WALLETS,
        payee: i % MERCHANTS,
        amountMinor: 700n,
      }));
      const [a, b] = await Promise.all([run(first, [round], true), run(second, [round.slice().reverse()], true)]);
      const paid = [...a.values(), ...b.values()].filter(Boolean).length;
      // 15,000 in the wallets pays at most 21 payments of 7.00: the rest are refused, none overdraws.
      expect(paid).toBe(21);
      await balances(first, [5_000n, 5_000n, 5_000n]);
      await wholePayments(first, paid);
      // The writers did collide: some payments were decided again on the other's events.
      expect(first.store.multiAppends + store.multiAppends).toBeGreaterThan(paid);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

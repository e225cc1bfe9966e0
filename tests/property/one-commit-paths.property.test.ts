import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { LedgerCommands } from '../../src/commands/ledger-commands.js';
import {
  OneCommitUnsuitableError,
  type OneCommitDecisions,
  type TrackedStream,
} from '../../src/commands/one-commit.js';
import { preauthIdOf } from '../../src/commands/preauths/preauth-operations.js';
import type { PayRequest } from '../../src/commands/payments/payment-operations.js';
import type { StreamAppend } from '../../src/ports/event-store.js';
import { availableMinor } from '../../src/domain/accounts/account-state.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { context, openFunded, CNY } from '../support/command-fixtures.js';
import { testChannels } from '../support/test-channels.js';

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
  const channels = testChannels().gateway;
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
    const channels = testChannels().gateway;
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

/**
 * The other operations decided in one commit (a freeze's release and deduction, a payment's cancellation,
 * a pre-authorisation's hold, capture, capture cancelled and cancellation), or left to their process where
 * the one-commit form says so (OneCommitUnsuitableError or null, as the HTTP layer falls back), against the
 * same operations run as processes: the same outcomes step by step, the same balances and frozen amounts.
 */
type HoldStep =
  | { readonly op: 'freeze'; readonly wallet: number; readonly amountMinor: bigint }
  | { readonly op: 'release'; readonly freeze: number; readonly amountMinor: bigint | null }
  | { readonly op: 'deduct'; readonly freeze: number; readonly merchant: number; readonly amountMinor: bigint }
  | { readonly op: 'pay'; readonly wallet: number; readonly merchant: number; readonly amountMinor: bigint }
  | { readonly op: 'cancel'; readonly payment: number }
  | { readonly op: 'preauth'; readonly wallet: number; readonly merchant: number; readonly amountMinor: bigint }
  | { readonly op: 'complete'; readonly preauth: number; readonly amountMinor: bigint }
  | { readonly op: 'uncomplete'; readonly preauth: number }
  | { readonly op: 'preauthCancel'; readonly preauth: number };

const walletIndex = fc.nat({ max: WALLETS - 1 });
const merchantIndex = fc.nat({ max: MERCHANTS - 1 });
const stepAmount = fc.bigInt({ min: 1n, max: 1_500n });
const earlier = fc.nat({ max: 20 });
// Weighted towards what later steps name (freezes, payments, holds), so that most steps act on something.
const holdStep: fc.Arbitrary<HoldStep> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('freeze' as const), wallet: walletIndex, amountMinor: stepAmount }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('release' as const),
      freeze: earlier,
      amountMinor: fc.option(stepAmount, { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('deduct' as const),
      freeze: earlier,
      merchant: merchantIndex,
      amountMinor: stepAmount,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('pay' as const),
      wallet: walletIndex,
      merchant: merchantIndex,
      amountMinor: stepAmount,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), payment: earlier }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('preauth' as const),
      wallet: walletIndex,
      merchant: merchantIndex,
      amountMinor: stepAmount,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('complete' as const), preauth: earlier, amountMinor: stepAmount }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('uncomplete' as const), preauth: earlier }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('preauthCancel' as const), preauth: earlier }) },
);

/**
 * Every kind once, each within what the smallest wallet holds (20.00), before the random steps: each run
 * then decides every kind in one commit at least once, whatever the random steps refuse.
 */
const TOUR: readonly HoldStep[] = [
  { op: 'freeze', wallet: 0, amountMinor: 500n },
  { op: 'release', freeze: 0, amountMinor: 100n },
  { op: 'deduct', freeze: 0, merchant: 0, amountMinor: 100n },
  { op: 'pay', wallet: 0, merchant: 1, amountMinor: 300n },
  { op: 'cancel', payment: 0 },
  { op: 'preauth', wallet: 0, merchant: 0, amountMinor: 800n },
  { op: 'complete', preauth: 0, amountMinor: 300n },
  { op: 'uncomplete', preauth: 0 },
  { op: 'preauthCancel', preauth: 0 },
];

/** What a ledger made so far, by index: steps name earlier ones by index (modulo how many there are). */
interface Made {
  readonly freezes: string[];
  readonly payments: string[];
  readonly preauths: string[];
}

/** The kinds of step committed whole: the property says little unless every kind was (see TOUR). */
const committedWhole = new Set<string>();

/** Runs `whole` in one commit when it can be; else (or when it says it cannot) `process`, as the HTTP layer does. */
async function eitherPath(
  ledger: Ledger,
  step: HoldStep['op'],
  oneCommit: boolean,
  whole: () => { streams: readonly TrackedStream[]; decide: (decisions: OneCommitDecisions) => unknown } | null,
  process: () => Promise<unknown>,
): Promise<void> {
  const coordinator = ledger.commands.oneCommit;
  const plan = oneCommit ? whole() : null;
  if (plan && coordinator) {
    try {
      await coordinator.commit(plan.streams, plan.decide);
      committedWhole.add(step);
      return;
    } catch (error) {
      if (!(error instanceof OneCommitUnsuitableError)) throw error;
    }
  }
  await process();
}

/** One step by either path: 'done', 'skipped' (nothing earlier to name) or the refusal's code. */
async function holdOutcome(ledger: Ledger, made: Made, step: HoldStep, oneCommit: boolean): Promise<string> {
  const { commands } = ledger;
  const nth = (list: string[], index: number) => (list.length === 0 ? undefined : list[index % list.length]);
  const ctx = context();
  try {
    switch (step.op) {
      case 'freeze': {
        const { freeze } = await commands.placeFreeze(
          {
            accountId: ledger.wallets[step.wallet]!,
            amount: { amountMinor: step.amountMinor, currency: CNY },
            reason: '',
          },
          ctx,
        );
        made.freezes.push(freeze.request.freezeId);
        return 'done';
      }
      case 'release': {
        const freezeId = nth(made.freezes, step.freeze);
        if (freezeId === undefined) return 'skipped';
        const freeze = await commands.getFreeze(freezeId);
        await eitherPath(
          ledger,
          step.op,
          oneCommit,
          () => commands.releaseInOneCommit(freeze, step.amountMinor, '', ctx),
          () => commands.releaseFreeze(freezeId, step.amountMinor, '', ctx),
        );
        return 'done';
      }
      case 'deduct': {
        const freezeId = nth(made.freezes, step.freeze);
        if (freezeId === undefined) return 'skipped';
        const freeze = await commands.getFreeze(freezeId);
        const request = {
          freezeId,
          amountMinor: step.amountMinor,
          payeeAccountId: ledger.merchants[step.merchant]!,
          memo: '',
        };
        await eitherPath(
          ledger,
          step.op,
          oneCommit,
          () => commands.deductInOneCommit(freeze, request, ctx),
          () => commands.deductFromFreeze(request, ctx),
        );
        return 'done';
      }
      case 'pay': {
        const { payment } = await commands.pay(
          request(
            ledger,
            { payer: step.wallet, payee: step.merchant, amountMinor: step.amountMinor },
            `hold-${randomUUID()}`,
          ),
          ctx,
        );
        if (payment.status !== 'completed') return payment.failure?.reasonCode ?? 'failed';
        made.payments.push(payment.order.paymentId);
        return 'done';
      }
      case 'cancel': {
        const paymentId = nth(made.payments, step.payment);
        if (paymentId === undefined) return 'skipped';
        const payment = await commands.getPayment(paymentId);
        await eitherPath(
          ledger,
          step.op,
          oneCommit,
          () => commands.cancelInOneCommit(paymentId, '', ctx, payment),
          () => commands.cancelPayment(paymentId, '', ctx),
        );
        return 'done';
      }
      case 'preauth': {
        const authorisation = {
          merchantId: `m-${step.merchant}`,
          merchantOrderNo: `hold-${randomUUID()}`,
          payerAccountId: ledger.wallets[step.wallet]!,
          payeeAccountId: ledger.merchants[step.merchant]!,
          amount: { amountMinor: step.amountMinor, currency: CNY },
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        };
        await eitherPath(
          ledger,
          step.op,
          oneCommit,
          () => commands.authoriseInOneCommit(authorisation, ctx),
          () => commands.authorisePreauth(authorisation, ctx),
        );
        made.preauths.push(preauthIdOf(authorisation.merchantId, authorisation.merchantOrderNo));
        return 'done';
      }
      case 'complete':
      case 'uncomplete':
      case 'preauthCancel': {
        const preauthId = nth(made.preauths, step.preauth);
        if (preauthId === undefined) return 'skipped';
        const preauth = await commands.getPreauth(preauthId);
        if (step.op === 'complete') {
          const amount = { amountMinor: step.amountMinor, currency: CNY };
          await eitherPath(
            ledger,
            step.op,
            oneCommit,
            () => commands.completeInOneCommit(preauth, amount, ctx),
            () => commands.completePreauth(preauthId, amount, ctx),
          );
        } else if (step.op === 'uncomplete') {
          await eitherPath(
            ledger,
            step.op,
            oneCommit,
            () => commands.cancelCompletionInOneCommit(preauth, ctx),
            () => commands.cancelPreauthCompletion(preauthId, ctx),
          );
        } else {
          await eitherPath(
            ledger,
            step.op,
            oneCommit,
            () => commands.cancelPreauthInOneCommit(preauth, ctx),
            () => commands.cancelPreauth(preauthId, 'merchant', ctx),
          );
        }
        return 'done';
      }
    }
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

/** Balance and frozen amount of every account, after each account's own invariants and the ledger's total. */
async function holdings(ledger: Ledger, fundsMinor: readonly bigint[]): Promise<Array<[bigint, bigint]>> {
  await balances(ledger, fundsMinor);
  const all: Array<[bigint, bigint]> = [];
  for (const accountId of [...ledger.wallets, ...ledger.merchants]) {
    const state = await ledger.commands.getAccountState(accountId);
    if (!state.exists) throw new Error(`account ${accountId} vanished`);
    all.push([state.balanceMinor, state.frozenMinor]);
  }
  return all;
}

describe('one commit per freeze, cancellation and pre-authorisation step and their processes', () => {
  it('agree exactly, step by step', async () => {
    const funds = fc.array(
      fc.integer({ min: 20, max: 200 }).map((units) => BigInt(units) * 100n),
      { minLength: WALLETS, maxLength: WALLETS },
    );
    await fc.assert(
      fc.asyncProperty(
        funds,
        fc.array(holdStep, { minLength: 10, maxLength: 30 }).map((rest) => [...TOUR, ...rest]),
        async (fundsMinor, steps) => {
          const [a, b] = [await openLedger(fundsMinor), await openLedger(fundsMinor)];
          try {
            const [madeA, madeB]: Made[] = [
              { freezes: [], payments: [], preauths: [] },
              { freezes: [], payments: [], preauths: [] },
            ];
            for (const step of steps) {
              const [process, whole] = [
                await holdOutcome(a, madeA!, step, false),
                await holdOutcome(b, madeB!, step, true),
              ];
              expect(
                whole,
                JSON.stringify(step, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
              ).toBe(process);
            }
            expect(await holdings(b, fundsMinor)).toEqual(await holdings(a, fundsMinor));
          } finally {
            await Promise.all([a.close(), b.close()]);
          }
        },
      ),
      { numRuns: 20 },
    );
    expect([...committedWhole].sort()).toEqual(
      ['cancel', 'complete', 'deduct', 'preauth', 'preauthCancel', 'release', 'uncomplete'].sort(),
    );
  }, 120_000);
});

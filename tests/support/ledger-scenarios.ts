import fc from 'fast-check';
import type { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { CNY, context, openFunded } from './command-fixtures.js';
import { payeeFor, payerFor } from './test-channels.js';

/**
 * Random sequences of ledger operations for property tests: recharges, payments, refunds, cancellations,
 * transfers, withdrawals, freezes (release, deduct), pre-authorisations (cancel, complete, cancel the
 * completion) and account status changes, over a small fixed set of accounts so that operations collide.
 * Amounts are small so that refusals (insufficient funds, over-refunds, over-captures) happen often.
 */
export const WALLETS = 4;
export const MERCHANTS = 2;
const STARTING_BALANCE = '150.00';

const wallet = fc.nat({ max: WALLETS - 1 });
const merchant = fc.nat({ max: MERCHANTS - 1 });
const amountMinor = fc.bigInt({ min: 1n, max: 6_000n });
const pick = fc.nat({ max: 50 });

export type ScenarioStep =
  | { op: 'recharge'; wallet: number; amountMinor: bigint }
  | { op: 'pay'; wallet: number; merchant: number; amountMinor: bigint }
  | { op: 'refund'; payment: number; amountMinor: bigint }
  | { op: 'cancel'; payment: number }
  | { op: 'transfer'; from: number; to: number; amountMinor: bigint }
  | { op: 'withdraw'; wallet: number; amountMinor: bigint }
  | { op: 'freeze'; wallet: number; amountMinor: bigint }
  | { op: 'release'; freeze: number; amountMinor: bigint | null }
  | { op: 'deduct'; freeze: number; merchant: number; amountMinor: bigint }
  | { op: 'preauth'; wallet: number; merchant: number; amountMinor: bigint }
  | { op: 'preauthCancel'; preauth: number }
  | { op: 'preauthComplete'; preauth: number; amountMinor: bigint }
  | { op: 'preauthUncomplete'; preauth: number }
  | { op: 'status'; wallet: number; status: 'active' | 'frozen' };

export const scenarioStep: fc.Arbitrary<ScenarioStep> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('recharge' as const), wallet, amountMinor }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('pay' as const), wallet, merchant, amountMinor }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('refund' as const), payment: pick, amountMinor }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), payment: pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('transfer' as const), from: wallet, to: wallet, amountMinor }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('withdraw' as const), wallet, amountMinor }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('freeze' as const), wallet, amountMinor }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('release' as const),
      freeze: pick,
      amountMinor: fc.option(amountMinor, { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deduct' as const), freeze: pick, merchant, amountMinor }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('preauth' as const), wallet, merchant, amountMinor }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('preauthCancel' as const), preauth: pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('preauthComplete' as const), preauth: pick, amountMinor }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('preauthUncomplete' as const), preauth: pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('status' as const),
      wallet,
      status: fc.constantFrom('active' as const, 'frozen' as const),
    }),
  },
);

export interface ScenarioAccounts {
  readonly wallets: readonly string[];
  readonly merchants: readonly string[];
  readonly merchantOwners: readonly string[];
}

export interface ScenarioRecord {
  readonly payments: string[];
  readonly freezes: string[];
  readonly preauths: string[];
  /** How many steps were refused by a business rule (a healthy mix has some). */
  refusals: number;
}

export async function openScenarioAccounts(commands: LedgerCommands): Promise<ScenarioAccounts> {
  const wallets: string[] = [];
  // Funded enough that most operations go through, small enough that refusals still happen.
  for (let i = 0; i < WALLETS; i += 1) wallets.push(await openFunded(commands, 'wallet', STARTING_BALANCE, `u-${i}`));
  const merchants: string[] = [];
  const merchantOwners: string[] = [];
  for (let i = 0; i < MERCHANTS; i += 1) {
    merchantOwners.push(`m-${i}`);
    merchants.push(await openFunded(commands, 'merchant_settlement', null, `m-${i}`));
  }
  return { wallets, merchants, merchantOwners };
}

/** Opens the scenario's accounts and runs `steps` on them, in order: what they did. */
export async function runScenario(
  commands: LedgerCommands,
  steps: readonly ScenarioStep[],
): Promise<{ accounts: ScenarioAccounts; record: ScenarioRecord }> {
  const accounts = await openScenarioAccounts(commands);
  const record: ScenarioRecord = { payments: [], freezes: [], preauths: [], refusals: 0 };
  for (const [seq, step] of steps.entries()) await runStep(commands, accounts, record, step, seq);
  return { accounts, record };
}

const money = (amountMinor: bigint) => ({ amountMinor, currency: CNY });
const nth = <T>(items: readonly T[], index: number): T | undefined =>
  items.length === 0 ? undefined : items[index % items.length];

/** Runs one step; business refusals are counted, anything else is a failure of the test. */
export async function runStep(
  commands: LedgerCommands,
  accounts: ScenarioAccounts,
  record: ScenarioRecord,
  step: ScenarioStep,
  seq: number,
): Promise<void> {
  try {
    switch (step.op) {
      case 'recharge':
        await commands.recharge(
          {
            accountId: accounts.wallets[step.wallet]!,
            amount: money(step.amountMinor),
            payer: await payerFor(commands),
          },
          context(),
        );
        return;
      case 'pay': {
        const { payment } = await commands.pay(
          {
            merchantId: accounts.merchantOwners[step.merchant]!,
            merchantOrderNo: `o-${seq}`,
            description: '',
            payerAccountId: accounts.wallets[step.wallet]!,
            payeeAccountId: accounts.merchants[step.merchant]!,
            amount: money(step.amountMinor),
            payerIp: null,
            payerPlatform: null,
          },
          context(),
        );
        record.payments.push(payment.order.paymentId);
        return;
      }
      case 'refund': {
        const paymentId = nth(record.payments, step.payment);
        if (paymentId)
          await commands.refundPayment(
            { paymentId, refundNo: `r-${seq}`, amount: money(step.amountMinor), reason: '' },
            context(),
          );
        return;
      }
      case 'cancel': {
        const paymentId = nth(record.payments, step.payment);
        if (paymentId) await commands.cancelPayment(paymentId, '', context());
        return;
      }
      case 'transfer':
        await commands.transfer(
          {
            fromAccountId: accounts.wallets[step.from]!,
            toAccountId: accounts.wallets[step.to]!,
            amount: money(step.amountMinor),
            memo: '',
          },
          context(),
        );
        return;
      case 'withdraw':
        await commands.withdraw(
          {
            accountId: accounts.wallets[step.wallet]!,
            amount: money(step.amountMinor),
            payee: await payeeFor(commands),
          },
          context(),
        );
        return;
      case 'freeze': {
        const { freeze } = await commands.placeFreeze(
          { accountId: accounts.wallets[step.wallet]!, amount: money(step.amountMinor), reason: '' },
          context(),
        );
        record.freezes.push(freeze.request.freezeId);
        return;
      }
      case 'release': {
        const freezeId = nth(record.freezes, step.freeze);
        if (freezeId) await commands.releaseFreeze(freezeId, step.amountMinor, '', context());
        return;
      }
      case 'deduct': {
        const freezeId = nth(record.freezes, step.freeze);
        if (freezeId)
          await commands.deductFromFreeze(
            { freezeId, amountMinor: step.amountMinor, payeeAccountId: accounts.merchants[step.merchant]!, memo: '' },
            context(),
          );
        return;
      }
      case 'preauth': {
        const { preauth } = await commands.authorisePreauth(
          {
            merchantId: accounts.merchantOwners[step.merchant]!,
            merchantOrderNo: `p-${seq}`,
            payerAccountId: accounts.wallets[step.wallet]!,
            payeeAccountId: accounts.merchants[step.merchant]!,
            amount: money(step.amountMinor),
            expiresAt: '2099-01-01T00:00:00.000Z',
          },
          context(),
        );
        record.preauths.push(preauth.request.preauthId);
        return;
      }
      case 'preauthCancel': {
        const preauthId = nth(record.preauths, step.preauth);
        if (preauthId) await commands.cancelPreauth(preauthId, 'merchant', context());
        return;
      }
      case 'preauthComplete': {
        const preauthId = nth(record.preauths, step.preauth);
        if (preauthId) await commands.completePreauth(preauthId, money(step.amountMinor), context());
        return;
      }
      case 'preauthUncomplete': {
        const preauthId = nth(record.preauths, step.preauth);
        if (preauthId) await commands.cancelPreauthCompletion(preauthId, context());
        return;
      }
      case 'status':
        await commands.changeAccountStatus(accounts.wallets[step.wallet]!, step.status, 'property test', context());
        return;
    }
  } catch (error) {
    if (error instanceof DomainError && error.code !== 'invariant_violated') {
      record.refusals += 1;
      return;
    }
    throw error;
  }
}

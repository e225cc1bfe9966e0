import type { LedgerCommands } from '../../src/commands/ledger-commands.js';
import { availableMinor } from '../../src/domain/accounts/account-state.js';
import type { EventStore } from '../../src/ports/event-store.js';
import type { ReadModelStore } from '../../src/ports/read-model-store.js';
import { BALANCES_COLLECTION, type BalanceDocument } from '../../src/projections/balances.js';
import {
  JOURNAL_ENTRIES_COLLECTION,
  TRIAL_BALANCES_COLLECTION,
  type JournalEntryDocument,
  type TrialBalanceDocument,
} from '../../src/projections/books.js';
import {
  STATEMENT_HEADS_COLLECTION,
  STATEMENT_LINES_COLLECTION,
  balanceEffectMinor,
  type StatementHeadDocument,
  type StatementLineDocument,
} from '../../src/projections/statements.js';
import { allDocuments } from '../support/read-model-documents.js';

/** A DESIGN 3.5 invariant (or the simulation's own "nothing acknowledged lost or doubled") does not hold. */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

export function check(condition: boolean, message: () => string): void {
  if (!condition) throw new InvariantViolation(message());
}

/** What the simulation has had answered: the operations each client was told about. */
export interface Acknowledged {
  readonly payments: ReadonlySet<string>;
  readonly preauths: ReadonlySet<string>;
  /** `type|accountId|reference`: a movement the ledger answered as done, so the log must hold it exactly once. */
  readonly movements: ReadonlySet<string>;
  /**
   * Pre-authorisations a client's request is still unanswered on (a completion or cancellation cut short by
   * a fault): between the process's steps the hold may be released before the authorisation records its end,
   * which the request's retry (or the recovery sweep) finishes. Empty after the drain, so the final audit
   * holds every authorisation to its hold.
   */
  readonly preauthsInFlight: ReadonlySet<string>;
}

/**
 * Counts, per `type|accountId|reference`, every movement the log holds, reading only what was appended
 * since the last call (the log only grows; invariant 7): the record "nothing doubled, nothing lost" is
 * checked against.
 */
export class MovementTally {
  readonly counts = new Map<string, number>();
  #after: bigint | 'start' = 'start';

  async catchUp(log: EventStore): Promise<void> {
    for (;;) {
      const page = await log.readAll({ after: this.#after, maxCount: 1_000 });
      if (page.length === 0) return;
      for (const event of page) {
        const key = movementKey(event.type, event.data);
        if (key) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      }
      this.#after = page[page.length - 1]!.position;
    }
  }
}

/** The key of a money movement on an account; undefined for every other event. */
export function movementKey(type: string, data: Record<string, unknown>): string | undefined {
  switch (type) {
    case 'FundsRecharged':
      return `${type}|${String(data['accountId'])}|${String(data['rechargeId'])}`;
    case 'FundsDebited':
    case 'FundsCredited':
      return `${type}|${String(data['accountId'])}|${String(data['kind'])}:${String(data['operationId'])}`;
    case 'FundsFrozen':
      return `${type}|${String(data['accountId'])}|${String(data['freezeId'])}`;
    default:
      return undefined;
  }
}

/**
 * The write side's invariants, checkable after any step (strongly consistent streams): 2 (balance =
 * available + frozen, available within its floor, frozen = what the open freezes hold), 5 (refunded <=
 * paid, captured <= authorised, a cancelled or finished authorisation holds nothing), and every
 * acknowledged movement in the log exactly once, none doubled. Returns the number of checks made.
 */
export async function checkWriteSide(
  commands: LedgerCommands,
  accounts: readonly string[],
  acknowledged: Acknowledged,
  tally: MovementTally,
): Promise<number> {
  let checks = 0;
  for (const accountId of accounts) {
    const state = await commands.getAccountState(accountId);
    check(state.exists, () => `account ${accountId} vanished`);
    if (!state.exists) continue;
    const floor = state.flags.mayOverdraw ? -state.flags.overdraftLimitMinor : 0n;
    const available = availableMinor(state);
    check(available + state.frozenMinor === state.balanceMinor, () => `${accountId}: balance != available + frozen`);
    check(available >= floor, () => `${accountId}: available ${available} below its floor ${floor}`);
    const held = [...state.freezes.values()].reduce((sum, f) => sum + f.remainingMinor, 0n);
    check(held === state.frozenMinor, () => `${accountId}: frozen ${state.frozenMinor} != open freezes ${held}`);
    checks += 3;
  }
  for (const paymentId of acknowledged.payments) {
    const payment = await commands.getPayment(paymentId);
    check(
      payment.refundedMinor + payment.refundsInFlightMinor <= payment.order.amountMinor,
      () =>
        `payment ${paymentId}: refunded ${payment.refundedMinor} (+${payment.refundsInFlightMinor} in flight) above ${payment.order.amountMinor}`,
    );
    checks += 1;
  }
  for (const preauthId of acknowledged.preauths) {
    const preauth = await commands.getPreauth(preauthId);
    const payer = await commands.getAccountState(preauth.request.payerAccountId);
    const held = payer.exists ? (payer.freezes.get(preauthId)?.remainingMinor ?? 0n) : 0n;
    if (preauth.completion)
      check(
        preauth.completion.capturedMinor <= preauth.request.amountMinor,
        () => `preauth ${preauthId}: captured above authorised`,
      );
    if (preauth.status === 'authorised' && !preauth.completion && !acknowledged.preauthsInFlight.has(preauthId))
      check(held === preauth.request.amountMinor, () => `preauth ${preauthId}: authorised but holds ${held}`);
    if (['cancelled', 'completed', 'declined'].includes(preauth.status))
      check(held === 0n, () => `preauth ${preauthId}: ${preauth.status} but still holds ${held}`);
    checks += 2;
  }
  for (const [key, count] of tally.counts) {
    check(count === 1, () => `movement ${key} is in the log ${count} times (doubled)`);
    checks += 1;
  }
  for (const key of acknowledged.movements) {
    check(tally.counts.has(key), () => `acknowledged movement ${key} is not in the log (lost)`);
    checks += 1;
  }
  return checks;
}

/**
 * The read side's invariants once the projections have caught up with the log: the balances read model
 * equals the write side (3.4: a command's effect is visible once projected), every account's statement
 * lines run without gaps and sum to its balance (3), every journal entry balances and every day's trial
 * balance is zero (1). Returns the number of checks made.
 */
export async function checkReadSide(
  commands: LedgerCommands,
  readModels: ReadModelStore,
  accounts: readonly string[],
): Promise<number> {
  let checks = 0;
  const lines = (await allDocuments<StatementLineDocument>(readModels, STATEMENT_LINES_COLLECTION)).map((d) => d.data);
  for (const accountId of accounts) {
    const state = await commands.getAccountState(accountId);
    if (!state.exists) throw new InvariantViolation(`account ${accountId} vanished`);
    const doc = (await readModels.get<BalanceDocument>(BALANCES_COLLECTION, accountId))?.data;
    check(
      doc !== undefined &&
        doc.balanceMinor === String(state.balanceMinor) &&
        doc.frozenMinor === String(state.frozenMinor) &&
        doc.availableMinor === String(availableMinor(state)),
      () =>
        `balances read model of ${accountId} ${JSON.stringify(doc)} != write side ${state.balanceMinor}/${state.frozenMinor}`,
    );
    const own = lines.filter((l) => l.accountId === accountId);
    const sum = own.reduce((total, line) => total + balanceEffectMinor(line), 0n);
    check(sum === state.balanceMinor, () => `statement of ${accountId} sums to ${sum}, balance ${state.balanceMinor}`);
    check(
      own.every((line, i) => line.sequence === i + 1),
      () => `statement of ${accountId} has gaps`,
    );
    const head = (await readModels.get<StatementHeadDocument>(STATEMENT_HEADS_COLLECTION, accountId))?.data;
    check(
      own.length === 0 || (head !== undefined && head.balanceMinor === String(state.balanceMinor)),
      () => `statement head of ${accountId} ${JSON.stringify(head)} != balance ${state.balanceMinor}`,
    );
    checks += 4;
  }
  for (const { data: entry } of await allDocuments<JournalEntryDocument>(readModels, JOURNAL_ENTRIES_COLLECTION)) {
    const net = new Map<string, bigint>();
    for (const line of entry.lines) {
      const signed = line.side === 'debit' ? BigInt(line.amountMinor) : -BigInt(line.amountMinor);
      net.set(line.currency, (net.get(line.currency) ?? 0n) + signed);
    }
    for (const [currency, value] of net)
      check(value === 0n, () => `journal entry ${entry.entryId} is off by ${value} ${currency}`);
    checks += 1;
  }
  for (const { id, data: day } of await allDocuments<TrialBalanceDocument>(readModels, TRIAL_BALANCES_COLLECTION)) {
    check(day.totalDebitMinor === day.totalCreditMinor, () => `trial balance ${id} is not zero`);
    checks += 1;
  }
  return checks;
}

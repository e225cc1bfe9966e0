import type { ReadModelStore } from '../../ports/read-model-store.js';
import { BALANCES_COLLECTION, type BalanceDocument } from '../../projections/balances.js';
import { TRANSIT_DEBTS_COLLECTION, type TransitDebtDocument } from '../../projections/transit.js';
import { deriveId, type CommandContext } from '../command-context.js';
import type { TransitCommands } from './transit-commands.js';

/** Payers one sweep looks at; the next sweep goes on from there (round robin, so none waits forever). */
export const MAX_DEBTORS_PER_SWEEP = 100;

/**
 * Charges unpaid transit fares when money has arrived. A bounded sweep rather than a process reacting to
 * every credit: it needs no subscription of its own (and no checkpoint to keep), it finds debts a crash
 * left half-done (accepted, not booked) as well as unpaid ones, and its cost is one page of the debts
 * read model and one balance read per debtor per pass, whatever the traffic on the accounts. The price
 * is latency: a top-up pays the debt within TRANSIT_DEBT_SWEEP_INTERVAL_MS, not at once. Never twice:
 * each charge's ids derive from the scan (TransitCommands.settle), whoever runs it and however often.
 */
export class TransitDebtSweep {
  private after: string | undefined;

  constructor(
    private readonly transit: TransitCommands,
    private readonly readModels: ReadModelStore,
    private readonly onFailure: (userId: string, error: unknown) => void = (userId, error) =>
      console.error(`charging the transit debt of ${userId} failed`, error),
  ) {}

  /** One pass: returns the fares it charged. */
  async sweep(nowIso: string): Promise<number> {
    const page = await this.readModels.find<TransitDebtDocument>(TRANSIT_DEBTS_COLLECTION, {
      where: { inDebt: true },
      limit: MAX_DEBTORS_PER_SWEEP,
      ...(this.after ? { after: this.after } : {}),
    });
    this.after = page.nextCursor ?? undefined;
    let charged = 0;
    for (const { data: debt } of page.items) {
      // A wallet with nothing available cannot pay: skip it without touching its streams. The read model
      // may lag; a wallet skipped now is tried at the next pass.
      const wallet = await this.readModels.get<BalanceDocument>(BALANCES_COLLECTION, debt.walletAccountId);
      if (wallet && BigInt(wallet.data.availableMinor) <= 0n) continue;
      const context: CommandContext = {
        actor: 'transit-debt-sweep',
        correlationId: deriveId(debt.userId, `transit-sweep\u0000${nowIso}`),
        causationId: null,
        idempotencyKey: null,
        operationKey: deriveId(debt.userId, `transit-sweep\u0000${nowIso}`),
        occurredAt: nowIso,
      };
      try {
        charged += await this.transit.chargeDebt(debt.userId, context);
      } catch (error) {
        this.onFailure(debt.userId, error);
      }
    }
    return charged;
  }
}

import type { KeyObject } from 'node:crypto';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import type { Money } from '../../domain/money/money.js';
import {
  isSeedLive,
  type Redemption,
  type RedemptionRequest,
  type Seed,
  type SeedCommand,
} from '../../domain/payment-codes/seed-decider.js';
import type { RiskRules } from '../../domain/risk/risk-rules.js';
import { assert, DomainError } from '../../domain/shared/domain-error.js';
import type { CommandContext } from '../command-context.js';
import type { LedgerCommands } from '../ledger-commands.js';
import { OneCommitUnsuitableError, type OneCommitDecisions, type TrackedStream } from '../one-commit.js';
import { paymentIdOf, type PaymentOutcome, type PayRequest } from '../payments/payment-operations.js';
import type { ExistingPayment } from '../../domain/payments/payment-state.js';
import { seedStreamId, type PaymentCodeSeeds } from './payment-code-seeds.js';

/** The code scheme as redemption needs it (the client's `PaymentCodes` is one). */
export interface CodeVerifier {
  decode(code: string): { readonly slot: number; readonly oneTimeValue: string } | undefined;
  stepAt(atMs: number): number;
  matchingStep(input: {
    /** The seed's HMAC key (`PaymentCodeSeeds.keyOf`). */
    seed: KeyObject;
    oneTimeValue: string;
    step: number;
    windowSteps: number;
  }): number | undefined;
}

/** Wrong codes counted per key (terminal, slot) within a window, in memory and bounded. */
export interface WrongCodeGuard {
  lockedForMs(key: string): number;
  recordFailure(key: string): void;
}

export interface RedeemRequest {
  readonly code: string;
  readonly merchantId: string;
  /** The merchant's own account (checked by the caller). */
  readonly payeeAccountId: string;
  readonly amount: Money;
  readonly merchantOrderNo: string;
  readonly terminalId: string;
  readonly description: string;
  /**
   * The payer confirmed with its payment password, verified by the caller: what lets a code pay above
   * the seed's per-code limit, or when the risk rules ask for a step-up.
   */
  readonly payerConfirmed: boolean;
}

export interface CheckedCode {
  readonly seed: Seed;
  /** The step the code's one-time value matched. */
  readonly step: number;
}

export interface RedeemedCode {
  readonly redemption: Redemption;
  readonly payment: PaymentOutcome['payment'];
  readonly position: bigint;
}

/**
 * Redeeming a payment code: find the seed by the code's slot, check the one-time value within the window,
 * record the use on the seed's stream (at its expected revision: of two terminals redeeming one code at
 * once, one appends and the other reloads, decides again and is refused `payment_code_used`), then pay
 * from the seed's wallet through the ordinary payment, whose id is derived from the merchant's order
 * number (a retry pays once).
 *
 * Every way a code can be wrong (malformed, unknown prefix, free slot, no such seed, wrong one-time value)
 * answers the same `payment_code_wrong`, so a guesser learns nothing from the answer, and counts against
 * the terminal and (when the code named one) the slot. A locked terminal or slot is refused before any
 * check (`payment_code_rate_limited`).
 */
export class PaymentCodeRedemptions {
  constructor(
    private readonly deps: {
      readonly seeds: PaymentCodeSeeds;
      readonly verifier: CodeVerifier;
      readonly windowSteps: number;
      readonly commands: LedgerCommands;
      readonly accountingTimeZone: string;
      /** The rules that judge codes (`rulesFor(rules, 'payment_code')`), run in the seed decider. */
      readonly riskRules: RiskRules;
      readonly terminalGuard: WrongCodeGuard;
      readonly slotGuard: WrongCodeGuard;
    },
  ) {
    // The decider reads a redemption's recorded accounting date as the rules' day: one zone for both.
    assert(
      deps.riskRules.timeZone === deps.accountingTimeZone,
      "payment-code risk rules cut days in the ledger's accounting zone",
    );
  }

  /**
   * The code checked (every refusal as in `redeem`, wrong codes counted) without recording anything: the
   * seed and the step it matched, for `redeemInOneCommit`.
   */
  async check(request: RedeemRequest, context: CommandContext): Promise<CheckedCode> {
    const { deps } = this;
    const terminalKey = `${request.merchantId}\u0000${request.terminalId}`;
    refuseWhileLocked(deps.terminalGuard, terminalKey);
    const decoded = deps.verifier.decode(request.code);
    if (!decoded) throw this.wrong(terminalKey, null);
    const slotKey = String(decoded.slot);
    refuseWhileLocked(deps.slotGuard, slotKey);
    const hit = await this.checkedFromCache(decoded, context);
    if (hit) return hit;
    const holder = await deps.seeds.holderOf(decoded.slot);
    if (!holder) throw this.wrong(terminalKey, slotKey);
    const { state } = await deps.seeds.seeds.load(seedStreamId(holder.userId));
    const seed = state.seeds.get(holder.seedId);
    if (!seed) throw this.wrong(terminalKey, slotKey);
    const step = await this.matchedStep(seed, decoded.oneTimeValue, context, terminalKey, slotKey);
    return { seed, step };
  }

  /**
   * The code checked against the slot's seed as this instance last saw it (no stream read): a live seed
   * whose key verifies the code. Anything else (nothing cached, a seed that is not live, a wrong value) is
   * left to the reads, which may know better (a seed issued or a slot claimed elsewhere) and answer the
   * refusal; a wrong code is counted there, once.
   */
  private async checkedFromCache(
    decoded: { readonly slot: number; readonly oneTimeValue: string },
    context: CommandContext,
  ): Promise<CheckedCode | undefined> {
    const seed = this.deps.seeds.cachedSeedOfSlot(decoded.slot);
    if (!seed || !isSeedLive(seed, context.occurredAt)) return undefined;
    const key = await this.deps.seeds.keyOf(seed);
    if (key === 'erased') return undefined;
    const step = this.stepOf(key, decoded.oneTimeValue, context);
    return step === undefined ? undefined : { seed, step };
  }

  /** The step within the window around the command's own at which the key gives this one-time value. */
  private stepOf(key: KeyObject, oneTimeValue: string, context: CommandContext): number | undefined {
    return this.deps.verifier.matchingStep({
      seed: key,
      oneTimeValue,
      step: this.deps.verifier.stepAt(Date.parse(context.occurredAt)),
      windowSteps: this.deps.windowSteps,
    });
  }

  /**
   * As a process: the use recorded on the seed's stream, then the payment (`commands.pay`); `checked`: the
   * code checked already (by `check`, just before).
   */
  async redeem(request: RedeemRequest, context: CommandContext, checked?: CheckedCode): Promise<RedeemedCode> {
    const { deps } = this;
    const { seed, step } = checked ?? (await this.check(request, context));
    const handled = await deps.seeds.seeds.handle(
      seedStreamId(seed.userId),
      this.redeemCommandOf(request, seed, step, context),
      context,
    );
    const recorded = [...handled.state.seeds.get(seed.seedId)!.usedSteps.values()].find(
      (used) => used.merchantId === request.merchantId && used.merchantOrderNo === request.merchantOrderNo,
    )!;
    const { payment, position } = await deps.commands.pay(this.payRequestOf(request, seed), context);
    return { redemption: recorded, payment, position };
  }

  /**
   * A checked code's use and its payment decided whole for one commit (the seed's stream beside the
   * payment's and the two accounts: `PaymentCodeRedeemed`, `PaymentInitiated`, the debit, the credit,
   * `PaymentCompleted`), or null where the payment cannot (`payInOneCommit`). A refusal of either (a used
   * step, a limit, insufficient funds) records nothing, so a code the wallet could not pay stays usable;
   * an order redeemed before is left to the process, which answers the first payment.
   */
  redeemInOneCommit(
    checked: CheckedCode,
    request: RedeemRequest,
    context: CommandContext,
  ): {
    streams: TrackedStream[];
    positionStream: string;
    decide: (decisions: OneCommitDecisions) => { redemption: Redemption; payment: ExistingPayment };
  } | null {
    const { deps } = this;
    const plan = deps.commands.payInOneCommit(this.payRequestOf(request, checked.seed), context);
    if (!plan) return null;
    const command = this.redeemCommandOf(request, checked.seed, checked.step, context);
    const seedStream = seedStreamId(checked.seed.userId);
    return {
      streams: [{ handler: deps.seeds.seeds, streamId: seedStream }, ...plan.streams],
      positionStream: plan.positionStream,
      decide: (decisions) => {
        const { events } = decisions.decide(deps.seeds.seeds, seedStream, command, context);
        const recorded = events.find((event) => event.type === 'PaymentCodeRedeemed');
        if (!recorded) throw new OneCommitUnsuitableError('this order was redeemed before');
        return { redemption: recorded.data, payment: plan.decide(decisions) };
      },
    };
  }

  private redeemCommandOf(request: RedeemRequest, seed: Seed, step: number, context: CommandContext): SeedCommand {
    return {
      type: 'RedeemCode',
      redemption: this.redemptionOf(request, seed, step, context),
      rules: this.deps.riskRules,
      payerConfirmed: request.payerConfirmed,
    };
  }

  private redemptionOf(request: RedeemRequest, seed: Seed, step: number, context: CommandContext): RedemptionRequest {
    return {
      userId: seed.userId,
      seedId: seed.seedId,
      step,
      paymentId: paymentIdOf(request.merchantId, request.merchantOrderNo),
      merchantId: request.merchantId,
      merchantOrderNo: request.merchantOrderNo,
      terminalId: request.terminalId,
      amountMinor: request.amount.amountMinor,
      currency: request.amount.currency,
      accountingDate: accountingDate(context.occurredAt, this.deps.accountingTimeZone),
      at: context.occurredAt,
    };
  }

  private payRequestOf(request: RedeemRequest, seed: Seed): PayRequest {
    return {
      merchantId: request.merchantId,
      merchantOrderNo: request.merchantOrderNo,
      description: request.description,
      payerAccountId: seed.accountId,
      payeeAccountId: request.payeeAccountId,
      amount: request.amount,
      payerIp: null,
      payerPlatform: 'payment-code',
    };
  }

  /**
   * The step the code's one-time value matches. Revoked and expired seeds are answered as such before the
   * seed is opened (a revoked seed is forgotten in the vault and cannot be opened): telling a guesser that
   * a slot's seed is dead gives nothing to spend.
   */
  private async matchedStep(
    seed: Seed,
    oneTimeValue: string,
    context: CommandContext,
    terminalKey: string,
    slotKey: string,
  ): Promise<number> {
    if (seed.status === 'revoked')
      throw new DomainError('payment_code_revoked', 'this payment code belongs to a revoked seed', {
        reason: seed.revocation?.reason ?? 'operator',
      });
    if (Date.parse(context.occurredAt) >= Date.parse(seed.expiresAt))
      throw new DomainError('payment_code_expired', 'this payment code belongs to an expired seed', {
        expiredAt: seed.expiresAt,
      });
    const key = await this.deps.seeds.keyOf(seed);
    if (key === 'erased')
      throw new DomainError('payment_code_revoked', 'this payment code belongs to a revoked seed', {
        reason: 'erased',
      });
    const step = this.stepOf(key, oneTimeValue, context);
    if (step === undefined) throw this.wrong(terminalKey, slotKey);
    return step;
  }

  private wrong(terminalKey: string, slotKey: string | null): DomainError {
    this.deps.terminalGuard.recordFailure(terminalKey);
    if (slotKey !== null) this.deps.slotGuard.recordFailure(slotKey);
    return new DomainError('payment_code_wrong', 'this is not a valid payment code', {});
  }
}

function refuseWhileLocked(guard: WrongCodeGuard, key: string): void {
  const lockedMs = guard.lockedForMs(key);
  if (lockedMs > 0)
    throw new DomainError('payment_code_rate_limited', 'too many wrong payment codes; try again later', {
      retryAfterSeconds: String(Math.ceil(lockedMs / 1000)),
    });
}

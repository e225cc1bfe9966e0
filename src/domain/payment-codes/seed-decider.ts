import type { RiskRules } from '../risk/risk-rules.js';
import { assert, DomainError } from '../shared/domain-error.js';
import type { PaymentCodeSeedEvent, SeedRevocationReason } from './payment-code-events.js';
import { assessRedemption } from './redemption-risk.js';

/**
 * A user's payment-code seeds (`codeseed-<userId>`), in Emmett's decider shape. Who may act was checked
 * before (an operator); that a code's one-time value matches its seed was checked before too (the decider
 * never sees a seed: only the step the code matched). Deadlines are judged by the command's `at`.
 */
type Issued = Extract<PaymentCodeSeedEvent, { type: 'PaymentCodeSeedIssued' }>['data'];
export type Redemption = Extract<PaymentCodeSeedEvent, { type: 'PaymentCodeRedeemed' }>['data'];
/** A redemption as asked for: the decider adds the risk verdict. */
export type RedemptionRequest = Omit<Redemption, 'risk'>;

/** Steps remembered per seed: a code is accepted only within a few steps of now, so older ones cannot come back. */
export const USED_STEPS_KEPT = 16;
/** Redemptions kept in the state for the code history (older ones stay in the stream). */
export const REDEMPTIONS_KEPT = 100;
/** Seeds a user may have had (each login makes one): beyond it issuance is refused until old ones are pruned. */
export const MAX_SEEDS_PER_USER = 10_000;

export interface Seed extends Issued {
  readonly status: 'live' | 'revoked';
  readonly revocation: { readonly reason: SeedRevocationReason; readonly note: string; readonly at: string } | null;
  /** Step -> its redemption, the newest USED_STEPS_KEPT. */
  readonly usedSteps: ReadonlyMap<number, Redemption>;
  /** What was redeemed on the accounting day of the last redemption. */
  readonly day: { readonly date: string; readonly totalMinor: bigint } | null;
}

export interface SeedStreamState {
  readonly seeds: ReadonlyMap<string, Seed>;
  /** The newest REDEMPTIONS_KEPT, oldest first. */
  readonly redemptions: readonly Redemption[];
}

export type SeedCommand =
  | { readonly type: 'IssueSeed'; readonly seed: Issued }
  | {
      readonly type: 'RevokeSeed';
      readonly userId: string;
      readonly seedId: string;
      readonly reason: SeedRevocationReason;
      readonly note: string;
      readonly at: string;
    }
  | {
      readonly type: 'RedeemCode';
      readonly redemption: RedemptionRequest;
      /** The rules that judge codes (`rulesFor(rules, 'payment_code')`). */
      readonly rules: RiskRules;
      /** The payer confirmed this redemption with its payment password (verified by the caller). */
      readonly payerConfirmed: boolean;
    };

export function initialSeedStreamState(): SeedStreamState {
  return { seeds: new Map(), redemptions: [] };
}

/** Live at `at`: issued, not revoked, not expired. */
export function isSeedLive(seed: Seed, at: string): boolean {
  return seed.status === 'live' && Date.parse(at) < Date.parse(seed.expiresAt);
}

function seedNotFound(seedId: string): DomainError {
  return new DomainError('payment_code_seed_not_found', `payment-code seed ${seedId} does not exist`, { seedId });
}

export function decideSeed(command: SeedCommand, state: SeedStreamState): PaymentCodeSeedEvent[] {
  switch (command.type) {
    case 'IssueSeed': {
      const { seed } = command;
      // Issued already (a concurrent retry of the same issuance): nothing new; the caller refuses to answer.
      if (state.seeds.has(seed.seedId)) return [];
      if (state.seeds.size >= MAX_SEEDS_PER_USER)
        throw new DomainError('payment_code_seed_limit', `user ${seed.userId} has had ${MAX_SEEDS_PER_USER} seeds`, {
          userId: seed.userId,
        });
      assert(
        seed.perCodeLimitMinor >= 0n && seed.dailyLimitMinor >= seed.perCodeLimitMinor,
        'limits: 0 <= per code <= daily',
      );
      assert(Date.parse(seed.expiresAt) > Date.parse(seed.issuedAt), 'a seed expires after it is issued');
      // One seed per user and device: a new login revokes the user's live seed on that device.
      const replaced = [...state.seeds.values()].filter(
        (old) => old.deviceId === seed.deviceId && isSeedLive(old, seed.issuedAt),
      );
      return [
        ...replaced.map((old): PaymentCodeSeedEvent => ({
          type: 'PaymentCodeSeedRevoked',
          data: { userId: seed.userId, seedId: old.seedId, reason: 'new_login', note: '', at: seed.issuedAt },
        })),
        { type: 'PaymentCodeSeedIssued', data: seed },
      ];
    }
    case 'RevokeSeed': {
      const seed = state.seeds.get(command.seedId);
      if (!seed) throw seedNotFound(command.seedId);
      if (seed.status === 'revoked') return [];
      const { userId, seedId, reason, note, at } = command;
      return [{ type: 'PaymentCodeSeedRevoked', data: { userId, seedId, reason, note, at } }];
    }
    case 'RedeemCode':
      return decideRedemption(command, state);
  }
}

function decideRedemption(
  command: Extract<SeedCommand, { type: 'RedeemCode' }>,
  state: SeedStreamState,
): PaymentCodeSeedEvent[] {
  const { redemption } = command;
  const { seedId, step, at } = redemption;
  const seed = state.seeds.get(seedId);
  if (!seed) throw seedNotFound(seedId);
  // The same order again (a retry, even with the next code) is the first redemption: nothing new.
  const sameOrder = [...seed.usedSteps.values()].some(
    (earlier) => earlier.merchantId === redemption.merchantId && earlier.merchantOrderNo === redemption.merchantOrderNo,
  );
  if (sameOrder) return [];
  const used = seed.usedSteps.get(step);
  if (seed.status === 'revoked')
    throw new DomainError('payment_code_revoked', 'this payment code belongs to a revoked seed', {
      reason: seed.revocation?.reason ?? 'operator',
    });
  if (Date.parse(at) >= Date.parse(seed.expiresAt))
    throw new DomainError('payment_code_expired', 'this payment code belongs to an expired seed', {
      expiredAt: seed.expiresAt,
    });
  if (used) throw new DomainError('payment_code_used', 'this payment code was used already', {});
  if (redemption.currency !== seed.currency)
    throw new DomainError('payment_code_currency_mismatch', `this seed pays in ${seed.currency}`, {
      currency: seed.currency,
    });
  assert(redemption.amountMinor > 0n, 'a redemption pays a positive amount');
  const assessment = assessRedemption(command.rules, redemption, seed, state);
  const fired = assessment.fired.map(({ ruleId, action }) => ({ ruleId, action }));
  // Refusals record nothing: the code's step stays unused, so the payer can confirm and pay with it.
  if (assessment.verdict === 'block')
    throw new DomainError('risk_blocked', 'the risk rules block this payment', {
      rules: fired
        .filter((rule) => rule.action === 'block')
        .map((rule) => rule.ruleId)
        .join(','),
    });
  const overLimit = redemption.amountMinor > seed.perCodeLimitMinor;
  if ((overLimit || assessment.verdict === 'step_up') && !command.payerConfirmed)
    throw new DomainError(
      'payment_code_confirmation_required',
      overLimit
        ? "the amount is above what a code pays without the payer: send it again with the payer's payment password"
        : "the risk rules ask for the payer's confirmation: send it again with the payer's payment password",
      {
        perCodeLimitMinor: seed.perCodeLimitMinor.toString(),
        rules: fired
          .filter((rule) => rule.action === 'step_up')
          .map((rule) => rule.ruleId)
          .join(','),
      },
    );
  const spentToday = seed.day?.date === redemption.accountingDate ? seed.day.totalMinor : 0n;
  if (spentToday + redemption.amountMinor > seed.dailyLimitMinor)
    throw new DomainError('payment_code_daily_limit', "the seed's daily limit would be exceeded", {
      dailyLimitMinor: seed.dailyLimitMinor.toString(),
      spentTodayMinor: spentToday.toString(),
    });
  const verdict = assessment.verdict;
  return [
    {
      type: 'PaymentCodeRedeemed',
      data: {
        ...redemption,
        risk: {
          ruleVersion: assessment.ruleVersion,
          verdict,
          fired,
          confirmedBy: command.payerConfirmed ? 'payment_password' : null,
        },
      },
    },
  ];
}

export function evolveSeed(state: SeedStreamState, event: PaymentCodeSeedEvent): SeedStreamState {
  const seeds = new Map(state.seeds);
  switch (event.type) {
    case 'PaymentCodeSeedIssued':
      assert(!seeds.has(event.data.seedId), 'a seed is issued once');
      seeds.set(event.data.seedId, {
        ...event.data,
        status: 'live',
        revocation: null,
        usedSteps: new Map(),
        day: null,
      });
      return { ...state, seeds };
    case 'PaymentCodeSeedRevoked': {
      const seed = seeds.get(event.data.seedId);
      assert(seed, 'only an issued seed is revoked');
      const { reason, note, at } = event.data;
      seeds.set(seed.seedId, { ...seed, status: 'revoked', revocation: { reason, note, at } });
      return { ...state, seeds };
    }
    case 'PaymentCodeRedeemed': {
      const seed = seeds.get(event.data.seedId);
      assert(seed, 'only an issued seed redeems');
      const usedSteps = new Map(seed.usedSteps).set(event.data.step, event.data);
      for (const oldStep of [...usedSteps.keys()].sort((a, b) => a - b).slice(0, -USED_STEPS_KEPT))
        usedSteps.delete(oldStep);
      const sameDay = seed.day?.date === event.data.accountingDate;
      const day = {
        date: event.data.accountingDate,
        totalMinor: (sameDay ? seed.day.totalMinor : 0n) + event.data.amountMinor,
      };
      seeds.set(seed.seedId, { ...seed, usedSteps, day });
      return { seeds, redemptions: [...state.redemptions, event.data].slice(-REDEMPTIONS_KEPT) };
    }
  }
}

export const seedDecider = { decide: decideSeed, evolve: evolveSeed, initialState: initialSeedStreamState };

import { describe, it } from 'vitest';
import { parseCurrency } from '../../../src/domain/money/money.js';
import type { PaymentCodeSeedEvent } from '../../../src/domain/payment-codes/payment-code-events.js';
import {
  seedDecider,
  USED_STEPS_KEPT,
  type Redemption,
  type RedemptionRequest,
  type SeedCommand,
} from '../../../src/domain/payment-codes/seed-decider.js';
import { parseRiskRules, type RiskRules } from '../../../src/domain/risk/risk-rules.js';
import { deviceDecider, slotDecider } from '../../../src/domain/payment-codes/slot-and-device-deciders.js';
import { deciderSpecification } from '../../support/decider-specification.js';

const spec = deciderSpecification(seedDecider);
const CNY = parseCurrency('CNY');
const SEED_A = '00000000-0000-4000-8000-00000000000a';
const SEED_B = '00000000-0000-4000-8000-00000000000b';
const PAYMENT = '00000000-0000-4000-8000-0000000000c1';

const issuedData = (seedId: string, deviceId = 'phone-1') => ({
  userId: 'user-1',
  seedId,
  deviceId,
  slot: seedId === SEED_A ? 7 : 8,
  prefix: 10,
  algorithm: 'SHA1' as const,
  stepSeconds: 60,
  seedReference: `vault:${seedId}`,
  accountId: '1015550123456782',
  currency: CNY,
  perCodeLimitMinor: 20_000n,
  dailyLimitMinor: 50_000n,
  issuedAt: '2026-12-01T08:00:00.000Z',
  expiresAt: '2026-12-31T08:00:00.000Z',
});
const issued = (seedId: string, deviceId?: string): PaymentCodeSeedEvent => ({
  type: 'PaymentCodeSeedIssued',
  data: issuedData(seedId, deviceId),
});
/** No rules: the seed's own limits alone (the risk rules have their own specifications below). */
const NO_RULES = parseRiskRules({ ruleVersion: 'none', timeZone: 'Asia/Shanghai', rules: [] });
const ALLOWED: NonNullable<Redemption['risk']> = {
  ruleVersion: 'none',
  verdict: 'allow',
  fired: [],
  confirmedBy: null,
};
const redeem = (
  request: RedemptionRequest,
  over: { rules?: RiskRules; payerConfirmed?: boolean } = {},
): SeedCommand => ({
  type: 'RedeemCode',
  redemption: request,
  rules: over.rules ?? NO_RULES,
  payerConfirmed: over.payerConfirmed ?? false,
});
const redemption = (over: Partial<RedemptionRequest> = {}): RedemptionRequest => ({
  userId: 'user-1',
  seedId: SEED_A,
  step: 29_935_440,
  paymentId: PAYMENT,
  merchantId: 'merchant-1',
  merchantOrderNo: 'SO-1',
  terminalId: 'till-1',
  amountMinor: 1_250n,
  currency: CNY,
  accountingDate: '2026-12-01',
  at: '2026-12-01T12:00:10.000Z',
  ...over,
});
const redeemed = (over: Partial<Redemption> = {}): PaymentCodeSeedEvent => ({
  type: 'PaymentCodeRedeemed',
  data: { ...redemption(over), risk: over.risk ?? ALLOWED },
});

describe('the seed decider (codeseed-<userId>)', () => {
  it('issues a seed', () => {
    spec
      .given([])
      .when({ type: 'IssueSeed', seed: issuedData(SEED_A) })
      .then([issued(SEED_A)]);
  });

  it("a new login revokes the user's live seed on that device, not those on other devices", () => {
    spec
      .given([issued(SEED_A), issued('00000000-0000-4000-8000-0000000000cc', 'tablet')])
      .when({ type: 'IssueSeed', seed: { ...issuedData(SEED_B), issuedAt: '2026-12-02T08:00:00.000Z' } })
      .then([
        {
          type: 'PaymentCodeSeedRevoked',
          data: { userId: 'user-1', seedId: SEED_A, reason: 'new_login', note: '', at: '2026-12-02T08:00:00.000Z' },
        },
        { type: 'PaymentCodeSeedIssued', data: { ...issuedData(SEED_B), issuedAt: '2026-12-02T08:00:00.000Z' } },
      ]);
  });

  it('issues a seed once (a concurrent retry records nothing)', () => {
    spec
      .given([issued(SEED_A)])
      .when({ type: 'IssueSeed', seed: issuedData(SEED_A) })
      .then([]);
  });

  it('revokes with its reason, once', () => {
    const revoke = {
      type: 'RevokeSeed' as const,
      userId: 'user-1',
      seedId: SEED_A,
      reason: 'risk' as const,
      note: 'device rooted',
      at: '2026-12-01T09:00:00.000Z',
    };
    const revoked: PaymentCodeSeedEvent = {
      type: 'PaymentCodeSeedRevoked',
      data: { userId: 'user-1', seedId: SEED_A, reason: 'risk', note: 'device rooted', at: '2026-12-01T09:00:00.000Z' },
    };
    spec
      .given([issued(SEED_A)])
      .when(revoke)
      .then([revoked]);
    spec
      .given([issued(SEED_A), revoked])
      .when({ ...revoke, reason: 'user' })
      .then([]);
    spec.given([]).when(revoke).thenRefuses('payment_code_seed_not_found');
  });

  it('redeems a code of a live seed within its limits', () => {
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption()))
      .then([redeemed()]);
  });

  it('uses a step once: the same order again is the first redemption, another order is a replay', () => {
    spec
      .given([issued(SEED_A), redeemed()])
      .when(redeem(redemption()))
      .then([]);
    spec
      .given([issued(SEED_A), redeemed()])
      .when(redeem(redemption({ step: 29_935_441 })))
      .then([]);
    spec
      .given([issued(SEED_A), redeemed()])
      .when(redeem(redemption({ merchantOrderNo: 'SO-2', terminalId: 'till-2' })))
      .thenRefuses('payment_code_used');
    spec
      .given([issued(SEED_A), redeemed()])
      .when(redeem(redemption({ merchantOrderNo: 'SO-2', step: 29_935_441 })))
      .then([redeemed({ merchantOrderNo: 'SO-2', step: 29_935_441 })]);
  });

  it('refuses revoked and expired seeds', () => {
    const revoked: PaymentCodeSeedEvent = {
      type: 'PaymentCodeSeedRevoked',
      data: { userId: 'user-1', seedId: SEED_A, reason: 'operator', note: '', at: '2026-12-01T09:00:00.000Z' },
    };
    spec
      .given([issued(SEED_A), revoked])
      .when(redeem(redemption()))
      .thenRefuses('payment_code_revoked', { reason: 'operator' });
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption({ at: '2026-12-31T08:00:00.000Z' })))
      .thenRefuses('payment_code_expired');
  });

  it("applies the seed's currency, per-code and daily limits", () => {
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption({ currency: parseCurrency('USD') })))
      .thenRefuses('payment_code_currency_mismatch');
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption({ amountMinor: 20_001n })))
      .thenRefuses('payment_code_confirmation_required');
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption({ amountMinor: 20_000n })))
      .then([redeemed({ amountMinor: 20_000n })]);
    const spent = [20_000n, 20_000n].map((amountMinor, i) =>
      redeemed({ amountMinor, step: 100 + i, merchantOrderNo: `SO-spent-${i}` }),
    );
    spec
      .given([issued(SEED_A), ...spent])
      .when(redeem(redemption({ amountMinor: 10_001n })))
      .thenRefuses('payment_code_daily_limit', { spentTodayMinor: '40000' });
    spec
      .given([issued(SEED_A), ...spent])
      .when(redeem(redemption({ amountMinor: 10_000n })))
      .then([redeemed({ amountMinor: 10_000n })]);
    // The next accounting day starts again from zero.
    spec
      .given([issued(SEED_A), ...spent])
      .when(redeem(redemption({ amountMinor: 20_000n, accountingDate: '2026-12-02', at: '2026-12-02T01:00:00.000Z' })))
      .then([redeemed({ amountMinor: 20_000n, accountingDate: '2026-12-02', at: '2026-12-02T01:00:00.000Z' })]);
  });

  it(`remembers the newest ${USED_STEPS_KEPT} steps of a seed`, () => {
    const many = Array.from({ length: USED_STEPS_KEPT + 4 }, (_, i) =>
      redeemed({ step: 1_000 + i, merchantOrderNo: `SO-old-${i}`, amountMinor: 1n }),
    );
    spec
      .given([issued(SEED_A), ...many])
      .when(redeem(redemption({ step: 1_000 + USED_STEPS_KEPT + 3, merchantOrderNo: 'SO-x', amountMinor: 1n })))
      .thenRefuses('payment_code_used');
  });
});

describe("the risk rules on a redemption (the payer's history is the seed stream)", () => {
  const rulesOf = (...rules: object[]) =>
    parseRiskRules({ ruleVersion: 'codes-test', timeZone: 'Asia/Shanghai', rules });
  const risk = (
    verdict: 'allow' | 'review' | 'step_up',
    fired: { ruleId: string; action: 'review' | 'step_up' }[] = [],
    confirmedBy: 'payment_password' | null = null,
  ) => ({ ruleVersion: 'codes-test', verdict, fired, confirmedBy });
  const newDevice = { id: 'code-new-device', kind: 'new_device', action: 'review' };
  const burst = {
    id: 'code-burst',
    kind: 'velocity',
    party: 'payer',
    maxCount: 2,
    windowMinutes: 10,
    action: 'step_up',
  };
  const bigBlock = {
    id: 'code-big',
    kind: 'amount_per_transaction',
    party: 'payer',
    currency: 'CNY',
    maxMinor: '15000',
    action: 'block',
  };
  const earlier = (i: number, over: Partial<Redemption> = {}) =>
    redeemed({ step: 29_935_430 + i, merchantOrderNo: `SO-earlier-${i}`, at: '2026-12-01T11:55:00.000Z', ...over });

  it('allows and records the verdict: a device the payer never paid from is reviewed, then it is known', () => {
    const rules = rulesOf(newDevice);
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption(), { rules }))
      .then([redeemed({ risk: risk('review', [{ ruleId: 'code-new-device', action: 'review' }]) })]);
    spec
      .given([issued(SEED_A), earlier(0)])
      .when(redeem(redemption(), { rules }))
      .then([redeemed({ risk: risk('allow') })]);
    // A new login on the same phone (a new seed) is not a new device; a new phone is.
    spec
      .given([issued(SEED_A), earlier(0), issued(SEED_B)])
      .when(redeem(redemption({ seedId: SEED_B }), { rules }))
      .then([redeemed({ seedId: SEED_B, risk: risk('allow') })]);
    spec
      .given([issued(SEED_A), earlier(0), issued(SEED_B, 'new-phone')])
      .when(redeem(redemption({ seedId: SEED_B }), { rules }))
      .then([redeemed({ seedId: SEED_B, risk: risk('review', [{ ruleId: 'code-new-device', action: 'review' }]) })]);
  });

  it('refuses a blocked redemption risk_blocked, recording nothing: the code stays usable', () => {
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption({ amountMinor: 15_001n }), { rules: rulesOf(bigBlock), payerConfirmed: true }))
      .thenRefuses('risk_blocked', { rules: 'code-big' });
    // Nothing was recorded, so the same step pays a smaller amount.
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption({ amountMinor: 15_000n }), { rules: rulesOf(bigBlock) }))
      .then([redeemed({ amountMinor: 15_000n, risk: risk('allow') })]);
  });

  it("a step-up asks for the payer's confirmation; confirmed, the code pays and says so", () => {
    const rules = rulesOf(burst);
    const history = [issued(SEED_A), earlier(0), earlier(1)];
    spec
      .given(history)
      .when(redeem(redemption(), { rules }))
      .thenRefuses('payment_code_confirmation_required', { rules: 'code-burst', perCodeLimitMinor: '20000' });
    const fired = [{ ruleId: 'code-burst', action: 'step_up' as const }];
    spec
      .given(history)
      .when(redeem(redemption(), { rules, payerConfirmed: true }))
      .then([redeemed({ risk: risk('step_up', fired, 'payment_password') })]);
    // Older than the window, the earlier redemptions do not count.
    spec
      .given([issued(SEED_A), earlier(0), earlier(1)])
      .when(redeem(redemption({ at: '2026-12-01T12:06:00.000Z' }), { rules }))
      .then([redeemed({ at: '2026-12-01T12:06:00.000Z', risk: risk('allow') })]);
  });

  it('above the per-code limit the payer confirms; the daily limit holds even then', () => {
    spec
      .given([issued(SEED_A)])
      .when(redeem(redemption({ amountMinor: 20_001n }), { payerConfirmed: true }))
      .then([redeemed({ amountMinor: 20_001n, risk: { ...ALLOWED, confirmedBy: 'payment_password' } })]);
    spec
      .given([issued(SEED_A), earlier(0, { amountMinor: 40_000n })])
      .when(redeem(redemption({ amountMinor: 10_001n }), { payerConfirmed: true }))
      .thenRefuses('payment_code_daily_limit', { spentTodayMinor: '40000' });
  });

  it("the payer's day total counts every seed of the user", () => {
    const rules = rulesOf({
      id: 'code-day',
      kind: 'amount_per_day',
      party: 'payer',
      currency: 'CNY',
      maxMinor: '30000',
      action: 'step_up',
    });
    spec
      .given([issued(SEED_A), issued(SEED_B, 'tablet'), earlier(0, { seedId: SEED_B, amountMinor: 20_000n })])
      .when(redeem(redemption({ amountMinor: 10_001n }), { rules }))
      .thenRefuses('payment_code_confirmation_required', { rules: 'code-day' });
    spec
      .given([issued(SEED_A), issued(SEED_B, 'tablet'), earlier(0, { seedId: SEED_B, amountMinor: 20_000n })])
      .when(redeem(redemption({ amountMinor: 10_000n }), { rules }))
      .then([redeemed({ amountMinor: 10_000n, risk: risk('allow') })]);
  });
});

describe('the slot and device deciders', () => {
  const claim = {
    slot: 7,
    seedId: SEED_A,
    userId: 'user-1',
    expiresAt: '2026-12-31T08:00:00.000Z',
    at: '2026-12-01T08:00:00.000Z',
  };
  const claimed = { type: 'PaymentCodeSlotClaimed' as const, data: claim };
  const slots = deciderSpecification(slotDecider);
  const devices = deciderSpecification(deviceDecider);

  it('claims a free slot; the same seed again is nothing; a live holder keeps it (nothing recorded)', () => {
    slots.given([]).when({ type: 'ClaimSlot', claim, holderRevoked: false }).then([claimed]);
    slots.given([claimed]).when({ type: 'ClaimSlot', claim, holderRevoked: false }).then([]);
    const other = { ...claim, seedId: SEED_B, userId: 'user-2', at: '2026-12-02T08:00:00.000Z' };
    slots.given([claimed]).when({ type: 'ClaimSlot', claim: other, holderRevoked: false }).then([]);
    slots
      .given([claimed])
      .when({ type: 'ClaimSlot', claim: other, holderRevoked: true })
      .then([{ type: 'PaymentCodeSlotClaimed', data: other }]);
    const afterExpiry = { ...other, at: '2026-12-31T08:00:00.000Z', expiresAt: '2027-01-30T08:00:00.000Z' };
    slots
      .given([claimed])
      .when({ type: 'ClaimSlot', claim: afterExpiry, holderRevoked: false })
      .then([{ type: 'PaymentCodeSlotClaimed', data: afterExpiry }]);
  });

  it('binds a device to the newest seed', () => {
    const binding = { deviceId: 'phone-1', userId: 'user-1', seedId: SEED_A, at: '2026-12-01T08:00:00.000Z' };
    const bound = { type: 'PaymentCodeDeviceBound' as const, data: { ...binding, previous: null } };
    devices.given([]).when({ type: 'BindDevice', binding }).then([bound]);
    devices.given([bound]).when({ type: 'BindDevice', binding }).then([]);
    const next = { ...binding, userId: 'user-2', seedId: SEED_B };
    devices
      .given([bound])
      .when({ type: 'BindDevice', binding: next })
      .then([{ type: 'PaymentCodeDeviceBound', data: { ...next, previous: { userId: 'user-1', seedId: SEED_A } } }]);
  });
});

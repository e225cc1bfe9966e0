import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessRisk, type RiskInputs, type RiskVerdict } from '../../src/domain/risk/risk-assessment.js';
import type { RiskHistory } from '../../src/domain/risk/risk-history.js';
import { decodeRiskAssessment, encodeRiskAssessment } from '../../src/domain/risk/risk-record.js';
import type { RiskRule, RiskRules } from '../../src/domain/risk/risk-rules.js';
import { stepUpDecider, type StepUpCommand, type StepUpState } from '../../src/domain/risk/step-up-decider.js';
import type { StepUpEvent, StepUpPolicy } from '../../src/domain/risk/step-up-events.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { CNY, sampleAttempt } from '../support/risk-fixtures.js';

const SEVERITY: Record<RiskVerdict, number> = { allow: 0, review: 1, step_up: 2, block: 3 };
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const action = fc.constantFrom('block' as const, 'step_up' as const, 'review' as const);
const party = fc.constantFrom('payer' as const, 'merchant' as const);
const minor = fc.bigInt({ min: 1n, max: 10_000_000n });
const ids = fc.constantFrom('a', 'b', 'c');

const rule: fc.Arbitrary<Omit<RiskRule, 'id'>> = fc.oneof(
  fc.record({
    kind: fc.constant('amount_per_transaction' as const),
    party,
    currency: fc.constant(CNY),
    maxMinor: minor,
    action,
  }),
  fc.record({
    kind: fc.constant('amount_per_day' as const),
    party,
    currency: fc.constant(CNY),
    maxMinor: minor,
    action,
  }),
  fc.record({
    kind: fc.constant('velocity' as const),
    party,
    maxCount: fc.integer({ min: 1, max: 20 }),
    windowMinutes: fc.integer({ min: 1, max: 120 }),
    action,
  }),
  fc.record({ kind: fc.constant('new_device' as const), action }),
  fc.record({ kind: fc.constant('new_ip' as const), action }),
  fc.record({
    kind: fc.constant('block_list' as const),
    list: fc.constantFrom('payer' as const, 'merchant' as const, 'ip' as const, 'device' as const),
    entries: fc.array(ids, { maxLength: 3 }),
    action,
  }),
);

const rules: fc.Arbitrary<RiskRules> = fc.array(rule, { maxLength: 8 }).map((list) => ({
  ruleVersion: 'prop-1',
  timeZone: 'Asia/Shanghai',
  rules: list.map((r, index) => ({ ...r, id: `r${index}` }) as RiskRule),
}));

const instantNear = fc.integer({ min: -3 * 3_600_000, max: 0 }).map((offset) => iso(T0 + 12 * 3_600_000 + offset));
const partyHistory = fc.record({
  dayTotals: fc.array(
    fc.record({
      accountingDate: fc.constantFrom('2026-12-01', '2026-11-30'),
      currency: fc.constant(CNY),
      amountMinor: minor,
    }),
    { maxLength: 3 },
  ),
  recentPaymentsAt: fc.array(instantNear, { maxLength: 25 }),
});
const history: fc.Arbitrary<RiskHistory> = fc.record({
  payer: fc.record({
    dayTotals: partyHistory.map((h) => h.dayTotals),
    recentPaymentsAt: partyHistory.map((h) => h.recentPaymentsAt),
    knownDevices: fc.array(ids, { maxLength: 3 }),
    knownIps: fc.array(ids, { maxLength: 3 }),
  }),
  merchant: partyHistory,
});
const attempt = fc.record({
  amountMinor: minor,
  payerId: ids,
  merchantId: ids,
  ip: fc.option(ids, { nil: null }),
  deviceId: fc.option(ids, { nil: null }),
  occurredAt: fc.integer({ min: 0, max: 3_600_000 }).map((offset) => iso(T0 + 12 * 3_600_000 + offset)),
});
const inputs: fc.Arbitrary<RiskInputs> = fc.record({
  rules,
  history,
  attempt: attempt.map((a) => ({ ...sampleAttempt, ...a })),
});

describe('risk assessment (property)', () => {
  it('a higher amount limit never makes the verdict more severe (an allow never turns into a block)', () => {
    fc.assert(
      fc.property(inputs, fc.nat({ max: 30 }), fc.bigInt({ min: 0n, max: 10_000_000n }), (given, pick, raise) => {
        const amountRules = given.rules.rules.filter(
          (r) => r.kind === 'amount_per_transaction' || r.kind === 'amount_per_day',
        );
        fc.pre(amountRules.length > 0);
        const raised = amountRules[pick % amountRules.length]!;
        const higher: RiskRules = {
          ...given.rules,
          rules: given.rules.rules.map((r) =>
            r === raised && 'maxMinor' in r ? { ...r, maxMinor: r.maxMinor + raise } : r,
          ),
        };
        const before = assessRisk(given).verdict;
        const after = assessRisk({ ...given, rules: higher }).verdict;
        expect(SEVERITY[after]).toBeLessThanOrEqual(SEVERITY[before]);
        if (before === 'allow') expect(after).toBe('allow');
      }),
    );
  });

  it('is deterministic and replays from its JSON record to the same answer', () => {
    fc.assert(
      fc.property(inputs, (given) => {
        const assessment = assessRisk(given);
        expect(assessRisk(given)).toEqual(assessment);
        const stored = JSON.parse(JSON.stringify(encodeRiskAssessment(assessment)));
        const replayed = assessRisk(decodeRiskAssessment(stored).inputs);
        expect(replayed).toEqual(assessment);
        // The verdict is the most severe action among the rules that fired.
        const worst = Math.max(0, ...assessment.fired.map((r) => SEVERITY[r.action]));
        expect(SEVERITY[assessment.verdict]).toBe(worst);
      }),
    );
  });
});

const challengeId = '7d1f3c1e-2b64-4c55-9d0a-0c6f1b1a9e01';
const paymentId = '0b5e4c5a-6f0e-4a8b-8a43-2d6c0e9f7a11';
/** Stand-ins for code hashes: the decider only compares them. */
const hashOf = (code: number) => String(code).padStart(43, 'h');

const policy: fc.Arbitrary<StepUpPolicy> = fc
  .record({
    codeTtlMs: fc.integer({ min: 30_000, max: 300_000 }),
    extraMs: fc.integer({ min: 0, max: 600_000 }),
    maxAttempts: fc.integer({ min: 1, max: 10 }),
    maxSends: fc.integer({ min: 1, max: 10 }),
    minResendIntervalMs: fc.integer({ min: 0, max: 120_000 }),
  })
  .map(({ extraMs, ...rest }) => ({ ...rest, challengeTtlMs: rest.codeTtlMs + extraMs }));

type Step = { kind: 'verify' | 'resend' | 'expire'; code: number; afterMs: number };
const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('verify' as const, 'resend' as const, 'expire' as const),
  code: fc.integer({ min: 0, max: 3 }),
  afterMs: fc.integer({ min: 0, max: 120_000 }),
});

describe('step-up challenge (property)', () => {
  it('never counts more wrong attempts than the limit, never acts once closed, and verifies only the current code', () => {
    fc.assert(
      fc.property(policy, fc.array(step, { maxLength: 40 }), (limits, steps) => {
        let nowMs = T0;
        const events: StepUpEvent[] = [];
        const apply = (command: StepUpCommand) => {
          const state = events.reduce(stepUpDecider.evolve, stepUpDecider.initialState());
          try {
            const decided = stepUpDecider.decide(command, state);
            if (state.status !== 'none' && state.status !== 'pending') expect(decided).toEqual([]);
            events.push(...decided);
            return { state, decided };
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            return { state, decided: [] };
          }
        };
        apply({
          type: 'IssueChallenge',
          challengeId,
          paymentId,
          maskedPhone: '138****0001',
          codeHmac: hashOf(0),
          policy: limits,
          at: iso(nowMs),
        });
        let current = 0;
        for (const s of steps) {
          nowMs += s.afterMs;
          const at = iso(nowMs);
          if (s.kind === 'verify') {
            const { state, decided } = apply({ type: 'VerifyCode', challengeId, codeHmac: hashOf(s.code), at });
            if (decided.some((e) => e.type === 'StepUpVerified')) {
              expect(s.code).toBe(current);
              expect((state as Exclude<StepUpState, { status: 'none' }>).attemptsUsed).toBeLessThan(limits.maxAttempts);
            }
          } else if (s.kind === 'resend') {
            const { decided } = apply({ type: 'ResendCode', challengeId, codeHmac: hashOf(s.code), at });
            if (decided.some((e) => e.type === 'StepUpCodeResent')) current = s.code;
          } else apply({ type: 'ExpireChallenge', challengeId, at });
        }
        const wrongs = events.filter((e) => e.type === 'StepUpCodeRejected' && e.data.reason === 'code_wrong');
        expect(wrongs.length).toBeLessThanOrEqual(limits.maxAttempts);
        expect(
          events.filter((e) => e.type === 'StepUpChallengeIssued' || e.type === 'StepUpCodeResent').length,
        ).toBeLessThanOrEqual(limits.maxSends);
        const closing = events.findIndex((e) => e.type === 'StepUpVerified' || e.type === 'StepUpFailed');
        if (closing >= 0) expect(events.length).toBe(closing + 1);
        const final = events.reduce(stepUpDecider.evolve, stepUpDecider.initialState());
        if (final.status !== 'none') expect(final.attemptsUsed).toBeLessThanOrEqual(limits.maxAttempts);
      }),
      { numRuns: 300 },
    );
  });
});

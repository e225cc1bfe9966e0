import { describe, expect, it } from 'vitest';
import { assessRisk, type RiskInputs } from '../../src/domain/risk/risk-assessment.js';
import { MAX_RECENT_PAYMENTS } from '../../src/domain/risk/risk-history.js';
import { decodeRiskAssessment, encodeRiskAssessment } from '../../src/domain/risk/risk-record.js';
import { parseRiskRules } from '../../src/domain/risk/risk-rules.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { CNY, knownPayerHistory, sampleAttempt, sampleRiskRules } from '../support/risk-fixtures.js';

/** Given the rules and a history, when a payment is attempted, then the verdict and the rules that fired. */
function given(history: RiskInputs['history'], rules = sampleRiskRules) {
  return {
    when(attempt: Partial<RiskInputs['attempt']>) {
      const assessment = assessRisk({ rules, history, attempt: { ...sampleAttempt, ...attempt } });
      return {
        then(verdict: string, fired: readonly string[]) {
          expect(assessment.verdict).toBe(verdict);
          expect(assessment.fired.map((rule) => rule.ruleId)).toEqual(fired);
          expect(assessment.ruleVersion).toBe('risk-2026-12-01');
          return assessment;
        },
      };
    },
  };
}

describe('risk assessment (given / when / then)', () => {
  it('allows a known payer on a known device with a small amount', () => {
    given(knownPayerHistory).when({}).then('allow', []);
  });

  it('blocks a listed payer, IP, device or merchant, whatever else fires', () => {
    given(knownPayerHistory).when({ payerId: 'payer-stolen' }).then('block', ['blocked-payers']);
    given(knownPayerHistory).when({ ip: '203.0.113.66' }).then('block', ['blocked-ips', 'new-ip']);
    given(knownPayerHistory).when({ deviceId: 'dev-emulator' }).then('block', ['blocked-devices', 'new-device']);
    given(knownPayerHistory).when({ merchantId: 'mch-closed' }).then('block', ['blocked-merchants']);
  });

  it('steps up a large payment and blocks one above the hard cap, with what each rule saw', () => {
    const large = given(knownPayerHistory).when({ amountMinor: 500_001n }).then('step_up', ['payer-txn-large']);
    expect(large.fired[0]!.observed).toEqual({ partyId: 'payer-1', amountMinor: '500001', maxMinor: '500000' });
    given(knownPayerHistory)
      .when({ amountMinor: 5_000_001n })
      .then('block', ['payer-txn-cap', 'payer-txn-large', 'payer-day']);
    given(knownPayerHistory).when({ amountMinor: 500_000n }).then('allow', []);
  });

  it('counts the day in the accounting zone: a payment after local midnight starts a new day', () => {
    const history = {
      ...knownPayerHistory,
      payer: {
        ...knownPayerHistory.payer,
        dayTotals: [{ accountingDate: '2026-12-01', currency: CNY, amountMinor: 1_900_000n }],
      },
    };
    // 2026-11-30T16:30Z is 00:30 on 1 December in Shanghai: the same day as the total, which the attempt tips over.
    const tipped = given(history).when({ amountMinor: 100_001n, occurredAt: '2026-11-30T16:30:00.000Z' });
    expect(tipped.then('step_up', ['payer-day']).fired[0]!.observed).toEqual({
      partyId: 'payer-1',
      accountingDate: '2026-12-01',
      dayTotalMinor: '2000001',
      maxMinor: '2000000',
    });
    // 15:30Z is 23:30 on 30 November in Shanghai: another day, whose total is empty.
    given(history).when({ amountMinor: 100_001n, occurredAt: '2026-11-30T15:30:00.000Z' }).then('allow', []);
  });

  it('applies amount limits only to their currency', () => {
    given(knownPayerHistory)
      .when({ amountMinor: 9_000_000n, currency: 'USD' as typeof CNY })
      .then('allow', []);
  });

  it('fires velocity on the payment after N within M minutes, not on older ones', () => {
    const at = (minutesBefore: number) =>
      new Date(Date.parse(sampleAttempt.occurredAt) - minutesBefore * 60_000).toISOString();
    const three = {
      ...knownPayerHistory,
      payer: { ...knownPayerHistory.payer, recentPaymentsAt: [at(1), at(5), at(9)] },
    };
    const burst = given(three).when({}).then('step_up', ['payer-burst']);
    expect(burst.fired[0]!.observed).toMatchObject({ count: '4', maxCount: '3', windowMinutes: '10' });
    const spread = {
      ...knownPayerHistory,
      payer: { ...knownPayerHistory.payer, recentPaymentsAt: [at(1), at(5), at(11)] },
    };
    given(spread).when({}).then('allow', []);
  });

  it('steps up a new device, sends a new IP to review, and takes a missing device as new', () => {
    given(knownPayerHistory).when({ deviceId: 'dev-phone-2' }).then('step_up', ['new-device']);
    given(knownPayerHistory).when({ ip: '198.51.100.8' }).then('review', ['new-ip']);
    given(knownPayerHistory).when({ deviceId: null }).then('step_up', ['new-device']);
  });

  it('sends a merchant over its own limits to review', () => {
    const busyMerchant = {
      ...knownPayerHistory,
      merchant: {
        ...knownPayerHistory.merchant,
        recentPaymentsAt: Array.from({ length: 100 }, () => '2026-12-01T01:59:30.000Z'),
      },
    };
    given(busyMerchant).when({}).then('review', ['merchant-burst']);
    const merchantDay = {
      ...knownPayerHistory,
      merchant: {
        ...knownPayerHistory.merchant,
        dayTotals: [{ accountingDate: '2026-12-01', currency: CNY, amountMinor: 99_999_000n }],
      },
    };
    given(merchantDay).when({ amountMinor: 1_001n }).then('review', ['merchant-day']);
  });

  it('replays a recorded verdict to the same answer, from its JSON', () => {
    const recorded = given(knownPayerHistory)
      .when({ amountMinor: 600_000n, deviceId: 'dev-new' })
      .then('step_up', ['payer-txn-large', 'new-device']);
    const stored = JSON.parse(JSON.stringify(encodeRiskAssessment(recorded)));
    const replayed = assessRisk(decodeRiskAssessment(stored).inputs);
    expect(replayed).toEqual(recorded);
    expect(encodeRiskAssessment(replayed)).toEqual(stored);
  });

  it('refuses rule sets that break their limits, and a history beyond its bounds', () => {
    expect(() =>
      parseRiskRules({
        ruleVersion: 'v',
        timeZone: 'UTC',
        rules: [{ id: 'v', kind: 'velocity', party: 'payer', maxCount: 1_001, windowMinutes: 1, action: 'review' }],
      }),
    ).toThrow();
    expect(() =>
      parseRiskRules({
        ruleVersion: 'v',
        timeZone: 'UTC',
        rules: [
          { id: 'same', kind: 'new_ip', action: 'review' },
          { id: 'same', kind: 'new_device', action: 'review' },
        ],
      }),
    ).toThrow(/unique/);
    const flooded = {
      ...knownPayerHistory,
      payer: {
        ...knownPayerHistory.payer,
        recentPaymentsAt: Array.from({ length: MAX_RECENT_PAYMENTS + 1 }, () => sampleAttempt.occurredAt),
      },
    };
    expect(() => assessRisk({ rules: sampleRiskRules, history: flooded, attempt: sampleAttempt })).toThrow(DomainError);
  });
});

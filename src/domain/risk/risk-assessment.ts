import { accountingDate } from '../shared/accounting-day.js';
import { assert } from '../shared/domain-error.js';
import {
  MAX_DAY_TOTALS,
  MAX_KNOWN_DEVICES,
  MAX_KNOWN_IPS,
  MAX_RECENT_PAYMENTS,
  type PartyHistory,
  type PaymentAttempt,
  type RiskHistory,
} from './risk-history.js';
import type { RiskAction, RiskRule, RiskRules } from './risk-rules.js';

/**
 * Risk assessment, a pure function of its inputs: the rules, the attempt and the history summary. Every
 * rule is checked (not only until the first fires), so the verdict lists all that fired with what each
 * saw; the verdict is the most severe action among them. The inputs travel with the verdict, so an
 * auditor replays `assessRisk(recorded.inputs)` and gets the same answer.
 */
export type RiskVerdict = 'allow' | RiskAction;

/** Most severe first: a block beats a step-up, which beats a review, which beats allow. */
const SEVERITY: readonly RiskVerdict[] = ['block', 'step_up', 'review', 'allow'];

export interface RiskInputs {
  readonly rules: RiskRules;
  readonly attempt: PaymentAttempt;
  readonly history: RiskHistory;
}

/** One rule that fired, with the figures it judged (strings, so the record is plain JSON). */
export interface FiredRule {
  readonly ruleId: string;
  readonly kind: RiskRule['kind'];
  readonly action: RiskAction;
  readonly observed: Readonly<Record<string, string>>;
}

export interface RiskAssessment {
  readonly inputs: RiskInputs;
  readonly ruleVersion: string;
  readonly verdict: RiskVerdict;
  readonly fired: readonly FiredRule[];
}

function partyOf(rule: { party: 'payer' | 'merchant' }, inputs: RiskInputs): { id: string; history: PartyHistory } {
  return rule.party === 'payer'
    ? { id: inputs.attempt.payerId, history: inputs.history.payer }
    : { id: inputs.attempt.merchantId, history: inputs.history.merchant };
}

/** What the rule saw if it fires; null when it does not. */
function check(rule: RiskRule, inputs: RiskInputs, day: string): Record<string, string> | null {
  const { attempt } = inputs;
  switch (rule.kind) {
    case 'amount_per_transaction':
      if (attempt.currency !== rule.currency || attempt.amountMinor <= rule.maxMinor) return null;
      return {
        partyId: partyOf(rule, inputs).id,
        amountMinor: String(attempt.amountMinor),
        maxMinor: String(rule.maxMinor),
      };
    case 'amount_per_day': {
      if (attempt.currency !== rule.currency) return null;
      const party = partyOf(rule, inputs);
      const before = party.history.dayTotals
        .filter((total) => total.accountingDate === day && total.currency === rule.currency)
        .reduce((sum, total) => sum + total.amountMinor, 0n);
      const dayTotalMinor = before + attempt.amountMinor;
      if (dayTotalMinor <= rule.maxMinor) return null;
      return {
        partyId: party.id,
        accountingDate: day,
        dayTotalMinor: String(dayTotalMinor),
        maxMinor: String(rule.maxMinor),
      };
    }
    case 'velocity': {
      const party = partyOf(rule, inputs);
      const nowMs = Date.parse(attempt.occurredAt);
      const fromMs = nowMs - rule.windowMinutes * 60_000;
      // A payment recorded after the attempt's time (clock skew between writers) is still in the window.
      const count = 1 + party.history.recentPaymentsAt.filter((at) => Date.parse(at) > fromMs).length;
      if (count <= rule.maxCount) return null;
      return {
        partyId: party.id,
        count: String(count),
        maxCount: String(rule.maxCount),
        windowMinutes: String(rule.windowMinutes),
      };
    }
    case 'new_device':
      if (attempt.deviceId !== null && inputs.history.payer.knownDevices.includes(attempt.deviceId)) return null;
      return { payerId: attempt.payerId, deviceId: attempt.deviceId ?? '' };
    case 'new_ip':
      if (attempt.ip !== null && inputs.history.payer.knownIps.includes(attempt.ip)) return null;
      return { payerId: attempt.payerId, ip: attempt.ip ?? '' };
    case 'block_list': {
      const value = { payer: attempt.payerId, merchant: attempt.merchantId, ip: attempt.ip, device: attempt.deviceId }[
        rule.list
      ];
      if (value === null || !rule.entries.includes(value)) return null;
      return { list: rule.list, value };
    }
  }
}

function assertBounded(history: RiskHistory): void {
  // The limits the schema enforces on load, asserted again: a caller may build the summary in code.
  for (const party of [history.payer, history.merchant]) {
    assert(party.dayTotals.length <= MAX_DAY_TOTALS, 'risk history: too many day totals');
    assert(party.recentPaymentsAt.length <= MAX_RECENT_PAYMENTS, 'risk history: too many recent payments');
  }
  assert(history.payer.knownDevices.length <= MAX_KNOWN_DEVICES, 'risk history: too many known devices');
  assert(history.payer.knownIps.length <= MAX_KNOWN_IPS, 'risk history: too many known IPs');
}

export function assessRisk(inputs: RiskInputs): RiskAssessment {
  assertBounded(inputs.history);
  assert(inputs.attempt.amountMinor > 0n, 'risk assessment: the amount must be positive');
  const day = accountingDate(inputs.attempt.occurredAt, inputs.rules.timeZone);
  const fired: FiredRule[] = [];
  for (const rule of inputs.rules.rules) {
    const observed = check(rule, inputs, day);
    if (observed !== null) fired.push({ ruleId: rule.id, kind: rule.kind, action: rule.action, observed });
  }
  const verdict = SEVERITY.find((level) => level === 'allow' || fired.some((rule) => rule.action === level))!;
  return { inputs, ruleVersion: inputs.rules.ruleVersion, verdict, fired };
}

import { assessRisk, type RiskAssessment } from '../risk/risk-assessment.js';
import { EMPTY_RISK_HISTORY, MAX_DAY_TOTALS, MAX_KNOWN_DEVICES, type RiskHistory } from '../risk/risk-history.js';
import type { RiskRules } from '../risk/risk-rules.js';
import type { Redemption, Seed, SeedStreamState } from './seed-decider.js';

/** How far back a redemption's instants count for velocity: the longest velocity window. */
const RECENT_WINDOW_MS = 24 * 60 * 60_000;

/**
 * The risk rules on a code's redemption. The attempt is the payer (the seed's user: the platform's own
 * user, whichever merchant scans), the merchant, the seed's device (the phone that showed the code) and
 * the amount, at the command's time. The payer's history is the seed stream's own state, read on every
 * redemption anyway: the user's newest redemptions (REDEMPTIONS_KEPT, of every seed) give the day totals
 * and the instants for velocity, and the devices of seeds that paid before are the known devices, so a
 * new login on a new phone meets `new_device`. Exact, not a read model's lag behind, and decided at the
 * stream's expected revision, so two redemptions at once are judged one after the other.
 *
 * A code carries no payer IP (`new_ip` fires on every code: give such rules `appliesTo`), and the
 * redemption reads no merchant history (the merchant's code payments are spread over its payers' streams).
 */
export function assessRedemption(
  rules: RiskRules,
  redemption: Omit<Redemption, 'risk'>,
  seed: Seed,
  state: SeedStreamState,
): RiskAssessment {
  return assessRisk({
    rules,
    attempt: {
      amountMinor: redemption.amountMinor,
      currency: redemption.currency,
      payerId: redemption.userId,
      merchantId: redemption.merchantId,
      ip: null,
      deviceId: seed.deviceId,
      occurredAt: redemption.at,
    },
    history: codeHistoryOf(state, redemption.at),
  });
}

/**
 * Each earlier redemption's day is its recorded `accountingDate`, in the ledger's accounting zone, which
 * the rules' `timeZone` is (asserted where the rules are given): no time-zone arithmetic per redemption.
 */
function codeHistoryOf(state: SeedStreamState, at: string): RiskHistory {
  const fromMs = Date.parse(at) - RECENT_WINDOW_MS;
  const totals = new Map<string, { accountingDate: string; currency: Redemption['currency']; amountMinor: bigint }>();
  const recentPaymentsAt: string[] = [];
  for (const earlier of state.redemptions) {
    if (Date.parse(earlier.at) > fromMs) recentPaymentsAt.push(earlier.at);
    const day = earlier.accountingDate;
    const key = `${day}|${earlier.currency}`;
    const total = totals.get(key) ?? { accountingDate: day, currency: earlier.currency, amountMinor: 0n };
    totals.set(key, { ...total, amountMinor: total.amountMinor + earlier.amountMinor });
  }
  const dayTotals = [...totals.values()]
    .sort((a, b) => b.accountingDate.localeCompare(a.accountingDate))
    .slice(0, MAX_DAY_TOTALS);
  // Newest seeds first; a seed that paid at least once has a used step (they are never all pruned).
  const knownDevices = [
    ...new Set(
      [...state.seeds.values()]
        .reverse()
        .filter((seed) => seed.usedSteps.size > 0)
        .map((seed) => seed.deviceId),
    ),
  ].slice(0, MAX_KNOWN_DEVICES);
  return {
    payer: { dayTotals, recentPaymentsAt, knownDevices, knownIps: [] },
    merchant: EMPTY_RISK_HISTORY.merchant,
  };
}

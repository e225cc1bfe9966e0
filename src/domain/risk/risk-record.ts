import { z } from 'zod';
import { RISK_ACTIONS, riskRules } from './risk-rules.js';
import { paymentAttempt, riskHistory } from './risk-history.js';
import type { RiskAssessment } from './risk-assessment.js';

/**
 * The stored JSON form of a risk assessment (bigints as decimal strings), for the payment's events:
 * decoding it gives back the very inputs the rules saw, so `assessRisk(decoded.inputs)` replays the verdict.
 */
export const riskAssessmentJson = z.strictObject({
  inputs: z.strictObject({ rules: riskRules, attempt: paymentAttempt, history: riskHistory }),
  ruleVersion: z.string(),
  verdict: z.enum(['allow', ...RISK_ACTIONS]),
  fired: z
    .array(
      z.strictObject({
        ruleId: z.string(),
        kind: z.enum(['amount_per_transaction', 'amount_per_day', 'velocity', 'new_device', 'new_ip', 'block_list']),
        action: z.enum(RISK_ACTIONS),
        observed: z.record(z.string(), z.string()).readonly(),
      }),
    )
    .readonly(),
});

export type RiskAssessmentJson = z.input<typeof riskAssessmentJson>;

export function encodeRiskAssessment(assessment: RiskAssessment): RiskAssessmentJson {
  return riskAssessmentJson.encode(assessment);
}

export function decodeRiskAssessment(json: unknown): RiskAssessment {
  return riskAssessmentJson.decode(json as RiskAssessmentJson);
}

import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { parseRiskRules, type RiskRules } from '../domain/risk/risk-rules.js';

/** A rules file larger than this is not a list of rules an operator edits by hand (see MAX_RULES). */
const MAX_RISK_RULES_FILE_BYTES = 1_048_576;

/**
 * The channel payments' risk rules from an operator's JSON file (RISK_RULES_FILE), checked once at start:
 * a file that does not parse, breaks the schema, or cuts its days in another time zone than the books
 * stops the service with a message naming it, rather than running on rules nobody wrote.
 */
export function loadRiskRulesFile(path: string, accountingTimeZone: string): RiskRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`invalid configuration: RISK_RULES_FILE: cannot read ${path}: ${(error as Error).message}`);
  }
  if (Buffer.byteLength(text) > MAX_RISK_RULES_FILE_BYTES)
    throw new ConfigError(`invalid configuration: RISK_RULES_FILE: ${path} is over ${MAX_RISK_RULES_FILE_BYTES} bytes`);
  let rules: RiskRules;
  try {
    rules = parseRiskRules(JSON.parse(text));
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const detail = issues
      ? issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`).join('; ')
      : (error as Error).message;
    throw new ConfigError(`invalid configuration: RISK_RULES_FILE: ${path}: ${detail}`);
  }
  if (rules.timeZone !== accountingTimeZone)
    throw new ConfigError(
      `invalid configuration: RISK_RULES_FILE: ${path}: timeZone ${rules.timeZone} is not ACCOUNTING_TIME_ZONE ${accountingTimeZone} (per-day limits would cut days the books do not)`,
    );
  return rules;
}

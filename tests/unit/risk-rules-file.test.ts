import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRiskRulesFile } from '../../src/adapters/risk-rules-file.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-risk-rules-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const rules = (timeZone: string, rule: object) => JSON.stringify({ ruleVersion: 'ops-7', timeZone, rules: [rule] });
const velocity = {
  id: 'payer-burst',
  kind: 'velocity',
  party: 'payer',
  maxCount: 5,
  windowMinutes: 1,
  action: 'block',
};

describe('RISK_RULES_FILE: an operator edits the rules as data', () => {
  it('is read from the environment', () => {
    expect(loadConfig({ RISK_RULES_FILE: '/etc/ledger/risk.json' }).riskRulesFile).toBe('/etc/ledger/risk.json');
    expect(loadConfig({ RISK_RULES_FILE: '' }).riskRulesFile).toBeUndefined();
  });

  it('loads a valid file with its version', () => {
    const loaded = loadRiskRulesFile(file('ok.json', rules('Asia/Shanghai', velocity)), 'Asia/Shanghai');
    expect(loaded.ruleVersion).toBe('ops-7');
    expect(loaded.rules).toHaveLength(1);
  });

  it('stops the start on a missing file, bad JSON, a broken rule or another time zone, naming what is wrong', () => {
    expect(() => loadRiskRulesFile(join(dir, 'missing.json'), 'Asia/Shanghai')).toThrow(/cannot read/);
    expect(() => loadRiskRulesFile(file('bad.json', '{"ruleVersion":'), 'Asia/Shanghai')).toThrow(ConfigError);
    const broken = file('broken.json', rules('Asia/Shanghai', { ...velocity, maxCount: 0 }));
    expect(() => loadRiskRulesFile(broken, 'Asia/Shanghai')).toThrow(/rules\.0\.maxCount/);
    const elsewhere = file('zone.json', rules('Europe/Paris', velocity));
    expect(() => loadRiskRulesFile(elsewhere, 'Asia/Shanghai')).toThrow(/timeZone Europe\/Paris/);
  });
});

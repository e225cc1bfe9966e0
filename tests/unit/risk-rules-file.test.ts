import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRiskRulesFile } from '../../src/adapters/risk-rules-file.js';
import { defaultRiskRules } from '../../src/commands/channel-payments/channel-payment-commands.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { rulesFor } from '../../src/domain/risk/risk-rules.js';

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

  it('a rule may say what it judges (appliesTo): channel payments, payment codes, or both when it does not', () => {
    const text = JSON.stringify({
      ruleVersion: 'ops-8',
      timeZone: 'Asia/Shanghai',
      rules: [
        { ...velocity, id: 'both' },
        { ...velocity, id: 'codes', appliesTo: ['payment_code'] },
        { id: 'channel-ip', kind: 'new_ip', action: 'review', appliesTo: ['channel_payment'] },
      ],
    });
    const loaded = loadRiskRulesFile(file('subjects.json', text), 'Asia/Shanghai');
    expect(rulesFor(loaded, 'payment_code').rules.map((rule) => rule.id)).toEqual(['both', 'codes']);
    expect(rulesFor(loaded, 'channel_payment').rules.map((rule) => rule.id)).toEqual(['both', 'channel-ip']);
    expect(rulesFor(loaded, 'payment_code').ruleVersion).toBe('ops-8');
    const unknown = file('subject.json', rules('Asia/Shanghai', { ...velocity, appliesTo: ['card_binding'] }));
    expect(() => loadRiskRulesFile(unknown, 'Asia/Shanghai')).toThrow(/rules\.0\.appliesTo/);
    const none = file('none.json', rules('Asia/Shanghai', { ...velocity, appliesTo: [] }));
    expect(() => loadRiskRulesFile(none, 'Asia/Shanghai')).toThrow(/appliesTo/);
  });

  it("the default rules: code-burst judges codes only; the merchant's rules and the per-merchant burst, channel payments only", () => {
    const defaults = defaultRiskRules('Asia/Shanghai');
    const codes = rulesFor(defaults, 'payment_code').rules.map((rule) => rule.id);
    const channels = rulesFor(defaults, 'channel_payment').rules.map((rule) => rule.id);
    expect(codes).toContain('code-burst');
    expect(codes).toContain('payer-txn-block');
    expect(codes).not.toContain('merchant-burst');
    expect(codes).not.toContain('payer-burst');
    expect(channels).not.toContain('code-burst');
    expect(channels).toEqual(
      expect.arrayContaining(['payer-burst', 'merchant-burst', 'merchant-day', 'payer-txn-block']),
    );
  });
});

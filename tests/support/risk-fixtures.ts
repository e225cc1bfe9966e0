import { EMPTY_RISK_HISTORY, type PaymentAttempt, type RiskHistory } from '../../src/domain/risk/risk-history.js';
import { parseRiskRules, type RiskRules } from '../../src/domain/risk/risk-rules.js';
import { parseCurrency } from '../../src/domain/money/money.js';

export const CNY = parseCurrency('CNY');

/** A rule set in the form an operator writes it (JSON, amounts as minor-unit strings). */
export const sampleRiskRules: RiskRules = parseRiskRules({
  ruleVersion: 'risk-2026-12-01',
  timeZone: 'Asia/Shanghai',
  rules: [
    { id: 'blocked-payers', kind: 'block_list', list: 'payer', entries: ['payer-stolen'], action: 'block' },
    { id: 'blocked-ips', kind: 'block_list', list: 'ip', entries: ['203.0.113.66'], action: 'block' },
    { id: 'blocked-devices', kind: 'block_list', list: 'device', entries: ['dev-emulator'], action: 'block' },
    { id: 'blocked-merchants', kind: 'block_list', list: 'merchant', entries: ['mch-closed'], action: 'block' },
    {
      id: 'payer-txn-cap',
      kind: 'amount_per_transaction',
      party: 'payer',
      currency: 'CNY',
      maxMinor: '5000000',
      action: 'block',
    },
    {
      id: 'payer-txn-large',
      kind: 'amount_per_transaction',
      party: 'payer',
      currency: 'CNY',
      maxMinor: '500000',
      action: 'step_up',
    },
    {
      id: 'payer-day',
      kind: 'amount_per_day',
      party: 'payer',
      currency: 'CNY',
      maxMinor: '2000000',
      action: 'step_up',
    },
    {
      id: 'merchant-txn',
      kind: 'amount_per_transaction',
      party: 'merchant',
      currency: 'CNY',
      maxMinor: '10000000',
      action: 'review',
    },
    {
      id: 'merchant-day',
      kind: 'amount_per_day',
      party: 'merchant',
      currency: 'CNY',
      maxMinor: '100000000',
      action: 'review',
    },
    { id: 'payer-burst', kind: 'velocity', party: 'payer', maxCount: 3, windowMinutes: 10, action: 'step_up' },
    { id: 'merchant-burst', kind: 'velocity', party: 'merchant', maxCount: 100, windowMinutes: 1, action: 'review' },
    { id: 'new-device', kind: 'new_device', action: 'step_up' },
    { id: 'new-ip', kind: 'new_ip', action: 'review' },
  ],
});

export const sampleAttempt: PaymentAttempt = {
  amountMinor: 12_345n,
  currency: CNY,
  payerId: 'payer-1',
  merchantId: 'mch-1',
  ip: '198.51.100.7',
  deviceId: 'dev-phone-1',
  occurredAt: '2026-12-01T02:00:00.000Z',
};

/** A payer seen before on this device and IP, with a quiet day. */
export const knownPayerHistory: RiskHistory = {
  payer: { ...EMPTY_RISK_HISTORY.payer, knownDevices: ['dev-phone-1'], knownIps: ['198.51.100.7'] },
  merchant: EMPTY_RISK_HISTORY.merchant,
};

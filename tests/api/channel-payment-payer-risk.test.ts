import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';
import type { BoundCard } from '../../src/domain/channels/payer-instrument.js';
import { PAYER_PAYMENTS_COLLECTION, type PayerPaymentDocument } from '../../src/projections/payer-history.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';

/**
 * Risk sees the payer's own history (the payer-history read model): its payments of the day and the
 * devices and IPs it paid from. A payer is the merchant's customer: two merchants' "customer-1" are two
 * payers, and one payer's history never counts for another whose id shares a prefix.
 */
const RULES = {
  ruleVersion: 'test-payer-risk-1',
  timeZone: 'Asia/Shanghai',
  rules: [
    { id: 'payer-burst', kind: 'velocity', party: 'payer', maxCount: 2, windowMinutes: 10, action: 'block' },
    { id: 'payer-day', kind: 'amount_per_day', party: 'payer', currency: 'CNY', maxMinor: '10000', action: 'block' },
    { id: 'new-device', kind: 'new_device', action: 'review' },
    { id: 'new-ip', kind: 'new_ip', action: 'review' },
  ],
};

interface FiredRule {
  readonly ruleId: string;
}

describe('channel payments: risk judges the payer by its own history', () => {
  let ledger: TestLedger;
  let card: BoundCard;
  let orderSeq = 0;

  async function openShop(name: string): Promise<{ shop: Credentials; accountId: string }> {
    const shop = await createCaller(ledger.service, 'merchant', name);
    const opened = await ledger.inject(
      {
        method: 'POST',
        url: '/v1/accounts',
        payload: { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
        headers: { 'idempotency-key': randomUUID() },
      },
      ledger.operator,
    );
    return { shop, accountId: opened.json<{ accountId: string }>().accountId };
  }

  /** Pays and waits until the payer-history read model holds the payment's outcome (the next one sees it). */
  async function pay(
    at: { shop: Credentials; accountId: string },
    amount: string,
    payer: { payerId: string; deviceId: string; ip: string },
  ): Promise<{ statusCode: number; paymentId: string; code: string | undefined }> {
    const response = await ledger.inject(
      {
        method: 'POST',
        url: '/v1/channel-payments',
        payload: {
          payeeAccountId: at.accountId,
          amount,
          currency: 'CNY',
          merchantOrderNo: `PR-${process.pid}-${++orderSeq}`,
          description: 'payer risk',
          instrument: { method: 'quick_pay', card },
          payer,
        },
        headers: { 'idempotency-key': randomUUID() },
      },
      at.shop,
    );
    const body = response.json<{ paymentId?: string; code?: string; details?: { paymentId?: string } }>();
    const paymentId = body.paymentId ?? body.details?.paymentId;
    if (paymentId === undefined) throw new Error(`no payment id in ${response.body}`);
    const until = Date.now() + 5_000;
    for (;;) {
      const doc = await ledger.service.readModels.get(PAYER_PAYMENTS_COLLECTION, paymentId);
      if (doc && (doc.data as PayerPaymentDocument).status !== 'open') break;
      if (Date.now() > until) throw new Error(`payer history never settled ${paymentId}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { statusCode: response.statusCode, paymentId, code: body.code };
  }

  /** The rules that fired on the payment's recorded risk assessment. */
  async function firedRules(paymentId: string): Promise<string[]> {
    for await (const event of ledger.service.eventStore.readStream(`chanpay-${paymentId}`)) {
      if (event.type !== 'ChannelPaymentRiskAssessed') continue;
      const assessment = (event.data as unknown as { assessment: { fired: readonly FiredRule[] } }).assessment;
      return assessment.fired.map((rule) => rule.ruleId).sort();
    }
    throw new Error(`no risk assessment on ${paymentId}`);
  }

  beforeAll(async () => {
    // The rules as an operator gives them: a JSON file named by RISK_RULES_FILE.
    const rulesFile = join(mkdtempSync(join(tmpdir(), 'ledger-payer-risk-')), 'risk-rules.json');
    writeFileSync(rulesFile, JSON.stringify(RULES));
    ledger = await startTestLedger(undefined, {
      CHANNEL_POLL_INTERVAL_MS: '0',
      CHANNEL_EXPLORATION_PPM: '0',
      RISK_RULES_FILE: rulesFile,
    });
    card = await bindTestCard(ledger.service.channels);
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('a payer new to the merchant is new on its device and IP; the device is known once a payment succeeded', async () => {
    const shop = await openShop('Device shop');
    const payer = { payerId: 'dev-customer', deviceId: 'phone-a', ip: '198.51.100.20' };
    const first = await pay(shop, '10.00', payer);
    expect(first.statusCode).toBe(201);
    expect(await firedRules(first.paymentId)).toEqual(['new-device', 'new-ip']);
    const again = await pay(shop, '10.00', payer);
    expect(await firedRules(again.paymentId)).toEqual([]);
    const otherPhone = await pay(shop, '10.00', { ...payer, deviceId: 'phone-b', payerId: 'dev-customer-2' });
    expect(await firedRules(otherPhone.paymentId)).toEqual(['new-device', 'new-ip']);
  });

  it("velocity counts the payer's own payments: the third in ten minutes is blocked, another payer is not", async () => {
    const shop = await openShop('Burst shop');
    const payer = { payerId: 'burst-customer', deviceId: 'phone-c', ip: '198.51.100.21' };
    expect((await pay(shop, '1.00', payer)).statusCode).toBe(201);
    expect((await pay(shop, '1.00', payer)).statusCode).toBe(201);
    const third = await pay(shop, '1.00', payer);
    expect(third.statusCode).toBe(422);
    expect(third.code).toBe('risk_blocked');
    expect(await firedRules(third.paymentId)).toContain('payer-burst');
    // A payer whose id extends this one's is another payer: none of the three counts for it.
    const other = await pay(shop, '1.00', { ...payer, payerId: 'burst-customer|x' });
    expect(other.statusCode).toBe(201);
    expect(await firedRules(other.paymentId)).not.toContain('payer-burst');
  });

  it("a day's total is the payer's at this merchant: the same customer id at another merchant starts at zero", async () => {
    const shop = await openShop('Day shop');
    const elsewhere = await openShop('Other day shop');
    const payer = { payerId: 'day-customer', deviceId: 'phone-d', ip: '198.51.100.22' };
    expect((await pay(shop, '60.00', payer)).statusCode).toBe(201);
    const over = await pay(shop, '50.00', payer);
    expect(over.code).toBe('risk_blocked');
    expect(await firedRules(over.paymentId)).toContain('payer-day');
    // A blocked payment moved nothing: it does not count, so a smaller one still fits the day.
    expect((await pay(shop, '30.00', payer)).statusCode).toBe(201);
    expect((await pay(elsewhere, '60.00', payer)).statusCode).toBe(201);
  });
});

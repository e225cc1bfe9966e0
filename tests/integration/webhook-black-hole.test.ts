import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestLedger } from '../support/test-ledger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { payingMerchant, registerEndpoint, WEBHOOK_TEST_ENV } from '../support/webhook-fixture.js';

const PAYMENTS = 30;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A slow or dead merchant endpoint never slows commands: the dispatcher works off the request path. */
describe('a black-hole webhook endpoint', () => {
  it("leaves payments' latency as it was without it", async () => {
    const hole = await WebhookReceiver.start();
    hole.answer = () => 'hang';
    const ledger = await startTestLedger(undefined, { ...WEBHOOK_TEST_ENV, WEBHOOK_TIMEOUT_MS: '5000' });
    try {
      const shop = await payingMerchant(ledger);
      const timedPayments = async () => {
        const latencies: number[] = [];
        for (let i = 0; i < PAYMENTS; i += 1) {
          const started = performance.now();
          await shop.pay(`BH-${randomUUID()}`, '0.01');
          latencies.push(performance.now() - started);
        }
        return latencies;
      };
      await timedPayments(); // warm-up
      const baseline = median(await timedPayments());
      await registerEndpoint(ledger, shop.merchant, { url: hole.url });
      const withHole = await timedPayments();
      // The endpoint was being tried all along, its requests hanging: the dispatcher was busy.
      expect(hole.received.length).toBeGreaterThan(0);
      expect(ledger.service.webhooks.dispatcher!.deliveriesInFlight).toBeGreaterThan(0);
      expect(hole.inFlight).toBeLessThanOrEqual(ledger.service.config.webhooks.endpointConcurrency);
      // Generous for a shared 2-core machine; a request path that waited on the endpoint would be ~5 s.
      expect(median(withHole)).toBeLessThan(baseline * 3 + 15);
    } finally {
      await ledger.close();
      await hole.close();
    }
  }, 60_000);
});

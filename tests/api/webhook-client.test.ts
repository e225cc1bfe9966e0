import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerClient, ProblemError } from '../../src/client/index.js';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { payingMerchant, WEBHOOK_TEST_ENV, type PayingMerchant } from '../support/webhook-fixture.js';

/** The typed client's webhook methods against a listening server, with a real receiver. */
describe('LedgerClient: webhooks', () => {
  let ledger: TestLedger;
  let receiver: WebhookReceiver;
  let shop: PayingMerchant;
  let client: LedgerClient;

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, WEBHOOK_TEST_ENV);
    receiver = await WebhookReceiver.start();
    shop = await payingMerchant(ledger);
    const baseUrl = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
    client = new LedgerClient({ baseUrl, keyId: shop.merchant.keyId, privateKeyPem: shop.merchant.privateKeyPem });
  });
  afterAll(async () => {
    await ledger.close();
    await receiver.close();
  });

  it('registers, lists, changes, rotates, reads the log, redelivers, disables, enables and deletes', async () => {
    const endpoint = await client.registerWebhookEndpoint({ url: receiver.url, eventTypes: ['payment.succeeded'] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const listed = await client.listWebhookEndpoints({ minPosition: endpoint.position });
    expect(listed.items.map((e) => e.endpointId)).toEqual([endpoint.endpointId]);
    expect((await client.updateWebhookEndpoint(endpoint.endpointId, { description: 'orders' })).description).toBe(
      'orders',
    );
    const rotated = await client.rotateWebhookSecret(endpoint.endpointId);
    expect(rotated.secretVersion).toBe(2);

    const paid = await shop.pay('CLIENT-1', '9.99');
    await receiver.waitFor((all) => all.length === 1);
    expect(WebhookReceiver.verify(receiver.received[0]!, rotated.secret)).toMatchObject({
      data: { paymentId: paid.paymentId },
    });
    await expect
      .poll(async () => (await client.listWebhookMessages(endpoint.endpointId)).items.map((m) => m.state))
      .toEqual(['delivered']);
    const [message] = (await client.listWebhookMessages(endpoint.endpointId)).items;
    const deliveries = await client.listWebhookDeliveries(endpoint.endpointId, { messageId: message!.messageId });
    expect(deliveries.items.map((d) => d.statusCode)).toEqual([200]);
    expect((await client.redeliverWebhookMessage(endpoint.endpointId, message!.messageId)).state).toBe('pending');
    await receiver.waitFor((all) => all.length === 2);

    expect((await client.disableWebhookEndpoint(endpoint.endpointId)).status).toBe('disabled');
    expect((await client.enableWebhookEndpoint(endpoint.endpointId)).status).toBe('enabled');
    expect((await client.getWebhookEndpoint(endpoint.endpointId)).secretVersion).toBe(2);
    await client.deleteWebhookEndpoint(endpoint.endpointId);
    const gone = await client.getWebhookEndpoint(endpoint.endpointId).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(ProblemError);
    expect((gone as ProblemError).code).toBe('webhook_endpoint_not_found');
  });
});

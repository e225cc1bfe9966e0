import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_BANK } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import type { BoundCard } from '../../src/domain/channels/payer-instrument.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver.js';
import { registerEndpoint, WEBHOOK_TEST_ENV } from '../support/webhook-fixture.js';

/**
 * A channel payment's state changes reach the merchant's endpoint like every order's: signed, one message
 * per change, carrying the order's identity and what the merchant acts on, never the card's contract
 * numbers, the payer's details or the step-up code's HMAC.
 */
describe('channel payment webhooks', () => {
  let ledger: TestLedger;
  let receiver: WebhookReceiver;
  let shop: Credentials;
  let shopAccount: string;
  let card: BoundCard;

  const post = (url: string, payload: object, as: Credentials = shop) =>
    ledger.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': randomUUID() } }, as);
  const bodyOf = (r: ReceivedWebhook) =>
    JSON.parse(r.body) as { type: string; data: Record<string, unknown> & { paymentId?: string } };

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, { ...WEBHOOK_TEST_ENV, CHANNEL_EXPLORATION_PPM: '0' });
    receiver = await WebhookReceiver.start();
    shop = await createCaller(ledger.service, 'merchant', 'Webhook channel shop');
    shopAccount = (
      await post(
        '/v1/accounts',
        { ownerId: shop.entityId, type: 'merchant_settlement', currency: 'CNY' },
        ledger.operator,
      )
    ).json<{ accountId: string }>().accountId;
    card = await bindTestCard(ledger.service.channels);
  });
  afterAll(async () => {
    await ledger.close();
    await receiver.close();
  });

  it('tells the merchant a quick-pay payment was created and succeeded, with the channel and its fee', async () => {
    const endpoint = await registerEndpoint(ledger, shop, {
      url: receiver.url,
      eventTypes: ['channel_payment.created', 'channel_payment.succeeded', 'channel_payment.failed'],
    });
    const merchantOrderNo = `CPW-${randomUUID()}`;
    const paid = await post('/v1/channel-payments', {
      payeeAccountId: shopAccount,
      amount: '88.00',
      currency: 'CNY',
      merchantOrderNo,
      description: 'webhook order',
      instrument: { method: 'quick_pay', card },
      payer: { ip: '198.51.100.9', deviceId: 'dev-webhook', payerId: 'customer-webhook' },
    });
    expect(paid.statusCode, paid.body).toBe(201);
    const { paymentId } = paid.json<{ paymentId: string }>();
    const mine = (r: ReceivedWebhook) => bodyOf(r).data.paymentId === paymentId;
    await receiver.waitFor((all) => all.filter(mine).length === 2);

    const messages = receiver.received.filter(mine);
    for (const message of messages) WebhookReceiver.verify(message, endpoint.secret);
    // Deliveries run concurrently: the two messages may arrive in either order (each carries its type).
    const ofType = (type: string) => messages.map(bodyOf).find((body) => body.type === type);
    const common = { paymentId, merchantOrderNo, amount: '88.00', currency: 'CNY', method: 'quick_pay' };
    expect(ofType('channel_payment.created')?.data).toEqual({ ...common, status: 'processing' });
    expect(ofType('channel_payment.succeeded')?.data).toMatchObject({
      ...common,
      status: 'succeeded',
      channel: SIMULATED_BANK,
      channelFee: '0.18',
    });
    for (const message of messages) {
      for (const contract of card.contracts) expect(message.body).not.toContain(contract.contractNo);
      expect(message.body).not.toContain('198.51.100.9');
      expect(message.body).not.toContain('customer-webhook');
    }
  });

  it("tells the merchant of a refund and a cancellation, without the card's contracts or the payer's details", async () => {
    const endpoint = await registerEndpoint(ledger, shop, {
      url: receiver.url,
      eventTypes: [
        'channel_payment.refund.created',
        'channel_payment.refund.succeeded',
        'channel_payment.refund.failed',
        'channel_payment.cancelled',
      ],
    });
    const payNow = async (amount: string) => {
      const paid = await post('/v1/channel-payments', {
        payeeAccountId: shopAccount,
        amount,
        currency: 'CNY',
        merchantOrderNo: `CPR-${randomUUID()}`,
        instrument: { method: 'quick_pay', card },
        payer: { ip: '198.51.100.10', deviceId: 'dev-refund', payerId: 'customer-refund' },
      });
      expect(paid.statusCode, paid.body).toBe(201);
      return paid.json<{ paymentId: string }>().paymentId;
    };
    const refunded = await payNow('50.00');
    const refund = await post(`/v1/channel-payments/${refunded}/refunds`, {
      refundNo: 'RF-W1',
      amount: '20.00',
      currency: 'CNY',
    });
    expect(refund.statusCode, refund.body).toBe(201);
    const cancelled = await payNow('30.00');
    expect((await post(`/v1/channel-payments/${cancelled}/cancel`, {})).statusCode).toBe(200);
    const wanted: [string, string][] = [
      [refunded, 'channel_payment.refund.created'],
      [refunded, 'channel_payment.refund.succeeded'],
      [cancelled, 'channel_payment.refund.created'],
      [cancelled, 'channel_payment.refund.succeeded'],
      [cancelled, 'channel_payment.cancelled'],
    ];
    const isWanted = (r: ReceivedWebhook) =>
      wanted.some(([paymentId, type]) => bodyOf(r).data.paymentId === paymentId && bodyOf(r).type === type);
    await receiver.waitFor((all) => all.filter(isWanted).length >= wanted.length);
    const messages = receiver.received.filter(isWanted);
    for (const message of messages) WebhookReceiver.verify(message, endpoint.secret);
    const of = (paymentId: string, type: string) =>
      messages.map(bodyOf).find((body) => body.type === type && body.data.paymentId === paymentId);
    expect(of(refunded, 'channel_payment.refund.created')?.data).toMatchObject({
      status: 'processing',
      kind: 'refund',
      refundNo: 'RF-W1',
      refundAmount: '20.00',
    });
    expect(of(refunded, 'channel_payment.refund.succeeded')?.data).toMatchObject({
      status: 'succeeded',
      kind: 'refund',
    });
    expect(of(cancelled, 'channel_payment.cancelled')?.data).toMatchObject({ status: 'cancelled', amount: '30.00' });
    for (const message of messages) {
      for (const contract of card.contracts) expect(message.body).not.toContain(contract.contractNo);
      expect(message.body).not.toContain('198.51.100.10');
      expect(message.body).not.toContain('customer-refund');
      expect(message.body).not.toContain('dev-refund');
    }
  });
});

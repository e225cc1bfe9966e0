import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebhookVerificationError } from 'standardwebhooks';
import { retryDelayBounds } from '../../src/domain/webhooks/retry-schedule.js';
import { retryScheduleOf } from '../../src/adapters/webhooks/webhook-notifications.js';
import { startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver.js';
import { payingMerchant, registerEndpoint, WEBHOOK_TEST_ENV, type PayingMerchant } from '../support/webhook-fixture.js';

/**
 * Merchant webhooks end to end: endpoints over the API, a real receiver on a loopback port verifying
 * every request with the Standard Webhooks package, on the short retry schedule of WEBHOOK_TEST_ENV.
 */
describe('webhooks over HTTP, to a real receiver', () => {
  let ledger: TestLedger;
  let receiver: WebhookReceiver;
  let shop: PayingMerchant;
  let rival: Credentials;

  const get = (url: string, as?: Credentials) => ledger.inject({ method: 'GET', url }, as);
  const post = (url: string, as: Credentials, payload?: object) =>
    ledger.inject(
      { method: 'POST', url, headers: { 'idempotency-key': randomUUID() }, ...(payload ? { payload } : {}) },
      as,
    );
  const ofPayment = (paymentId: string) => (r: ReceivedWebhook) =>
    (JSON.parse(r.body) as { data: { paymentId?: string } }).data.paymentId === paymentId;

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, {
      ...WEBHOOK_TEST_ENV,
      WEBHOOK_SECRET_OVERLAP_SECONDS: '2',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
    });
    shop = await payingMerchant(ledger);
    rival = (await payingMerchant(ledger, 'Rival')).merchant;
  });
  afterAll(async () => {
    await ledger.close();
  });

  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterEach(async () => {
    // Endpoints of one test do not receive the next test's messages.
    const page = (await get('/v1/webhook-endpoints?limit=200', shop.merchant)).json<{
      items: { endpointId: string }[];
    }>();
    for (const { endpointId } of page.items) await post(`/v1/webhook-endpoints/${endpointId}/delete`, shop.merchant);
    await receiver.close();
  });

  it('registers an endpoint whose secret is shown once and recorded nowhere, and signs every message with it', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, { url: receiver.url, description: 'orders' });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({ url: receiver.url, eventTypes: null, status: 'enabled', secretVersion: 1 });

    const paid = await shop.pay(`WH-${randomUUID()}`, '12.50');
    await receiver.waitFor((all) => all.filter(ofPayment(paid.paymentId)).length === 2);
    const mine = receiver.received.filter(ofPayment(paid.paymentId));
    const payloads = mine.map((r) => WebhookReceiver.verify(r, endpoint.secret) as { type: string; data: object });
    expect(payloads.map((p) => p.type).sort()).toEqual(['payment.created', 'payment.succeeded']);
    expect(payloads.find((p) => p.type === 'payment.succeeded')!.data).toMatchObject({
      paymentId: paid.paymentId,
      amount: '12.50',
      currency: 'CNY',
      status: 'succeeded',
    });
    // Another secret does not verify it.
    expect(() => WebhookReceiver.verify(mine[0]!, `whsec_${Buffer.alloc(32, 7).toString('base64')}`)).toThrow(
      WebhookVerificationError,
    );
    for (const r of mine) expect(r.headers['webhook-id']).toMatch(/^msg_/);

    // The secret is in no event, no read model, no GET answer.
    const everything: string[] = [];
    for (let after: bigint | 'start' = 'start'; ;) {
      const page = await ledger.service.eventStore.readAll({ after, maxCount: 1_000 });
      if (page.length === 0) break;
      everything.push(...page.map((e) => JSON.stringify(e.data)));
      after = page.at(-1)!.position;
    }
    const secretBody = endpoint.secret.slice('whsec_'.length);
    expect(everything.some((text) => text.includes(secretBody))).toBe(false);
    const shown = await get(`/v1/webhook-endpoints/${endpoint.endpointId}`, shop.merchant);
    expect(shown.statusCode).toBe(200);
    expect(shown.body).not.toContain(secretBody);
    const listed = await get(`/v1/webhook-endpoints?minPosition=${endpoint.position}`, shop.merchant);
    expect(listed.json().items.map((i: { endpointId: string }) => i.endpointId)).toEqual([endpoint.endpointId]);
    expect(listed.body).not.toContain(secretBody);

    // The messages and their attempts, in the delivery log.
    const messages = await get(`/v1/webhook-endpoints/${endpoint.endpointId}/messages`, shop.merchant);
    expect(messages.json().items.map((m: { state: string }) => m.state)).toEqual(['delivered', 'delivered']);
    const deliveries = await get(`/v1/webhook-endpoints/${endpoint.endpointId}/deliveries`, shop.merchant);
    expect(deliveries.json().items).toHaveLength(2);
    expect(deliveries.json().items[0]).toMatchObject({ statusCode: 200, outcome: 'delivered', nextAttemptAt: null });
  });

  it('keeps endpoints to their merchant: another merchant gets 404, an operator sees them all', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, {
      url: receiver.url,
      eventTypes: ['payment.failed'],
    });
    for (const url of [
      `/v1/webhook-endpoints/${endpoint.endpointId}`,
      `/v1/webhook-endpoints/${endpoint.endpointId}/messages`,
      `/v1/webhook-endpoints/${endpoint.endpointId}/deliveries`,
    ]) {
      const response = await get(url, rival);
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('webhook_endpoint_not_found');
    }
    expect((await post(`/v1/webhook-endpoints/${endpoint.endpointId}/disable`, rival)).statusCode).toBe(404);
    expect((await get(`/v1/webhook-endpoints/${endpoint.endpointId}`)).statusCode).toBe(200);
    const all = await get(
      `/v1/webhook-endpoints?merchantId=${shop.merchant.entityId}&minPosition=${endpoint.position}`,
    );
    expect(all.json().items.map((i: { endpointId: string }) => i.endpointId)).toContain(endpoint.endpointId);
    expect((await get('/v1/webhook-endpoints', rival)).json().items).toEqual([]);
    // Operators read; they do not make endpoints.
    const byOperator = await ledger.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      payload: { url: receiver.url },
    });
    expect([byOperator.statusCode, byOperator.json().code]).toEqual([403, 'forbidden']);
  });

  it('sends only the event types an endpoint asked for, and a retry of the registration finds the same endpoint', async () => {
    const key = randomUUID();
    const register = (body: object) =>
      ledger.inject(
        { method: 'POST', url: '/v1/webhook-endpoints', payload: body, headers: { 'idempotency-key': key } },
        shop.merchant,
      );
    const first = await register({ url: receiver.url, eventTypes: ['payment.succeeded'] });
    const again = await register({ url: receiver.url, eventTypes: ['payment.succeeded'] });
    expect(again.json()).toEqual(first.json());
    const other = await register({ url: receiver.url });
    expect([other.statusCode, other.json().code]).toEqual([422, 'idempotency_key_reused']);

    const paid = await shop.pay(`WH-${randomUUID()}`, '1.00');
    await receiver.waitFor((all) => all.some(ofPayment(paid.paymentId)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.filter(ofPayment(paid.paymentId)).map((r) => JSON.parse(r.body).type)).toEqual([
      'payment.succeeded',
    ]);
  });

  it('retries a failing endpoint with growing intervals, and logs every attempt', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, {
      url: receiver.url,
      eventTypes: ['payment.succeeded'],
    });
    receiver.answer = (_r, index) => (index < 3 ? { status: 500 } : { status: 204 });
    const paid = await shop.pay(`WH-${randomUUID()}`, '2.00');
    await receiver.waitFor((all) => all.length === 4, 15_000);
    const times = receiver.received.map((r) => r.atMs);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const schedule = retryScheduleOf(ledger.service.config.webhooks);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(retryDelayBounds(schedule, i + 1).minMs - 5));
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
    // Re-signed every attempt: each carries the time it was sent (seconds), and verifies.
    for (const r of receiver.received)
      expect(Math.abs(Number(r.headers['webhook-timestamp']) * 1_000 - r.atMs)).toBeLessThan(1_500);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    for (const r of receiver.received) WebhookReceiver.verify(r, endpoint.secret);
    await waitForState(endpoint.endpointId, 'delivered');
    const log = (await get(`/v1/webhook-endpoints/${endpoint.endpointId}/deliveries?order=asc`, shop.merchant)).json();
    expect(log.items.map((a: { statusCode: number; outcome: string }) => [a.statusCode, a.outcome])).toEqual([
      [500, 'retry'],
      [500, 'retry'],
      [500, 'retry'],
      [204, 'delivered'],
    ]);
    expect(log.items[0].nextAttemptAt).not.toBeNull();
    expect(paid.paymentId).toBeDefined();
  });

  it('gives up after the last attempt of the schedule, and a manual redelivery sends the message again', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, {
      url: receiver.url,
      eventTypes: ['payment.succeeded'],
    });
    receiver.answer = () => ({ status: 503 });
    await shop.pay(`WH-${randomUUID()}`, '3.00');
    const failed = await waitForState(endpoint.endpointId, 'failed', 15_000);
    expect(receiver.received).toHaveLength(ledger.service.config.webhooks.maxAttempts);
    expect(failed).toMatchObject({ attempts: 4, lastStatusCode: 503, nextAttemptAt: null });

    receiver.answer = () => ({ status: 200 });
    const redelivered = await post(
      `/v1/webhook-endpoints/${endpoint.endpointId}/messages/${failed.messageId}/redeliveries`,
      shop.merchant,
    );
    expect(redelivered.statusCode).toBe(202);
    expect(redelivered.json()).toMatchObject({ state: 'pending', attempts: 0 });
    await waitForState(endpoint.endpointId, 'delivered');
    expect(receiver.received.at(-1)!.id).toBe(failed.messageId);
    const unknown = await post(
      `/v1/webhook-endpoints/${endpoint.endpointId}/messages/msg_${randomUUID()}/redeliveries`,
      shop.merchant,
    );
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'webhook_message_not_found']);
  });

  it('disables an endpoint that answers 410 Gone, and makes no more messages for it', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, {
      url: receiver.url,
      eventTypes: ['payment.succeeded'],
    });
    receiver.answer = () => ({ status: 410 });
    await shop.pay(`WH-${randomUUID()}`, '4.00');
    await waitForState(endpoint.endpointId, 'failed');
    await expect
      .poll(async () => (await get(`/v1/webhook-endpoints/${endpoint.endpointId}`, shop.merchant)).json())
      .toMatchObject({
        status: 'disabled',
        disabledReason: 'gone',
      });
    await shop.pay(`WH-${randomUUID()}`, '4.01');
    await ledger.service.webhooks.catchUp();
    const messages = (await get(`/v1/webhook-endpoints/${endpoint.endpointId}/messages`, shop.merchant)).json();
    expect(messages.items).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    expect(
      (await get(`/v1/webhook-endpoints/${endpoint.endpointId}/deliveries`, shop.merchant)).json().items[0],
    ).toMatchObject({
      statusCode: 410,
      outcome: 'gone',
    });
  });

  it("honours Retry-After (beyond the schedule's own delay)", async () => {
    await registerEndpoint(ledger, shop.merchant, { url: receiver.url, eventTypes: ['payment.succeeded'] });
    receiver.answer = (_r, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    await shop.pay(`WH-${randomUUID()}`, '5.00');
    await receiver.waitFor((all) => all.length === 2);
    // The schedule alone would have retried after 100 ms.
    expect(receiver.received[1]!.atMs - receiver.received[0]!.atMs).toBeGreaterThanOrEqual(990);
  });

  it('signs with both secrets during a rotation overlap, then with the new one only', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, {
      url: receiver.url,
      eventTypes: ['payment.succeeded'],
    });
    const rotated = await post(`/v1/webhook-endpoints/${endpoint.endpointId}/secret/rotate`, shop.merchant);
    expect(rotated.statusCode).toBe(200);
    const { secret: newSecret, secretVersion, previousSecretValidUntil } = rotated.json();
    expect([secretVersion, newSecret === endpoint.secret]).toEqual([2, false]);
    expect(previousSecretValidUntil).not.toBeNull();

    await shop.pay(`WH-${randomUUID()}`, '6.00');
    await receiver.waitFor((all) => all.length === 1);
    const during = receiver.received[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    WebhookReceiver.verify(during, newSecret);
    WebhookReceiver.verify(during, endpoint.secret);

    // The overlap is 2 s (WEBHOOK_SECRET_OVERLAP_SECONDS) from the rotation command's time.
    await new Promise((resolve) => setTimeout(resolve, Date.parse(previousSecretValidUntil) - Date.now() + 50));
    await shop.pay(`WH-${randomUUID()}`, '6.01');
    await receiver.waitFor((all) => all.length === 2);
    const after = receiver.received[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    WebhookReceiver.verify(after, newSecret);
    expect(() => WebhookReceiver.verify(after, endpoint.secret)).toThrow(WebhookVerificationError);
  });

  it('sends at most WEBHOOK_ENDPOINT_CONCURRENCY requests to one endpoint at once', async () => {
    await registerEndpoint(ledger, shop.merchant, { url: receiver.url, eventTypes: ['payment.succeeded'] });
    receiver.answer = () => ({ status: 200, delayMs: 300 });
    // All at once: eight messages due together, for an endpoint that takes 300 ms an answer.
    await Promise.all(Array.from({ length: 8 }, () => shop.pay(`WH-${randomUUID()}`, '0.10')));
    await receiver.waitFor((all) => all.length === 8 && receiver.inFlight === 0, 15_000);
    expect(receiver.maxInFlight).toBe(2);
  });

  it('changes, disables, enables and deletes an endpoint; a disabled endpoint gets nothing', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, {
      url: receiver.url,
      eventTypes: ['payment.succeeded'],
    });
    const changed = await ledger.inject(
      {
        method: 'PUT',
        url: `/v1/webhook-endpoints/${endpoint.endpointId}`,
        payload: { description: 'renamed', eventTypes: null },
      },
      shop.merchant,
    );
    expect(changed.json()).toMatchObject({ description: 'renamed', eventTypes: null });
    expect((await post(`/v1/webhook-endpoints/${endpoint.endpointId}/disable`, shop.merchant)).json()).toMatchObject({
      status: 'disabled',
      disabledReason: 'merchant',
    });
    await shop.pay(`WH-${randomUUID()}`, '7.00');
    await ledger.service.webhooks.catchUp();
    expect((await post(`/v1/webhook-endpoints/${endpoint.endpointId}/enable`, shop.merchant)).json().status).toBe(
      'enabled',
    );
    const paid = await shop.pay(`WH-${randomUUID()}`, '7.01');
    await receiver.waitFor((all) => all.some(ofPayment(paid.paymentId)));
    expect(receiver.received.every(ofPayment(paid.paymentId))).toBe(true);
    expect((await post(`/v1/webhook-endpoints/${endpoint.endpointId}/delete`, shop.merchant)).statusCode).toBe(200);
    expect((await get(`/v1/webhook-endpoints/${endpoint.endpointId}`, shop.merchant)).statusCode).toBe(404);
  });

  it('pages the delivery log with cursors bound to the query', async () => {
    const endpoint = await registerEndpoint(ledger, shop.merchant, {
      url: receiver.url,
      eventTypes: ['payment.succeeded'],
    });
    for (let i = 0; i < 3; i += 1) await shop.pay(`WH-${randomUUID()}`, '0.20');
    await receiver.waitFor((all) => all.length === 3);
    await waitForState(endpoint.endpointId, 'delivered');
    const base = `/v1/webhook-endpoints/${endpoint.endpointId}/deliveries`;
    const first = (await get(`${base}?limit=2`, shop.merchant)).json();
    expect(first.items).toHaveLength(2);
    const second = (await get(`${base}?limit=2&cursor=${first.nextCursor}`, shop.merchant)).json();
    expect([second.items.length, second.nextCursor]).toEqual([1, null]);
    const ids = [...first.items, ...second.items].map((a: { attemptId: string }) => a.attemptId);
    expect(new Set(ids).size).toBe(3);
    const mismatch = await get(`${base}?limit=2&order=asc&cursor=${first.nextCursor}`, shop.merchant);
    expect([mismatch.statusCode, mismatch.json().code]).toEqual([400, 'cursor_mismatch']);
  });

  /** Waits until every message of the endpoint is in `state`; the newest message. */
  async function waitForState(endpointId: string, state: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const items = (await get(`/v1/webhook-endpoints/${endpointId}/messages`, shop.merchant)).json().items as {
        state: string;
        messageId: string;
      }[];
      if (items.length > 0 && items.every((m) => m.state === state))
        return items[0] as never as Record<string, unknown> & { messageId: string };
      if (Date.now() > deadline) throw new Error(`messages not ${state}: ${JSON.stringify(items)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
});

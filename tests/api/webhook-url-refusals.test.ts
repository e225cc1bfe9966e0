import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedAddress, UrlGuard } from '../../src/adapters/webhooks/url-guard.js';
import { WebhookSender } from '../../src/adapters/webhooks/webhook-sender.js';
import { createCaller, startTestLedger, type Credentials, type TestLedger } from '../support/test-ledger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/** SSRF: webhook URLs that would reach the platform's own network are refused, at registration and at delivery. */
describe('webhook URLs the service refuses', () => {
  let ledger: TestLedger;
  let merchant: Credentials;

  beforeAll(async () => {
    // The defaults: https only, public addresses only.
    ledger = await startTestLedger(undefined, { WEBHOOK_POLL_INTERVAL_MS: '0' });
    merchant = await createCaller(ledger.service, 'merchant', 'Shop');
  });
  afterAll(async () => {
    await ledger.close();
  });

  const register = (url: string) =>
    ledger.inject(
      { method: 'POST', url: '/v1/webhook-endpoints', payload: { url }, headers: { 'idempotency-key': randomUUID() } },
      merchant,
    );

  it.each([
    'https://127.0.0.1/hooks',
    'https://localhost/hooks',
    'https://10.1.2.3/hooks',
    'https://172.16.0.1/hooks',
    'https://192.168.1.1/hooks',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/hooks',
    'https://0.0.0.0/hooks',
    'https://224.0.0.1/hooks',
    'https://[::1]/hooks',
    'https://[fe80::1]/hooks',
    'https://[fd00::1]/hooks',
    'https://[::ffff:127.0.0.1]/hooks',
    'https://[::]/hooks',
  ])('refuses %s as webhook_url_not_allowed', async (url) => {
    const response = await register(url);
    expect([response.statusCode, response.json().code], response.body).toEqual([422, 'webhook_url_not_allowed']);
  });

  it.each([
    'http://merchant.example/hooks',
    'ftp://merchant.example/hooks',
    'https://user:pass@merchant.example/hooks',
    'https://merchant.example/hooks#fragment',
    'not a url',
  ])('refuses %s as invalid_webhook_url', async (url) => {
    const response = await register(url);
    expect([response.statusCode, response.json().code], response.body).toEqual([400, 'invalid_webhook_url']);
  });

  it('judges every address ipaddr.js knows, IPv4-mapped IPv6 by the IPv4 it carries', () => {
    expect(refusedAddress('93.184.216.34')).toBeUndefined();
    expect(refusedAddress('2606:2800:220:1:248:1893:25c8:1946')).toBeUndefined();
    expect(refusedAddress('::ffff:10.0.0.1')).toBe('a private address');
    expect(refusedAddress('fd00:ec2::254')).toBe('a cloud metadata address');
    expect(refusedAddress('255.255.255.255')).toBe('a broadcast address');
  });

  it('refuses at delivery too: a URL that now resolves to a private address is not connected to', async () => {
    const receiver = await WebhookReceiver.start();
    try {
      const strict = new WebhookSender(new UrlGuard({ allowPrivate: false, allowedHosts: [] }), 1_000);
      const refused = await strict.send(receiver.url, {}, '{}', Date.now());
      expect(refused).toMatchObject({ kind: 'no_answer', error: expect.stringContaining('loopback') });
      expect(receiver.received).toHaveLength(0);
      // An allow-listed host is reached whatever it resolves to.
      const listed = new WebhookSender(new UrlGuard({ allowPrivate: false, allowedHosts: ['127.0.0.1'] }), 1_000);
      expect(await listed.send(receiver.url, {}, '{}', Date.now())).toMatchObject({
        kind: 'answered',
        statusCode: 200,
      });
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('times out an endpoint that never answers, as no answer', async () => {
    const receiver = await WebhookReceiver.start();
    receiver.answer = () => 'hang';
    try {
      const sender = new WebhookSender(new UrlGuard({ allowPrivate: true, allowedHosts: [] }), 200);
      const started = Date.now();
      const result = await sender.send(receiver.url, {}, '{}', started);
      expect(result).toMatchObject({ kind: 'no_answer', error: expect.stringContaining('200 ms') });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await receiver.close();
    }
  });
});

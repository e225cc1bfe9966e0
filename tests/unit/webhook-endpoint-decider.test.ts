import { describe, expect, it } from 'vitest';
import { webhookEndpointDecider } from '../../src/domain/webhooks/webhook-endpoint-decider.js';
import { signingVersionsAt, type WebhookEndpoint } from '../../src/domain/webhooks/webhook-endpoint-state.js';
import type { WebhookEndpointEvent } from '../../src/domain/webhooks/webhook-events.js';
import { checkWebhookUrl } from '../../src/domain/webhooks/webhook-url.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(webhookEndpointDecider);
const endpointId = '5b0b6f0e-6c49-4d1b-9f39-7f3a0f0c2a11';
const registered: WebhookEndpointEvent = {
  type: 'WebhookEndpointRegistered',
  data: {
    endpointId,
    merchantId: 'm-1',
    url: 'https://merchant.example/hooks',
    eventTypes: ['payment.succeeded'],
    description: 'orders',
    secretVersion: 1,
  },
};
const disabled: WebhookEndpointEvent = { type: 'WebhookEndpointDisabled', data: { endpointId, reason: 'merchant' } };
const deleted: WebhookEndpointEvent = { type: 'WebhookEndpointDeleted', data: { endpointId } };

describe('webhook endpoint decider', () => {
  it('registers an endpoint once, at secret version 1', () => {
    spec
      .given([])
      .when({
        type: 'RegisterWebhookEndpoint',
        endpointId,
        merchantId: 'm-1',
        url: 'https://merchant.example/hooks',
        eventTypes: ['payment.succeeded'],
        description: 'orders',
      })
      .then([registered]);
    spec
      .given([registered])
      .when({
        type: 'RegisterWebhookEndpoint',
        endpointId,
        merchantId: 'm-1',
        url: 'https://x.example/',
        eventTypes: null,
        description: '',
      })
      .thenRefuses('webhook_endpoint_exists');
  });

  it('records a change only when something changes', () => {
    spec
      .given([registered])
      .when({ type: 'UpdateWebhookEndpoint', endpointId, eventTypes: null })
      .then([
        {
          type: 'WebhookEndpointUpdated',
          data: { endpointId, url: 'https://merchant.example/hooks', eventTypes: null, description: 'orders' },
        },
      ]);
    spec.given([registered]).when({ type: 'UpdateWebhookEndpoint', endpointId, description: 'orders' }).then([]);
  });

  it('disables and enables, each once', () => {
    spec.given([registered]).when({ type: 'DisableWebhookEndpoint', endpointId, reason: 'merchant' }).then([disabled]);
    spec.given([registered, disabled]).when({ type: 'DisableWebhookEndpoint', endpointId, reason: 'gone' }).then([]);
    spec
      .given([registered, disabled])
      .when({ type: 'EnableWebhookEndpoint', endpointId })
      .then([{ type: 'WebhookEndpointEnabled', data: { endpointId } }]);
    spec.given([registered]).when({ type: 'EnableWebhookEndpoint', endpointId }).then([]);
  });

  it('knows no endpoint that was never registered or was deleted', () => {
    spec.given([]).when({ type: 'EnableWebhookEndpoint', endpointId }).thenRefuses('webhook_endpoint_not_found');
    spec.given([registered]).when({ type: 'DeleteWebhookEndpoint', endpointId }).then([deleted]);
    for (const command of [
      { type: 'DeleteWebhookEndpoint', endpointId },
      { type: 'UpdateWebhookEndpoint', endpointId, description: 'x' },
      { type: 'RotateWebhookSecret', endpointId, at: '2026-12-01T10:00:00.000Z', overlapSeconds: 60 },
    ] as const)
      spec.given([registered, deleted]).when(command).thenRefuses('webhook_endpoint_not_found');
  });

  it("rotates the secret with an overlap judged from the command's time", () => {
    const rotated: WebhookEndpointEvent = {
      type: 'WebhookSecretRotated',
      data: { endpointId, secretVersion: 2, previousVersion: 1, previousValidUntil: '2026-12-02T10:00:00.000Z' },
    };
    spec
      .given([registered])
      .when({ type: 'RotateWebhookSecret', endpointId, at: '2026-12-01T10:00:00.000Z', overlapSeconds: 86_400 })
      .then([rotated]);
    const state = [registered, rotated].reduce(webhookEndpointDecider.evolve, webhookEndpointDecider.initialState());
    const endpoint = state as WebhookEndpoint;
    expect(signingVersionsAt(endpoint, '2026-12-02T09:59:59.999Z')).toEqual([2, 1]);
    expect(signingVersionsAt(endpoint, '2026-12-02T10:00:00.000Z')).toEqual([2]);
    spec
      .given([registered])
      .when({ type: 'RotateWebhookSecret', endpointId, at: '2026-12-01T10:00:00.000Z', overlapSeconds: 8 * 86_400 })
      .thenRefuses('invariant_violated');
  });
});

describe('webhook URL rules', () => {
  it('takes https, and http only where allowed', () => {
    expect(checkWebhookUrl('https://merchant.example/a?b=1', { allowHttp: false }).toString()).toBe(
      'https://merchant.example/a?b=1',
    );
    expect(() => checkWebhookUrl('http://merchant.example/', { allowHttp: false })).toThrow(/https/);
    expect(checkWebhookUrl('http://merchant.example/', { allowHttp: true }).protocol).toBe('http:');
  });

  it('refuses credentials, fragments and what is no URL', () => {
    for (const url of ['https://u:p@merchant.example/', 'https://merchant.example/#x', '/relative', 'mailto:a@b.c'])
      expect(() => checkWebhookUrl(url, { allowHttp: true }), url).toThrow(/webhook URL refused/);
  });
});

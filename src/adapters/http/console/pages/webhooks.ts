import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { cell, filterForm, href, link, nextPageLink, seg, table } from '../layout.js';
import type { WebhookDeliveries, WebhookEndpoints, WebhookMessages } from '../views.js';

/** Merchants' webhook endpoints; for one, its messages (state, attempts, last error) and its delivery log. */
export const webhooksPage: ConsolePage = {
  path: '/console/webhooks',
  section: 'webhooks',
  async render({ api, query }) {
    const merchantId = query['merchantId'] || undefined;
    const endpoints = await api.json<WebhookEndpoints>('/v1/webhook-endpoints', {
      merchantId,
      limit: 50,
      cursor: query['cursor'],
    });
    const list = html`!${filterForm('/console/webhooks', [{ name: 'merchantId', label: 'Merchant', value: merchantId }])}!${table(
      ['Endpoint', 'Merchant', 'URL', 'Status', 'Events'],
      endpoints.items.map((e) => [
        link(href(`/console/webhooks/${seg(e.endpointId)}`), e.endpointId),
        cell(e.merchantId),
        cell(e.url),
        cell(e.disabledReason ? `${e.status} (${e.disabledReason})` : e.status),
        cell(e.eventTypes === null ? 'all' : e.eventTypes.join(', ')),
      ]),
      'no webhook endpoints',
    )}!${nextPageLink('/console/webhooks', { merchantId }, endpoints.nextCursor)}`;
    return { title: 'Webhook endpoints', body: list };
  },
};

export const webhookEndpointPage: ConsolePage = {
  path: '/console/webhooks/:endpointId',
  section: 'webhooks',
  async render({ api, params, query }) {
    const id = params['endpointId']!;
    const messages = await api.json<WebhookMessages>(`/v1/webhook-endpoints/${seg(id)}/messages`, {
      limit: 50,
      cursor: query['cursor'],
    });
    const deliveries = await api.json<WebhookDeliveries>(`/v1/webhook-endpoints/${seg(id)}/deliveries`, {
      limit: 50,
      cursor: query['deliveryCursor'],
    });
    return {
      title: `Webhook endpoint ${id}`,
      body: html`<h2>Messages</h2>
        !${table(
          ['Message', 'Event', 'State', 'Attempts', 'Next attempt', 'Last status', 'Last error', 'Created'],
          messages.items.map((m) => [
            cell(m.messageId),
            cell(m.eventType),
            html`<span class="${m.state === 'failed' ? 'bad' : m.state === 'delivered' ? 'ok' : ''}">${m.state}</span>`,
            cell(m.totalAttempts),
            cell(m.nextAttemptAt),
            cell(m.lastStatusCode),
            cell(m.lastError),
            cell(m.createdAt),
          ]),
          'no messages',
        )}!${nextPageLink(`/console/webhooks/${seg(id)}`, {}, messages.nextCursor)}
        <h2>Deliveries</h2>
        !${table(
          ['Attempted', 'Message', 'Attempt', 'Duration ms', 'Status', 'Error', 'Outcome', 'Next attempt'],
          deliveries.items.map((d) => [
            cell(d.attemptedAt),
            cell(d.messageId),
            cell(d.attemptNo),
            cell(d.durationMs),
            cell(d.statusCode),
            cell(d.error),
            cell(d.outcome),
            cell(d.nextAttemptAt),
          ]),
          'no deliveries',
        )}!${nextPageLink(`/console/webhooks/${seg(id)}`, {}, deliveries.nextCursor, 'deliveryCursor')}`,
    };
  },
};

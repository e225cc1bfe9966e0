import { html } from 'ghtml';
import { isValidAccountNumber } from '../../../../domain/accounts/account-number.js';
import { barChart } from '../bar-chart.js';
import type { ConsolePage } from '../console-page.js';
import { cell, filterForm, href, link, nextPageLink, seg, table } from '../layout.js';
import type { AccountSummary, EntitySummary, Page, PaymentSummary } from '../views.js';

/** How far back the payments-per-minute chart looks, and the most payments it reads for it (paged). */
export const CHART_MINUTES = 60;
export const CHART_MAX_PAYMENTS = 1_000;
const CHART_PAGE_SIZE = 200;

/**
 * The start page: find an account (by number or owner), an entity (by kind), and see payments per
 * minute over the last hour (from the operations read model the payments list reads).
 */
export const searchPage: ConsolePage = {
  path: '/console',
  section: 'search',
  async render({ api, query, nowMs }) {
    const q = (query['q'] ?? '').trim();
    const kind = query['kind'] ?? '';
    let accounts = '';
    if (q !== '') {
      const accountsPage = isValidAccountNumber(q)
        ? { items: [await api.json<AccountSummary>(`/v1/accounts/${seg(q)}`)], nextCursor: null }
        : await api.json<Page<AccountSummary>>('/v1/accounts', { ownerId: q, limit: 50, cursor: query['cursor'] });
      accounts = html`<h2>Accounts</h2>
        !${table(
          ['Account', 'Owner', 'Type', 'Currency', 'Status', 'Balance'],
          accountsPage.items.map((a) => [
            link(`/console/accounts/${seg(a.accountId)}`, a.accountId),
            link(`/console/entities/${seg(a.ownerId)}`, a.ownerId),
            cell(a.type),
            cell(a.currency),
            cell(a.status),
            cell(a.balance),
          ]),
          'no accounts',
        )}!${nextPageLink('/console', { q }, accountsPage.nextCursor)}`;
    }
    const entities = await api.json<Page<EntitySummary>>('/v1/entities', {
      kind: kind === '' ? undefined : kind,
      limit: 20,
      cursor: query['entityCursor'],
    });
    const chart = await paymentsPerMinute(api, nowMs);
    return {
      title: 'Search',
      body: html`!${filterForm('/console', [{ name: 'q', label: 'Account number or owner id', value: q }], 'Find')}
        !${accounts}
        <h2>Entities</h2>
        !${filterForm('/console', [
          { name: 'kind', label: 'Kind', value: kind, options: ['', 'user', 'merchant', 'operator'] },
        ])}!${table(
          ['Entity', 'Kind', 'Name', 'Registered'],
          entities.items.map((e) => [
            link(`/console/entities/${seg(e.entityId)}`, e.entityId),
            cell(e.kind),
            cell(e.displayName),
            cell(e.registeredAt),
          ]),
          'no entities',
        )}!${nextPageLink('/console', { kind }, entities.nextCursor, 'entityCursor')}
        <h2>Payments per minute</h2>
        !${chart}`,
    };
  },
};

async function paymentsPerMinute(api: PageContext['api'], nowMs: number): Promise<string> {
  const endMs = Math.floor(nowMs / 60_000) * 60_000 + 60_000;
  const startMs = endMs - CHART_MINUTES * 60_000;
  const counts = new Array<number>(CHART_MINUTES).fill(0);
  let cursor: string | undefined;
  let read = 0;
  let capped: boolean;
  do {
    const page: Page<PaymentSummary> = await api.json<Page<PaymentSummary>>('/v1/payments', {
      from: new Date(startMs).toISOString(),
      to: new Date(endMs).toISOString(),
      limit: CHART_PAGE_SIZE,
      cursor,
    });
    for (const payment of page.items) {
      const minute = Math.floor((Date.parse(payment.createdAt) - startMs) / 60_000);
      if (minute >= 0 && minute < CHART_MINUTES) counts[minute]! += 1;
    }
    read += page.items.length;
    cursor = page.nextCursor ?? undefined;
    capped = cursor !== undefined && read >= CHART_MAX_PAYMENTS;
  } while (cursor !== undefined && !capped);
  const bars = counts.map((value, i) => ({ label: new Date(startMs + i * 60_000).toISOString().slice(11, 16), value }));
  return html`!${barChart(`Balance payments created per minute, the last ${CHART_MINUTES} minutes (UTC)`, bars)}${
      capped ? ` Only the newest ${read} payments are counted: earlier minutes show fewer than there were.` : ''
    }
    <p><a href="${href('/console/payments')}">Recent payments</a></p>`;
}

type PageContext = Parameters<ConsolePage['render']>[0];

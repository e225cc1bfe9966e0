import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { amountCell, cell, filterForm, link, nextPageLink, seg, table } from '../layout.js';
import type { Page, PaymentSummary } from '../views.js';

/** Balance payments, newest first, by merchant order number, merchant or status: each opens its operation page. */
export const paymentsPage: ConsolePage = {
  path: '/console/payments',
  section: 'search',
  async render({ api, query }) {
    const filters = {
      merchantOrderNo: query['merchantOrderNo'] || undefined,
      merchantId: query['merchantId'] || undefined,
      status: query['status'] || undefined,
    };
    const payments = await api.json<Page<PaymentSummary>>('/v1/payments', {
      ...filters,
      limit: 50,
      cursor: query['cursor'],
    });
    return {
      title: 'Payments',
      body: html`!${filterForm('/console/payments', [
        { name: 'merchantOrderNo', label: 'Merchant order no', value: filters.merchantOrderNo },
        { name: 'merchantId', label: 'Merchant', value: filters.merchantId },
      ])}!${table(
        ['Payment', 'Status', 'Amount', 'Payer', 'Merchant', 'Order no', 'Created'],
        payments.items.map((p) => [
          link(`/console/operations/payment/${seg(p.operationId)}`, p.operationId),
          cell(p.status),
          amountCell(`${p.amount} ${p.currency}`),
          link(`/console/accounts/${seg(p.sourceAccountId)}`, p.sourceAccountId),
          cell(p.merchantId),
          cell(p.merchantOrderNo),
          cell(p.createdAt),
        ]),
        'no payments',
      )}!${nextPageLink('/console/payments', filters, payments.nextCursor)}`,
    };
  },
};

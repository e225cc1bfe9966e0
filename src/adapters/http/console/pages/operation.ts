import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { ConsoleApiError } from '../console-api.js';
import { cell, fields, link, seg, table } from '../layout.js';
import type { StreamEvents } from '../views.js';

/** Each operation kind's JSON route and event stream. */
export const OPERATION_PAGES = {
  payment: { api: '/v1/payments/', stream: 'payment-' },
  'channel-payment': { api: '/v1/channel-payments/', stream: 'chanpay-' },
  recharge: { api: '/v1/recharges/', stream: 'recharge-' },
  withdrawal: { api: '/v1/withdrawals/', stream: 'withdrawal-' },
  transfer: { api: '/v1/transfers/', stream: 'transfer-' },
  freeze: { api: '/v1/freezes/', stream: 'freeze-' },
  preauth: { api: '/v1/preauths/', stream: 'preauth-' },
} as const;
const EVENTS_PAGE_SIZE = 100;

/**
 * An operation as the API shows it (its status and steps), then the raw events of its stream, each
 * with its hash and whether it links to the one before, and whether the whole chain verifies.
 */
export const operationPage: ConsolePage = {
  path: '/console/operations/:kind/:operationId',
  section: 'search',
  async render({ api, params, query }) {
    const kind = params['kind']!;
    const id = params['operationId']!;
    if (!Object.hasOwn(OPERATION_PAGES, kind))
      throw new ConsoleApiError(
        404,
        'not_found',
        `no operation kind ${kind}: one of ${Object.keys(OPERATION_PAGES).join(', ')}`,
      );
    const route = OPERATION_PAGES[kind as keyof typeof OPERATION_PAGES];
    const operation = await api.json<Record<string, unknown>>(`${route.api}${seg(id)}`);
    const fromRevision = Number.parseInt(query['fromRevision'] ?? '0', 10) || 0;
    const events = await api.json<StreamEvents>(`/v1/streams/${seg(route.stream + id)}/events`, {
      fromRevision,
      limit: EVENTS_PAGE_SIZE,
    });
    const verdict = events.chain.verified
      ? html`<p class="ok" data-chain="verified">Hash chain verified: every event links to the one before it.</p>`
      : html`<p class="bad" data-chain="broken">
          Hash chain broken at revision ${events.chain.firstBreak?.revision} (${events.chain.firstBreak?.check}).
        </p>`;
    const accounts = [
      'sourceAccountId',
      'accountId',
      'payerAccountId',
      'payeeAccountId',
      'fromAccountId',
      'targetAccountId',
      'toAccountId',
    ]
      .map((field) => operation[field])
      .filter((value): value is string => typeof value === 'string')
      .map((accountId) => link(`/console/accounts/${seg(accountId)}`, accountId));
    return {
      title: `${kind} ${id}`,
      body: html`!${fields(Object.entries(operation))}
        <p>Accounts: !${accounts.length === 0 ? html`—` : accounts.join(' ')}</p>
        <h2>Events of <span class="mono">${events.streamId}</span></h2>
        !${verdict}!${table(
          ['Rev', 'Position', 'Type', 'Occurred', 'Actor', 'Hash', 'Links', 'Data'],
          events.events.map((event) => [
            cell(event.revision),
            cell(event.position),
            cell(event.type),
            cell(event.metadata.occurredAt),
            cell(event.metadata.actor),
            html`<span class="mono" title="prev ${event.prevHash}">${event.hash}</span>`,
            event.linked ? html`<span class="ok">✓</span>` : html`<span class="bad">✗</span>`,
            html`<details>
              <summary>data</summary>
              <pre>${JSON.stringify(event.data, null, 2)}</pre>
            </details>`,
          ]),
          'no events',
        )}!${
          events.nextRevision === null
            ? ''
            : html`<p>
                <a href="/console/operations/${seg(kind)}/${seg(id)}?fromRevision=${events.nextRevision}"
                  >Next events →</a
                >
              </p>`
        }`,
    };
  },
};

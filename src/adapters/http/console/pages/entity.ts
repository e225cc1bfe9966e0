import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { cell, fields, link, seg, table } from '../layout.js';

interface EntityAnswer extends Record<string, unknown> {
  readonly accounts?: readonly {
    accountId: string;
    type: string;
    currency: string;
    status: string;
    displayName: string;
  }[];
}

/** An entity (user, merchant, operator) as the API shows it, with its accounts. */
export const entityPage: ConsolePage = {
  path: '/console/entities/:entityId',
  section: 'search',
  async render({ api, params }) {
    const entityId = params['entityId']!;
    const { accounts, ...entity } = await api.json<EntityAnswer>(`/v1/entities/${seg(entityId)}`);
    return {
      title: `Entity ${entityId}`,
      body: html`!${fields(Object.entries(entity))}
        <h2>Accounts</h2>
        !${table(
          ['Account', 'Type', 'Currency', 'Status', 'Name'],
          (accounts ?? []).map((a) => [
            link(`/console/accounts/${seg(a.accountId)}`, a.accountId),
            cell(a.type),
            cell(a.currency),
            cell(a.status),
            cell(a.displayName),
          ]),
          'no accounts',
        )}`,
    };
  },
};

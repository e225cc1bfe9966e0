import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { amountCell, cell, fields, filterForm, href, link, nextPageLink, seg, table } from '../layout.js';
import type { AccountSummary, Statement } from '../views.js';

/** An account: balance / available / frozen, flags, status, and its statement a page at a time (and as CSV). */
export const accountPage: ConsolePage = {
  path: '/console/accounts/:accountId',
  section: 'search',
  async render({ api, params, query }) {
    const accountId = params['accountId']!;
    const account = await api.json<AccountSummary>(`/v1/accounts/${seg(accountId)}`);
    const range = { fromDate: query['fromDate'], toDate: query['toDate'] };
    const statement = await api.json<Statement>(`/v1/accounts/${seg(accountId)}/statement`, {
      ...range,
      limit: 50,
      cursor: query['cursor'],
    });
    const path = `/console/accounts/${seg(accountId)}`;
    return {
      title: `Account ${accountId}`,
      body: html`!${fields([
          ['Name', account.displayName],
          ['Owner', account.ownerId],
          ['Type', account.type],
          ['Status', account.status],
          ['Currency', account.currency],
          ['Balance', account.balance],
          ['Available', account.available],
          ['Frozen', account.frozen],
          ['Flags', account.flags],
          ['Opened', account.openedAt],
          ['Last movement', account.lastMovementAt],
        ])}
        <p>!${link(`/console/entities/${seg(account.ownerId)}`, 'Owner')}</p>
        <h2>Statement</h2>
        !${filterForm(path, [
          { name: 'fromDate', label: 'From date', value: range.fromDate },
          { name: 'toDate', label: 'To date', value: range.toDate },
        ])}
        <p><a href="${href(`${path}/statement.csv`, range)}" download>Download CSV</a></p>
        !${table(
          [
            '#',
            'Occurred',
            'Operation',
            'Direction',
            'Amount',
            'Balance after',
            'Available after',
            'Frozen after',
            'Order no',
            'Memo',
          ],
          statement.lines.map((line) => [
            cell(line.sequence),
            cell(line.occurredAt),
            operationLink(line.operationKind, line.operationId),
            cell(line.direction),
            amountCell(line.amount),
            amountCell(line.balanceAfter),
            amountCell(line.availableAfter),
            amountCell(line.frozenAfter),
            cell(line.merchantOrderNo),
            cell(line.memo),
          ]),
          'no statement lines',
        )}!${nextPageLink(path, range, statement.nextCursor)}`,
    };
  },
};

/** The operation page of a statement line's operation, when its kind has one. */
function operationLink(kind: string, operationId: string): string {
  const page = {
    payment: 'payment',
    recharge: 'recharge',
    withdrawal: 'withdrawal',
    transfer: 'transfer',
    freeze: 'freeze',
    preauth_hold: 'preauth',
  }[kind];
  return page === undefined
    ? html`${kind} <span class="mono">${operationId}</span>`
    : html`${kind} !${link(`/console/operations/${page}/${seg(operationId)}`, operationId)}`;
}

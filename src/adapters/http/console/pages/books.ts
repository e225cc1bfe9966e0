import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { amountCell, cell, filterForm, href, link, nextPageLink, table } from '../layout.js';
import type { AccountingDates, Journal, TrialBalance } from '../views.js';

/**
 * The books: the accounting days with entries; for a chosen day and currency its trial balance, with the
 * zero check (total debits less total credits) shown, and its journal a page at a time.
 */
export const booksPage: ConsolePage = {
  path: '/console/books',
  section: 'books',
  async render({ api, query }) {
    const days = await api.json<AccountingDates>('/v1/books/accounting-dates', {
      limit: 30,
      cursor: query['daysCursor'],
    });
    const date = query['date'] || undefined;
    const dayOf = days.items.find((d) => d.accountingDate === date);
    const currency = query['currency'] || dayOf?.currencies[0];
    const dayList = table(
      ['Accounting date', 'Entries', 'Currencies'],
      days.items.map((d) => [
        cell(d.accountingDate),
        cell(d.entryCount),
        html`!${d.currencies.map((c) => html`!${link(href('/console/books', { date: d.accountingDate, currency: c }), c)} `)}`,
      ]),
      'no journal entries yet',
    );
    let day = '';
    if (date !== undefined && currency !== undefined) {
      const trial = await api.json<TrialBalance>('/v1/books/trial-balance', { date, currency });
      const journal = await api.json<Journal>('/v1/books/journal', { date, limit: 50, cursor: query['cursor'] });
      const zero = html`<p
        class="${trial.balanced ? 'ok' : 'bad'}"
        data-zero-check="${trial.balanced ? 'balanced' : 'unbalanced'}"
      >
        Zero check: debits ${trial.totalDebit} − credits ${trial.totalCredit}
        ${trial.balanced ? '= 0: balanced' : '≠ 0: the books are broken'} (${trial.entryCount} entries)
      </p>`;
      day = html`<h2>Trial balance ${date} ${currency}</h2>
        !${zero}!${table(
          ['Code', 'Account', 'Type', 'Debit', 'Credit'],
          trial.accounts.map((a) => [
            cell(a.code),
            cell(a.name),
            cell(a.type),
            amountCell(a.debit),
            amountCell(a.credit),
          ]),
          'no movements',
        )}
        <h2>Journal ${date}</h2>
        !${table(
          ['Occurred', 'Event', 'Operation', 'Lines'],
          journal.entries.map((e) => [
            cell(e.occurredAt),
            cell(e.eventType),
            html`<span class="mono">${e.operationId}</span>`,
            html`!${e.lines.map((l) => html`<div>${l.side} ${l.code} ${l.name} ${l.amount} ${l.currency}</div>`)}`,
          ]),
          'no entries',
        )}!${nextPageLink('/console/books', { date, currency }, journal.nextCursor)}`;
    }
    return {
      title: 'Books',
      body: html`!${filterForm('/console/books', [
          { name: 'date', label: 'Accounting date', value: date },
          { name: 'currency', label: 'Currency', value: currency },
        ])}!${day}
        <h2>Accounting days</h2>
        !${dayList}!${nextPageLink('/console/books', {}, days.nextCursor, 'daysCursor')}`,
    };
  },
};

import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { cell, filterForm, nextPageLink, table } from '../layout.js';
import type { ReconBreaks, ReconDays } from '../views.js';

/** Reconciliation: each channel's days (download, run, breaks found) and the breaks waiting for review. */
export const reconciliationPage: ConsolePage = {
  path: '/console/reconciliation',
  section: 'reconciliation',
  async render({ api, query }) {
    const channel = query['channel'] || undefined;
    const status = query['status'] || undefined;
    const days = await api.json<ReconDays>('/v1/reconciliation/days', {
      channel,
      limit: 30,
      cursor: query['daysCursor'],
    });
    const breaks = await api.json<ReconBreaks>('/v1/reconciliation/breaks', {
      channel,
      status,
      limit: 50,
      cursor: query['cursor'],
    });
    return {
      title: 'Reconciliation',
      body: html`!${filterForm('/console/reconciliation', [
          { name: 'channel', label: 'Channel', value: channel },
          {
            name: 'status',
            label: 'Break status',
            value: status ?? '',
            options: ['', 'open', 'investigated', 'cleared', 'resolved'],
          },
        ])}
        <h2>Days</h2>
        !${table(
          ['Channel', 'Date', 'Status', 'Download', 'Statement lines', 'Matched', 'Breaks found', 'Open breaks'],
          days.items.map((d) => [
            cell(d.channel),
            cell(d.accountingDate),
            cell(d.status),
            cell(d.download.lastProblem ? `${d.download.status}: ${d.download.lastProblem.reason}` : d.download.status),
            cell(d.statement?.lineCount),
            cell(d.run?.matched.count),
            cell(d.run?.breakCount),
            html`<span class="${d.openBreaks > 0 ? 'bad' : ''}">${d.openBreaks}</span>`,
          ]),
          'no reconciliation days',
        )}!${nextPageLink('/console/reconciliation', { channel, status }, days.nextCursor, 'daysCursor')}
        <h2>Breaks</h2>
        !${table(
          ['Break', 'Channel', 'Origin day', 'Class', 'Status', 'Age (days)', 'Order no', 'Channel order no', 'Note'],
          breaks.items.map((b) => [
            html`<span class="mono">${b.breakId}</span>`,
            cell(b.channel),
            cell(b.originDate),
            cell(b.matchClass),
            cell(b.status),
            cell(b.ageDays),
            cell(b.merchantOrderNo),
            cell(b.channelOrderNo),
            cell(b.note),
          ]),
          'no breaks',
        )}!${nextPageLink('/console/reconciliation', { channel, status }, breaks.nextCursor)}`,
    };
  },
};

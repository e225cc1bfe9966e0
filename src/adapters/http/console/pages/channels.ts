import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { cell, fields, table } from '../layout.js';
import type { Channels } from '../views.js';

/** The payment channels: the routing rules, and each channel's live health (breaker, success, latency) and usage. */
export const channelsPage: ConsolePage = {
  path: '/console/channels',
  section: 'channels',
  async render({ api }) {
    const { channels, ...rules } = await api.json<Channels>('/v1/channels');
    return {
      title: 'Channels',
      body: html`!${fields(Object.entries(rules))}!${table(
        ['Channel', 'Health', 'Used today (minor units)', 'Profile'],
        channels.map((c) => [
          cell(c.channelId),
          cell(c.health),
          cell(c.dailyUsedMinor),
          html`<details>
            <summary>profile</summary>
            <pre>${JSON.stringify(c.profile, null, 2)}</pre>
          </details>`,
        ]),
        'no channels',
      )}`,
    };
  },
};

import { html } from 'ghtml';
import type { ConsoleSessionStore } from '../../../../ports/console-session-store.js';
import type { ConsolePage } from '../console-page.js';
import { cell, table } from '../layout.js';

/** Live console sessions and unopened links, each with a revoke button (operators' sessions only). */
export function sessionsPage(store: ConsoleSessionStore): ConsolePage {
  return {
    path: '/console/sessions',
    section: 'sessions',
    operatorOnly: true,
    async render({ session, nowMs }) {
      const live = await store.listLive(nowMs, 200);
      return {
        title: 'Console sessions',
        body: html`<p>
            Sessions last until they expire, are signed out, or are revoked here (at once, on every instance sharing the
            store).
          </p>
          !${table(
            ['Session', 'Entity', 'Role', 'Granted', 'Opened', 'Expires', ''],
            live.map((s) => [
              html`<span class="mono">${s.sessionId}</span>${s.sessionId === session.sessionId ? ' (this one)' : ''}`,
              cell(s.entityId),
              cell(s.role),
              cell(new Date(s.createdAtMs).toISOString()),
              cell(s.openedAtMs === null ? 'link not opened' : new Date(s.openedAtMs).toISOString()),
              cell(new Date(s.expiresAtMs).toISOString()),
              html`<form class="inline" method="post" action="/console/sessions/revoke">
                <input type="hidden" name="csrf" value="${session.csrfToken}" /><input
                  type="hidden"
                  name="sessionId"
                  value="${s.sessionId}"
                /><button>Revoke</button>
              </form>`,
            ]),
            'no live sessions',
          )}`,
      };
    },
  };
}

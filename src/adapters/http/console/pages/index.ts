import type { ConsoleSessionStore } from '../../../../ports/console-session-store.js';
import type { ConsolePage } from '../console-page.js';
import { accountPage } from './account.js';
import { booksPage } from './books.js';
import { channelsPage } from './channels.js';
import { entityPage } from './entity.js';
import { operationPage } from './operation.js';
import { paymentsPage } from './payments.js';
import { projectionsPage } from './projections.js';
import { reconciliationPage } from './reconciliation.js';
import { searchPage } from './search.js';
import { sessionsPage } from './sessions.js';
import { webhookEndpointPage, webhooksPage } from './webhooks.js';

/** Every console page: a new panel is one file in this folder and one line here (and a NAV entry if it has a section). */
export function consolePages(store: ConsoleSessionStore): readonly ConsolePage[] {
  return [
    searchPage,
    accountPage,
    entityPage,
    paymentsPage,
    operationPage,
    booksPage,
    projectionsPage,
    channelsPage,
    webhooksPage,
    webhookEndpointPage,
    reconciliationPage,
    sessionsPage(store),
  ];
}

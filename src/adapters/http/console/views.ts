import type { z } from 'zod';
import type { accountView } from '../routes/accounts.js';
import type { accountingDatePageView, logHeadView } from '../routes/log-queries.js';
import type { entitySummaryView } from '../routes/entity-queries.js';
import type { journalView, trialBalanceView } from '../routes/books.js';
import type { operationSummaryView } from '../routes/operation-views.js';
import type { projectionStatusView } from '../routes/projection-status.js';
import type { rebuildAnswerView } from '../routes/projection-rebuilds.js';
import type { statementView } from '../routes/statements.js';
import type { streamEventsView } from '../routes/stream-events.js';
import type { channelsView } from '../routes/channel-notifications.js';
import type { webhookDeliveryPageView, webhookMessagePageView } from '../routes/webhook-deliveries.js';
import type { webhookEndpointPageView } from '../routes/webhook-endpoints.js';
import type { reconDayPageView } from '../routes/reconciliation.js';
import type { reconciliationBreakPageView } from '../routes/reconciliation-breaks.js';

/** The JSON API's answers the console reads, typed by the routes' own schemas (the single source). */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}
export type AccountSummary = z.output<typeof accountView>;
export type EntitySummary = z.output<typeof entitySummaryView>;
export type PaymentSummary = z.output<typeof operationSummaryView>;
export type Statement = z.output<typeof statementView>;
export type Journal = z.output<typeof journalView>;
export type TrialBalance = z.output<typeof trialBalanceView>;
export type AccountingDates = z.output<typeof accountingDatePageView>;
export type ProjectionStatus = z.output<typeof projectionStatusView>;
export type LogHead = z.output<typeof logHeadView>;
export type RebuildAnswer = z.output<typeof rebuildAnswerView>;
export type StreamEvents = z.output<typeof streamEventsView>;
export type Channels = z.output<typeof channelsView>;
export type WebhookEndpoints = z.output<typeof webhookEndpointPageView>;
export type WebhookDeliveries = z.output<typeof webhookDeliveryPageView>;
export type WebhookMessages = z.output<typeof webhookMessagePageView>;
export type ReconDays = z.output<typeof reconDayPageView>;
export type ReconBreaks = z.output<typeof reconciliationBreakPageView>;

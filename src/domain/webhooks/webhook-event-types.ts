/**
 * The webhook event types a merchant may subscribe an endpoint to: one per order state change the ledger
 * publishes (order-notifications.ts says which ledger event each comes from). Names follow the Standard
 * Webhooks convention `<resource>.<change>`; a name is part of the API and never changes meaning.
 */
export const WEBHOOK_EVENT_TYPES = [
  'payment.created',
  'payment.succeeded',
  'payment.failed',
  'payment.cancellation_requested',
  'payment.cancelled',
  'payment.cancellation_failed',
  'refund.created',
  'refund.succeeded',
  'refund.failed',
  'preauth.created',
  'preauth.authorised',
  'preauth.declined',
  'preauth.cancelled',
  'preauth.completion_requested',
  'preauth.completed',
  'preauth.completion_failed',
  'preauth.completion_cancellation_requested',
  'preauth.completion_cancelled',
  'preauth.completion_cancellation_failed',
  'channel_payment.created',
  'channel_payment.awaiting_verification',
  'channel_payment.pending',
  'channel_payment.succeeded',
  'channel_payment.failed',
  'channel_payment.expired',
  'channel_payment.refund.created',
  'channel_payment.refund.pending',
  'channel_payment.refund.succeeded',
  'channel_payment.refund.failed',
  'channel_payment.cancelled',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

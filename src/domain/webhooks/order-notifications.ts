import type { LedgerEvent, LedgerEventType } from '../event-catalogue.js';
import { formatAmount } from '../money/money.js';
import type { ChannelPaymentOrder } from '../channel-payments/channel-payment-events.js';
import type { PaymentInitiated } from '../payments/payment-events.js';
import type { PreauthRequested } from '../preauths/preauth-events.js';
import type { CurrencyCode } from '../money/currency.js';
import type { JsonObject } from '../shared/json.js';
import type { WebhookEventType } from './webhook-event-types.js';

/**
 * THE table of what merchants are told: for each ledger event that changes an order's state, the webhook
 * event type it is published as, and how its message is built from it and from the order's first event
 * (its origin: the stream's revision 0, which names the merchant). A new kind of order is new rows here
 * (and its origin below); nothing else in the outbox knows about orders.
 */
export interface OrderNotification {
  readonly webhookType: WebhookEventType;
  /** The merchant the order belongs to, and the message's `data`; undefined: no merchant to tell. */
  build(event: LedgerEvent, origin: LedgerEvent): { merchantId: string; data: JsonObject } | undefined;
}

/** What every message of a balance payment carries, from its PaymentInitiated. */
function paymentOrder(origin: LedgerEvent): { merchantId: string; data: JsonObject } | undefined {
  if (origin.type !== 'PaymentInitiated') return undefined;
  const d: PaymentInitiated['data'] = origin.data;
  return {
    merchantId: d.merchantId,
    data: {
      paymentId: d.paymentId,
      merchantOrderNo: d.merchantOrderNo,
      amount: formatAmount(d.amountMinor, d.currency),
      currency: d.currency,
    },
  };
}

function preauthOrder(origin: LedgerEvent): { merchantId: string; data: JsonObject } | undefined {
  if (origin.type !== 'PreauthRequested') return undefined;
  const d: PreauthRequested['data'] = origin.data;
  return {
    merchantId: d.merchantId,
    data: {
      preauthId: d.preauthId,
      merchantOrderNo: d.merchantOrderNo,
      amount: formatAmount(d.amountMinor, d.currency),
      currency: d.currency,
      expiresAt: d.expiresAt,
    },
  };
}

/**
 * A channel payment's common part: never its instrument (the channels' contract numbers), its payer
 * snapshot or its routing record; the merchant learns the channel once it took the money.
 */
function channelPaymentOrder(origin: LedgerEvent): { merchantId: string; data: JsonObject } | undefined {
  if (origin.type !== 'ChannelPaymentCreated') return undefined;
  const d: ChannelPaymentOrder = origin.data;
  return {
    merchantId: d.merchantId,
    data: {
      paymentId: d.paymentId,
      merchantOrderNo: d.merchantOrderNo,
      amount: formatAmount(d.amountMinor, d.currency),
      currency: d.currency,
      method: d.instrument.method,
    },
  };
}

/** A row: the order's common part, then what this event adds (its status and its own fields). */
function row(
  webhookType: WebhookEventType,
  order: (origin: LedgerEvent) => { merchantId: string; data: JsonObject } | undefined,
  extra: (event: LedgerEvent, origin: LedgerEvent) => JsonObject,
): OrderNotification {
  return {
    webhookType,
    build(event, origin) {
      const common = order(origin);
      return common && { merchantId: common.merchantId, data: { ...common.data, ...extra(event, origin) } };
    },
  };
}

/** The event's own fields but its order id (already in the common part) and amounts (formatted instead). */
function fieldsOf(event: LedgerEvent, origin: LedgerEvent): JsonObject {
  const fields: JsonObject = {};
  const currency = (origin.data as { currency?: CurrencyCode }).currency;
  for (const [key, value] of Object.entries(event.data)) {
    if (key === 'paymentId' || key === 'preauthId') continue;
    if (typeof value === 'bigint') {
      // capturedMinor -> capturedAmount, as a decimal string like every amount of the API.
      if (currency !== undefined) fields[key.replace(/Minor$/, 'Amount')] = formatAmount(value, currency);
    } else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      fields[key] = value as string | number | boolean | null;
    }
  }
  return fields;
}

const status =
  (value: string) =>
  (event: LedgerEvent, origin: LedgerEvent): JsonObject => ({ status: value, ...fieldsOf(event, origin) });

export const ORDER_NOTIFICATIONS: Readonly<Partial<Record<LedgerEventType, OrderNotification>>> = {
  PaymentInitiated: row('payment.created', paymentOrder, () => ({ status: 'processing' })),
  PaymentCompleted: row('payment.succeeded', paymentOrder, status('succeeded')),
  PaymentFailed: row('payment.failed', paymentOrder, status('failed')),
  PaymentCancellationRequested: row('payment.cancellation_requested', paymentOrder, status('cancelling')),
  PaymentCancelled: row('payment.cancelled', paymentOrder, status('cancelled')),
  PaymentCancellationFailed: row('payment.cancellation_failed', paymentOrder, status('succeeded')),
  RefundRequested: row('refund.created', paymentOrder, (event): JsonObject => {
    if (event.type !== 'RefundRequested') return {};
    const { refundId, refundNo, amountMinor, currency, reason } = event.data;
    return { status: 'processing', refundId, refundNo, refundAmount: formatAmount(amountMinor, currency), reason };
  }),
  RefundCompleted: row('refund.succeeded', paymentOrder, status('succeeded')),
  RefundFailed: row('refund.failed', paymentOrder, status('failed')),
  PreauthRequested: row('preauth.created', preauthOrder, () => ({ status: 'processing' })),
  PreauthAuthorised: row('preauth.authorised', preauthOrder, status('authorised')),
  PreauthDeclined: row('preauth.declined', preauthOrder, status('declined')),
  PreauthCancelled: row('preauth.cancelled', preauthOrder, status('cancelled')),
  PreauthCompletionRequested: row('preauth.completion_requested', preauthOrder, status('completing')),
  PreauthCompleted: row('preauth.completed', preauthOrder, status('completed')),
  PreauthCompletionFailed: row('preauth.completion_failed', preauthOrder, status('authorised')),
  PreauthCompletionCancellationRequested: row(
    'preauth.completion_cancellation_requested',
    preauthOrder,
    status('completion_cancelling'),
  ),
  PreauthCompletionCancelled: row('preauth.completion_cancelled', preauthOrder, status('authorised')),
  PreauthCompletionCancellationFailed: row('preauth.completion_cancellation_failed', preauthOrder, status('completed')),
  ChannelPaymentCreated: row('channel_payment.created', channelPaymentOrder, () => ({ status: 'processing' })),
  // Only what the merchant acts on: never the code's HMAC or the policy.
  StepUpChallengeIssued: row('channel_payment.awaiting_verification', channelPaymentOrder, (event): JsonObject => {
    if (event.type !== 'StepUpChallengeIssued') return {};
    const { maskedPhone, codeExpiresAt, challengeExpiresAt } = event.data;
    return { status: 'awaiting_verification', maskedPhone, codeExpiresAt, challengeExpiresAt };
  }),
  ChannelPaymentPending: row('channel_payment.pending', channelPaymentOrder, status('pending')),
  ChannelPaymentCompleted: row('channel_payment.succeeded', channelPaymentOrder, (event, origin): JsonObject => {
    if (event.type !== 'ChannelPaymentCompleted' || origin.type !== 'ChannelPaymentCreated') return {};
    const { channel, channelOrderNo, channelFeeMinor, currency } = event.data;
    return { status: 'succeeded', channel, channelOrderNo, channelFee: formatAmount(channelFeeMinor, currency) };
  }),
  ChannelPaymentFailed: row('channel_payment.failed', channelPaymentOrder, status('failed')),
  ChannelPaymentExpired: row('channel_payment.expired', channelPaymentOrder, status('expired')),
  // A refund's (or a cancellation's, `kind`) own fields; its unknown stretch is ours to resolve, not news.
  ChannelRefundRequested: row('channel_payment.refund.created', channelPaymentOrder, (event): JsonObject => {
    if (event.type !== 'ChannelRefundRequested') return {};
    const { refundId, kind, refundNo, amountMinor, currency, reason } = event.data;
    return {
      status: 'processing',
      refundId,
      kind,
      refundNo,
      refundAmount: formatAmount(amountMinor, currency),
      reason,
    };
  }),
  ChannelRefundPending: row('channel_payment.refund.pending', channelPaymentOrder, status('pending')),
  ChannelRefundSucceeded: row('channel_payment.refund.succeeded', channelPaymentOrder, status('succeeded')),
  ChannelRefundFailed: row('channel_payment.refund.failed', channelPaymentOrder, status('failed')),
  ChannelPaymentCancelled: row('channel_payment.cancelled', channelPaymentOrder, status('cancelled')),
};

/** The ledger event types the outbox reads for orders. */
export const NOTIFIED_EVENT_TYPES = Object.keys(ORDER_NOTIFICATIONS) as LedgerEventType[];

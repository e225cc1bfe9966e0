import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { OurOrderStatus } from '../domain/reconciliation/our-order.js';
import type { StatementKind } from '../domain/reconciliation/statement-record.js';
import { refundKeyOf } from '../domain/reconciliation/match-order.js';
import { accountingDate } from '../domain/shared/accounting-day.js';
import type { AccountingProjection } from './accounting-zone.js';
import type { DocumentChange, EventEnvelope } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Channel orders: every order we sent a channel, keyed for reconciliation - channel payments (`pay`),
 * their refunds (`refund`) and cancellations, recharges (`pay`: the channel charged the card for us) and
 * withdrawals (`payout`) - with the amount, the fee as recorded and as the channel's schedule gives it,
 * the status, our time and the channel's, and the accounting day of our time. `dayMatchKey` reads one
 * channel's day in the order match-order.ts compares (see matchIndexKey). Amounts in minor units (strings).
 */
export const CHANNEL_ORDERS_COLLECTION = 'channel_orders';

export type ChannelOrderDocument = {
  /** The operation: channel_payment, channel_refund, channel_cancellation, recharge, withdrawal. */
  operation: 'channel_payment' | 'channel_refund' | 'channel_cancellation' | 'recharge' | 'withdrawal';
  kind: StatementKind;
  /** Null for a refund until it is sent (a refund's channel is the one it was submitted to). */
  channel: string | null;
  /** The order number we sent: the payment's, recharge's or withdrawal's id (a refund: its payment's). */
  merchantOrderNo: string;
  /** The refund number we sent (the refund id); null for pays and payouts. */
  refundNo: string | null;
  amountMinor: string;
  currency: string;
  status: OurOrderStatus;
  channelOrderNo: string | null;
  /** What the channel reported and we booked (a refund: the fee it gave back); null until succeeded. */
  feeMinor: string | null;
  /** The fee of the channel's schedule for the amount, from the routing decision; null when not priced. */
  scheduledFeeMinor: string | null;
  ourTime: string;
  channelTime: string | null;
  accountingDate: string;
  /**
   * `<channel>|<accountingDate>|<merchantOrderNo>\u0001<refundNo or "">` while the order has a channel and
   * is one a statement lists (a cancellation is not: the statement shows its pay as revoked); else null.
   */
  dayMatchKey: string | null;
  updatedAt: string;
};

/**
 * Between order number and refund number: below every character an order number holds (our ids are
 * UUIDs), so the key's string order is compareMatchKeys' order - "A" then "A" + refund then "AB" - in
 * SQLite's BINARY and MongoDB's simple collation alike (a `|` here would put "A|..." after "AB").
 */
const REFUND_SEPARATOR = '\u0001';

/** The index key of an order, or null when it is not in any day's match (no channel yet, a cancellation). */
export function matchIndexKey(channel: string, date: string, merchantOrderNo: string, refundNo: string | null): string {
  for (const part of [merchantOrderNo, refundNo ?? '']) {
    if (part.includes('\u0000') || part.includes(REFUND_SEPARATOR))
      throw new Error(`channel-orders: control character in order number ${part}`);
  }
  return compositeKey(channel, date, `${merchantOrderNo}${REFUND_SEPARATOR}${refundKeyOf(refundNo)}`);
}

/** The [gte, lt) range of dayMatchKey that holds one channel's day. */
export function dayMatchRange(channel: string, date: string): { gte: string; lt: string } {
  const prefix = compositeKey(channel, date, '');
  return { gte: prefix, lt: `${prefix.slice(0, -1)}}` };
}

function withKey(doc: ChannelOrderDocument): ChannelOrderDocument {
  const listed = doc.channel !== null && doc.operation !== 'channel_cancellation';
  return {
    ...doc,
    dayMatchKey: listed ? matchIndexKey(doc.channel!, doc.accountingDate, doc.merchantOrderNo, doc.refundNo) : null,
  };
}

/** What of a decoded routing decision prices a channel (excluded candidates carry no fee). */
type PricedRouting = {
  readonly candidates: readonly (
    { readonly channelId: string } | { readonly channelId: string; readonly feeMinor: bigint }
  )[];
};

/** The fee routing priced for `channel`, from the decision's candidates (fee-schedule.ts computed it). */
function scheduledFee(routing: PricedRouting | undefined, channel: string | null): string | null {
  const candidate = routing?.candidates.find((c) => c.channelId === channel);
  return candidate && 'feeMinor' in candidate ? candidate.feeMinor.toString() : null;
}

export function channelOrdersProjection(accountingTimeZone: string): AccountingProjection {
  const created = (
    envelope: EventEnvelope,
    id: string,
    doc: Omit<
      ChannelOrderDocument,
      'accountingDate' | 'dayMatchKey' | 'updatedAt' | 'ourTime' | 'channelTime' | 'feeMinor' | 'channelOrderNo'
    >,
    at: string = envelope.metadata.occurredAt,
  ): DocumentChange => {
    const ourTime = utcInstantKey(at);
    const full = withKey({
      ...doc,
      channelOrderNo: null,
      feeMinor: null,
      channelTime: null,
      ourTime,
      accountingDate: accountingDate(ourTime, accountingTimeZone),
      dayMatchKey: null,
      updatedAt: utcInstantKey(envelope.metadata.occurredAt),
    });
    return { collection: CHANNEL_ORDERS_COLLECTION, id, apply: () => full };
  };
  const updated = (
    envelope: EventEnvelope,
    id: string,
    change: (doc: ChannelOrderDocument) => Partial<ChannelOrderDocument>,
  ): DocumentChange => ({
    collection: CHANNEL_ORDERS_COLLECTION,
    id,
    apply: (previous) => {
      if (previous === null) throw new Error(`channel-orders: event for unknown order ${id} at ${envelope.position}`);
      const doc = previous as unknown as ChannelOrderDocument;
      return withKey({ ...doc, ...change(doc), updatedAt: utcInstantKey(envelope.metadata.occurredAt) });
    },
  });
  const status = (
    envelope: EventEnvelope,
    id: string,
    next: OurOrderStatus,
    more: Partial<ChannelOrderDocument> = {},
  ) => updated(envelope, id, () => ({ status: next, ...more }));

  function changes(event: LedgerEvent, envelope: EventEnvelope): DocumentChange | null {
    switch (event.type) {
      case 'ChannelPaymentCreated': {
        const d = event.data;
        return created(
          envelope,
          d.paymentId,
          {
            operation: 'channel_payment',
            kind: 'pay',
            channel: d.routing.chosen,
            merchantOrderNo: d.paymentId,
            refundNo: null,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
            status: 'open',
            scheduledFeeMinor: scheduledFee(d.routing, d.routing.chosen),
          },
          d.createdAt,
        );
      }
      case 'ChannelPaymentRerouted':
        return updated(envelope, event.data.paymentId, () => ({
          channel: event.data.routing.chosen,
          scheduledFeeMinor: scheduledFee(event.data.routing, event.data.routing.chosen),
        }));
      case 'ChannelPaymentSubmitted':
        return status(envelope, event.data.paymentId, 'submitted', { channel: event.data.channel });
      case 'ChannelPaymentPending':
        return status(envelope, event.data.paymentId, 'pending', { channelOrderNo: event.data.channelOrderNo });
      case 'ChannelPaymentUnknown':
        return status(envelope, event.data.paymentId, 'unknown');
      case 'ChannelPaymentSucceeded': {
        const d = event.data;
        return status(envelope, d.paymentId, 'succeeded', {
          channel: d.channel,
          channelOrderNo: d.channelOrderNo,
          feeMinor: d.feeMinor.toString(),
          channelTime: utcInstantKey(d.channelTime),
        });
      }
      case 'ChannelPaymentFailed':
        return status(envelope, event.data.paymentId, 'failed');
      case 'ChannelPaymentExpired':
        return status(envelope, event.data.paymentId, 'expired');
      case 'ChannelPaymentCancelled':
        return status(envelope, event.data.paymentId, 'cancelled');
      case 'ChannelRefundRequested': {
        const d = event.data;
        return created(
          envelope,
          d.refundId,
          {
            operation: d.kind === 'cancellation' ? 'channel_cancellation' : 'channel_refund',
            kind: 'refund',
            channel: null,
            merchantOrderNo: d.paymentId,
            refundNo: d.refundId,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
            status: 'open',
            scheduledFeeMinor: null,
          },
          d.at,
        );
      }
      case 'ChannelRefundSubmitted':
        return status(envelope, event.data.refundId, 'submitted', { channel: event.data.channel });
      case 'ChannelRefundPending':
        return status(envelope, event.data.refundId, 'pending');
      case 'ChannelRefundUnknown':
        return status(envelope, event.data.refundId, 'unknown');
      case 'ChannelRefundSucceeded': {
        const d = event.data;
        return status(envelope, d.refundId, 'succeeded', {
          channel: d.channel,
          channelOrderNo: d.channelRefundNo,
          feeMinor: d.feeReturnedMinor.toString(),
          channelTime: utcInstantKey(d.channelTime),
        });
      }
      case 'ChannelRefundFailed':
        return status(envelope, event.data.refundId, 'failed');
      case 'RechargeRequested': {
        const d = event.data;
        return created(envelope, d.rechargeId, {
          operation: 'recharge',
          kind: 'pay',
          channel: d.channel,
          merchantOrderNo: d.rechargeId,
          refundNo: null,
          amountMinor: d.amountMinor.toString(),
          currency: d.currency,
          status: 'submitted',
          scheduledFeeMinor: scheduledFee(d.routing, d.channel),
        });
      }
      case 'RechargeRouted':
        return updated(envelope, event.data.rechargeId, () => ({
          channel: event.data.channel,
          scheduledFeeMinor: scheduledFee(event.data.routing, event.data.channel),
        }));
      case 'RechargeAwaitingChannel':
        return status(envelope, event.data.rechargeId, event.data.outcome === 'unknown' ? 'unknown' : 'pending');
      case 'RechargeCompleted':
        return status(envelope, event.data.rechargeId, 'succeeded', {
          channelOrderNo: event.data.channelOrderNo,
          feeMinor: event.data.channelFeeMinor.toString(),
        });
      case 'RechargeFailed':
        return status(envelope, event.data.rechargeId, 'failed');
      case 'WithdrawalRequested': {
        const d = event.data;
        return created(envelope, d.withdrawalId, {
          operation: 'withdrawal',
          kind: 'payout',
          channel: d.channel,
          merchantOrderNo: d.withdrawalId,
          refundNo: null,
          amountMinor: d.amountMinor.toString(),
          currency: d.currency,
          status: 'submitted',
          scheduledFeeMinor: scheduledFee(d.routing, d.channel),
        });
      }
      case 'WithdrawalAwaitingChannel':
        return status(envelope, event.data.withdrawalId, event.data.outcome === 'unknown' ? 'unknown' : 'pending');
      case 'WithdrawalCompleted':
        return status(envelope, event.data.withdrawalId, 'succeeded', {
          channel: event.data.channel,
          channelOrderNo: event.data.channelOrderNo,
          feeMinor: event.data.channelFeeMinor.toString(),
        });
      case 'WithdrawalFailed':
        return status(envelope, event.data.withdrawalId, 'failed');
      default:
        return null;
    }
  }

  return {
    name: 'channel-orders',
    version: 1,
    accountingTimeZone,
    collections: [
      {
        name: CHANNEL_ORDERS_COLLECTION,
        indexes: ['dayMatchKey', 'merchantOrderNo', 'status'],
        // Matching sweeps a day in this order: a million orders read from the index's pages in a row.
        documentIndexes: ['dayMatchKey'],
      },
    ],
    eventTypes: [
      'ChannelPaymentCreated',
      'ChannelPaymentRerouted',
      'ChannelPaymentSubmitted',
      'ChannelPaymentPending',
      'ChannelPaymentUnknown',
      'ChannelPaymentSucceeded',
      'ChannelPaymentFailed',
      'ChannelPaymentExpired',
      'ChannelPaymentCancelled',
      'ChannelRefundRequested',
      'ChannelRefundSubmitted',
      'ChannelRefundPending',
      'ChannelRefundUnknown',
      'ChannelRefundSucceeded',
      'ChannelRefundFailed',
      'RechargeRequested',
      'RechargeRouted',
      'RechargeAwaitingChannel',
      'RechargeCompleted',
      'RechargeFailed',
      'WithdrawalRequested',
      'WithdrawalAwaitingChannel',
      'WithdrawalCompleted',
      'WithdrawalFailed',
    ],
    handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
      const change = changes(event, envelope);
      return change ? [change] : [];
    },
  };
}

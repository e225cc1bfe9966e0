import type { ChannelResult } from '../../domain/channel-payments/channel-payment-decider.js';
import type { ChannelNotification, ChannelOrder, ChargeOutcome, OrderQueryOutcome } from '../../ports/channel-port.js';

/**
 * The channel's word, in the decider's terms: a charge's answer, an order query's, a callback's. What is
 * not the channel's word about the order (`unavailable`, a query that could not be answered) is null here:
 * the caller decides what it means where it is (reroute, keep polling).
 */
export function resultOfCharge(outcome: ChargeOutcome): ChannelResult | null {
  switch (outcome.status) {
    case 'succeeded':
      return {
        kind: 'succeeded',
        channelOrderNo: outcome.channelOrderNo,
        feeMinor: outcome.feeMinor,
        channelTime: outcome.channelTime,
      };
    case 'pending':
      return { kind: 'pending', channelOrderNo: outcome.channelOrderNo, payerActionUrl: outcome.payerActionUrl };
    case 'declined':
      return { kind: 'declined', code: outcome.code, message: outcome.message, channelCode: outcome.channelCode };
    case 'unknown':
      return { kind: 'unknown', reason: outcome.reason, detail: outcome.detail };
    case 'unavailable':
      return null;
  }
}

export function resultOfOrder(
  order: Pick<ChannelOrder, 'state' | 'channelOrderNo' | 'feeMinor' | 'channelTime'> & {
    readonly failureCode: string | null;
  },
): ChannelResult {
  switch (order.state) {
    case 'pending':
      return { kind: 'pending', channelOrderNo: order.channelOrderNo, payerActionUrl: null };
    case 'succeeded':
      return {
        kind: 'succeeded',
        channelOrderNo: order.channelOrderNo,
        feeMinor: order.feeMinor,
        channelTime: order.channelTime,
      };
    case 'failed':
      return {
        kind: 'declined',
        code: 'channel_declined',
        message: 'the channel failed the order',
        channelCode: order.failureCode ?? '',
      };
    case 'closed':
    case 'cancelled':
      return { kind: 'closed', state: order.state };
  }
}

/** An order query: the order's state, `not_found` (the charge never reached the channel), or null (no answer). */
export function resultOfQuery(outcome: OrderQueryOutcome): ChannelResult | 'not_found' | null {
  if (outcome.status === 'succeeded') return resultOfOrder(outcome.order);
  if (outcome.status === 'declined' && outcome.code === 'order_not_found') return 'not_found';
  return null;
}

export function resultOfNotification(notification: ChannelNotification): ChannelResult {
  return resultOfOrder({ ...notification, failureCode: null });
}

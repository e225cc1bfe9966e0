import { nextQueryAt, type AwaitingChannel } from '../../domain/channels/awaiting-channel.js';
import type { RoutingDecision, RoutingRequest } from '../../domain/channels/routing.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { ChargeOutcome, OrderQueryOutcome, PayoutOutcome } from '../../ports/channel-port.js';
import type { ChannelGateway } from './channel-gateway.js';

/**
 * What a charge or payout of ours (a recharge, a withdrawal) came to at its channel, from the channel's
 * answer or from an order query: the three things an operation does next.
 *
 * - `done`: the channel took it (its reference and fee): credit, or complete the payout;
 * - `refused`: it did not happen (declined, or the channel's order failed or closed): fail, reversing
 *   what was taken;
 * - `open`: not final (`pending`, or `unknown`: perhaps done): record it and ask the channel later by
 *   our order number, never send it again.
 *
 * A channel's `unavailable` (nothing sent) is the caller's: route elsewhere or fail.
 */
export type OrderResult =
  | { readonly kind: 'done'; readonly channelOrderNo: string; readonly feeMinor: bigint }
  | { readonly kind: 'refused'; readonly error: DomainError }
  | {
      readonly kind: 'open';
      readonly outcome: 'pending' | 'unknown';
      readonly channelOrderNo: string | null;
      readonly payerActionUrl: string | null;
      readonly detail: string;
    };

const MAX_DETAIL = 300;

function declinedError(channelId: string, what: string, code: string, message: string, channelCode: string) {
  return new DomainError('channel_declined', `${channelId} declined the ${what}: ${message}`.slice(0, MAX_DETAIL), {
    channel: channelId,
    channelErrorCode: channelCode,
    declineCode: code,
  });
}

/** The answer to a charge or payout, except `unavailable` (nothing was sent: the caller routes on). */
export function resultOfAnswer(
  channelId: string,
  what: 'charge' | 'payout',
  answer: Exclude<ChargeOutcome | PayoutOutcome, { status: 'unavailable' }>,
): OrderResult {
  switch (answer.status) {
    case 'succeeded':
      return { kind: 'done', channelOrderNo: answer.channelOrderNo, feeMinor: answer.feeMinor };
    case 'pending':
      return {
        kind: 'open',
        outcome: 'pending',
        channelOrderNo: answer.channelOrderNo,
        payerActionUrl: answer.payerActionUrl,
        detail: 'accepted; the result comes later',
      };
    case 'declined':
      return {
        kind: 'refused',
        error: declinedError(channelId, what, answer.code, answer.message, answer.channelCode),
      };
    case 'unknown':
      return {
        kind: 'open',
        outcome: 'unknown',
        channelOrderNo: null,
        payerActionUrl: null,
        detail: `${answer.reason}: ${answer.detail}`.slice(0, MAX_DETAIL),
      };
  }
}

/**
 * What an order query says of an open order. A query that is not answered (unknown, unavailable, a
 * refusal of the query itself) leaves the order as it was: open, asked again later. An order the channel
 * does not have was never received (nothing happened): refused.
 */
export function resultOfQuery(
  channelId: string,
  what: 'charge' | 'payout',
  awaiting: AwaitingChannel,
  answer: OrderQueryOutcome,
): OrderResult {
  const stillOpen = (detail: string, channelOrderNo = awaiting.channelOrderNo): OrderResult => ({
    kind: 'open',
    outcome: awaiting.outcome,
    channelOrderNo,
    payerActionUrl: awaiting.payerActionUrl,
    detail: detail.slice(0, MAX_DETAIL),
  });
  if (answer.status === 'declined' && answer.code === 'order_not_found')
    return {
      kind: 'refused',
      error: new DomainError('channel_declined', `${channelId} has no such ${what}: nothing was taken`, {
        channel: channelId,
        channelErrorCode: answer.channelCode,
        declineCode: answer.code,
      }),
    };
  if (answer.status !== 'succeeded') return stillOpen(`order query ${answer.status}`);
  const order = answer.order;
  switch (order.state) {
    case 'succeeded':
      return { kind: 'done', channelOrderNo: order.channelOrderNo, feeMinor: order.feeMinor };
    case 'pending':
      return stillOpen('the channel has the order pending', order.channelOrderNo);
    case 'failed':
    case 'closed':
    case 'cancelled':
      return {
        kind: 'refused',
        error: declinedError(
          channelId,
          what,
          order.state,
          `the order is ${order.state}`,
          order.failureCode ?? order.state.toUpperCase(),
        ),
      };
  }
}

/** An open result as recorded: with the count of queries made and when the next one is due. */
export function awaitingOf(
  channelId: string,
  open: Extract<OrderResult, { kind: 'open' }>,
  queries: number,
  occurredAt: string,
): AwaitingChannel {
  return {
    channel: channelId,
    outcome: open.outcome,
    channelOrderNo: open.channelOrderNo,
    payerActionUrl: open.payerActionUrl,
    detail: open.detail,
    queries,
    nextQueryAt: nextQueryAt(occurredAt, queries),
  };
}

/** Asks the channel for an open order (our order number). */
export function queryOpenOrder(
  gateway: ChannelGateway,
  what: 'charge' | 'payout',
  orderNo: string,
  awaiting: AwaitingChannel,
): Promise<OrderResult> {
  return gateway
    .call(awaiting.channel, (port, options) => port.queryOrder(orderNo, options))
    .then((answer) => resultOfQuery(awaiting.channel, what, awaiting, answer));
}

/**
 * Routes a charge or payout among `onlyChannels` (those holding the card's contract; null: any), leaving
 * out the channels already tried. Contracts at no channel of ours are refused `unknown_channel`. A decision that chooses nothing is refused `channel_unavailable`, with
 * the router's reason and each channel's standing, so the client sees why.
 */
export function routeOrRefuse(
  gateway: ChannelGateway,
  request: RoutingRequest,
  onlyChannels: readonly string[] | null,
  tried: readonly string[] = [],
): RoutingDecision {
  const known = (onlyChannels ?? gateway.channelIds).filter((id) => gateway.port(id) !== undefined);
  if (known.length === 0)
    throw new DomainError('unknown_channel', `none of the channels ${onlyChannels?.join(', ')} is ours`, {
      channels: onlyChannels?.join(', ') ?? '',
    });
  const among = known.filter((id) => !tried.includes(id));
  const decision = gateway.route(request, among);
  if (decision.chosen === null)
    throw new DomainError('channel_unavailable', `no channel can take this ${request.operation} now`, {
      reason: decision.reason,
      candidates: decision.candidates
        .map((c) => `${c.channelId}: ${c.standing === 'excluded' ? c.excludedBecause : c.standing}`)
        .join(', '),
      tried: tried.join(', '),
    });
  return decision;
}

import type { ChannelProfile } from '../../src/domain/channels/channel-profile.js';
import { feeMinor } from '../../src/domain/channels/fee-schedule.js';
import type { Money } from '../../src/domain/money/money.js';
import type {
  ChannelNotification,
  ChannelOrder,
  ChannelPort,
  ChannelRefund,
  ChargeOutcome,
  ChargeRequest,
  Declined,
  OrderQueryOutcome,
  PayoutOutcome,
  PayoutRequest,
  RefundOutcome,
  RefundQueryOutcome,
  RefundRequest,
} from '../../src/ports/channel-port.js';
import type { FaultCounts } from './fault-counts.js';
import type { Prng } from './prng.js';

/** Percent chances of each way a call goes wrong (the rest succeed). */
export interface PeerFaultRates {
  /** Nothing sent or accepted (safe to route elsewhere). */
  readonly unavailablePercent: number;
  /** A timeout before the channel saw the order: `unknown`, nothing happened. */
  readonly lostPercent: number;
  /** A timeout after the channel did it: `unknown`, the order succeeded. */
  readonly timeoutAfterPercent: number;
  /** Accepted, the result comes later (a later query tells it). */
  readonly pendingPercent: number;
  /** Refused by the cardholder's bank. */
  readonly declinePercent: number;
}

interface PeerOrder {
  readonly order: ChannelOrder;
  /** Resolved (succeeded) on the first query at or after this step; failed instead when `failsLater`. */
  readonly resolvesAtStep: number;
  readonly failsLater: boolean;
  /** Where the result is to be posted (an asynchronous result's callback); null: no notice wanted. */
  readonly notifyUrl: string | null;
}

/** Most callbacks waiting to be delivered: beyond it the oldest is dropped (a lost callback; the poller's query finds the result). */
const MAX_OUTBOX = 64;

/**
 * A payment channel as the ledger meets it (the channel is not storage, so a simulated peer is fair):
 * charges and payouts answered at once, later, never (timeouts whose outcome the ledger cannot tell), or
 * refused, every draw from the simulation's seeded generator. Orders are idempotent by order number, as
 * real channels are: asking again returns the order as it stands. The peer outlives the ledger's crashes
 * (it is another system), and it keeps the truth of what it charged and paid out, for the money checks.
 */
export class PeerChannel implements ChannelPort {
  readonly channelId: string;
  readonly merchantId = 'sim-merchant';
  readonly #orders = new Map<string, PeerOrder>();
  readonly #refunds = new Map<string, ChannelRefund>();
  /** Callbacks owed to the ledger, delivered in any order, some more than once. */
  readonly #outbox: ChannelNotification[] = [];
  #serial = 0;
  #notices = 0;

  constructor(
    readonly profile: ChannelProfile,
    private readonly prng: Prng,
    private readonly rates: () => PeerFaultRates,
    private readonly step: () => number,
    private readonly faults: FaultCounts,
  ) {
    this.channelId = profile.channelId;
  }

  /** What the channel holds as done: charged (money in) and paid out (money out), minor units. */
  settledMinor(): { chargedMinor: bigint; paidOutMinor: bigint; refundedMinor: bigint } {
    let chargedMinor = 0n;
    let paidOutMinor = 0n;
    let refundedMinor = 0n;
    for (const { order } of this.#orders.values()) {
      if (order.state !== 'succeeded') continue;
      if (order.kind === 'charge') chargedMinor += order.amount.amountMinor;
      else paidOutMinor += order.amount.amountMinor;
      refundedMinor += order.refundedMinor;
    }
    return { chargedMinor, paidOutMinor, refundedMinor };
  }

  /** The channel's own time passes: pending orders whose moment has come finish, and their callbacks are queued. */
  tick(): void {
    for (const [orderNo, held] of this.#orders) {
      if (held.order.state === 'pending') this.settle(orderNo, held);
    }
  }

  /**
   * One callback for the ledger, picked at random among those owed (reordered), and sometimes left owed
   * to be sent again (duplicated, as channels resend until acknowledged); undefined when none is owed.
   */
  nextDelivery(): ChannelNotification | undefined {
    if (this.#outbox.length === 0) return undefined;
    const index = this.prng.below(this.#outbox.length);
    const notice = this.#outbox[index]!;
    if (index !== 0) this.faults.count('callback_reordered');
    if (this.prng.chance(30)) this.faults.count('callback_duplicated');
    else this.#outbox.splice(index, 1);
    return notice;
  }

  /** Callbacks still owed (the drain delivers them all). */
  get owed(): number {
    return this.#outbox.length;
  }

  private queueNotice(order: ChannelOrder): void {
    this.#notices += 1;
    if (this.#outbox.length >= MAX_OUTBOX) {
      this.#outbox.shift();
      this.faults.count('callback_lost');
    }
    this.#outbox.push({
      notificationId: `${this.channelId}-n${this.#notices}`,
      kind: 'payment',
      orderNo: order.orderNo,
      refundNo: null,
      channelOrderNo: order.channelOrderNo,
      state: order.state,
      amount: order.amount,
      feeMinor: order.feeMinor,
      sequence: this.#notices,
      channelTime: order.channelTime,
    });
  }

  refund(request: RefundRequest): Promise<RefundOutcome> {
    const known = this.#refunds.get(request.refundNo);
    if (known)
      return Promise.resolve({
        status: 'succeeded',
        channelRefundNo: known.channelRefundNo,
        channelTime: known.channelTime,
      });
    const held = this.#orders.get(request.orderNo);
    if (!held || held.order.state !== 'succeeded') return Promise.resolve(this.declined('order_not_found'));
    if (held.order.refundedMinor + request.amount.amountMinor > held.order.amount.amountMinor)
      return Promise.resolve(this.declined('refund_exceeds_payment'));
    const rates = this.rates();
    if (this.prng.chance(rates.unavailablePercent)) {
      this.faults.count('channel_refund_unavailable');
      return Promise.resolve({ status: 'unavailable', reason: 'outage', detail: 'simulated: the channel is down' });
    }
    const lost = this.prng.chance(rates.lostPercent);
    this.#serial += 1;
    const refund: ChannelRefund = {
      refundNo: request.refundNo,
      orderNo: request.orderNo,
      channelRefundNo: `${this.channelId}-rf${this.#serial}`,
      state: 'succeeded',
      amount: request.amount,
      channelTime: '2026-01-01T00:00:00.000Z',
    };
    this.#refunds.set(request.refundNo, refund);
    this.#orders.set(request.orderNo, {
      ...held,
      order: { ...held.order, refundedMinor: held.order.refundedMinor + request.amount.amountMinor },
    });
    if (lost) {
      this.faults.count('channel_refund_timeout_after');
      return Promise.resolve({
        status: 'unknown',
        reason: 'timeout',
        detail: 'simulated: refunded, the answer was lost',
      });
    }
    return Promise.resolve({
      status: 'succeeded',
      channelRefundNo: refund.channelRefundNo,
      channelTime: refund.channelTime,
    });
  }

  queryRefund(refundNo: string): Promise<RefundQueryOutcome> {
    const refund = this.#refunds.get(refundNo);
    return Promise.resolve(refund ? { status: 'succeeded', refund } : this.declined('order_not_found'));
  }

  charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const offer = this.profile.capabilities.charges.find((o) => o.method === request.instrument.method);
    if (!offer) return Promise.resolve(this.declined('not_supported'));
    return Promise.resolve(
      this.order(
        'charge',
        request.orderNo,
        request.amount,
        feeMinor(offer.fee, request.amount.amountMinor),
        request.notifyUrl,
      ),
    );
  }

  payout(request: PayoutRequest): Promise<PayoutOutcome> {
    const payout = this.profile.capabilities.payout;
    if (!payout) return Promise.resolve(this.declined('not_supported'));
    return Promise.resolve(
      this.order('payout', request.orderNo, request.amount, feeMinor(payout.fee, request.amount.amountMinor), null),
    );
  }

  queryOrder(orderNo: string): Promise<OrderQueryOutcome> {
    if (this.prng.chance(this.rates().lostPercent)) {
      this.faults.count('channel_query_timeout');
      return Promise.resolve({ status: 'unknown', reason: 'timeout', detail: 'simulated: the query timed out' });
    }
    const held = this.#orders.get(orderNo);
    if (!held) return Promise.resolve(this.declined('order_not_found'));
    return Promise.resolve({ status: 'succeeded', order: this.settle(orderNo, held).order });
  }

  private order(
    kind: 'charge' | 'payout',
    orderNo: string,
    amount: Money,
    feeMinor: bigint,
    notifyUrl: string | null,
  ): ChargeOutcome {
    const known = this.#orders.get(orderNo);
    if (known) {
      // Asked again under the same order number: the first order's outcome, never a second charge.
      const { order } = this.settle(orderNo, known);
      if (order.state === 'succeeded') return this.completed(order);
      if (order.state === 'pending')
        return { status: 'pending', channelOrderNo: order.channelOrderNo, payerActionUrl: null };
      return this.declined('insufficient_funds');
    }
    const rates = this.rates();
    const fault = this.prng.weighted<string>([
      [rates.unavailablePercent, 'unavailable'],
      [rates.lostPercent, 'lost'],
      [rates.timeoutAfterPercent, 'timeout-after'],
      [rates.pendingPercent, 'pending'],
      [rates.declinePercent, 'declined'],
      [
        Math.max(
          1,
          100 -
            rates.unavailablePercent -
            rates.lostPercent -
            rates.timeoutAfterPercent -
            rates.pendingPercent -
            rates.declinePercent,
        ),
        'none',
      ],
    ]);
    if (fault !== 'none') this.faults.count(`channel_${fault}`);
    if (fault === 'unavailable')
      return { status: 'unavailable', reason: 'outage', detail: 'simulated: the channel is down' };
    if (fault === 'lost') return { status: 'unknown', reason: 'timeout', detail: 'simulated: the request was lost' };
    this.#serial += 1;
    const state = fault === 'declined' ? 'failed' : fault === 'pending' ? 'pending' : 'succeeded';
    const order: ChannelOrder = {
      orderNo,
      channelOrderNo: `${this.channelId}-${this.#serial}`,
      kind,
      state,
      amount,
      feeMinor,
      refundedMinor: 0n,
      channelTime: '2026-01-01T00:00:00.000Z',
      failureCode: state === 'failed' ? 'insufficient_funds' : null,
    };
    this.#orders.set(orderNo, {
      order,
      resolvesAtStep: this.step() + 1 + this.prng.below(6),
      failsLater: this.prng.chance(20),
      notifyUrl,
    });
    if (fault === 'timeout-after')
      return { status: 'unknown', reason: 'timeout', detail: 'simulated: done, the answer was lost' };
    if (state === 'failed') return this.declined('insufficient_funds');
    if (state === 'pending') return { status: 'pending', channelOrderNo: order.channelOrderNo, payerActionUrl: null };
    return this.completed(order);
  }

  /** A pending order finishes once its step has come (seeded when it was accepted). */
  private settle(orderNo: string, held: PeerOrder): PeerOrder {
    if (held.order.state !== 'pending' || this.step() < held.resolvesAtStep) return held;
    const settled: PeerOrder = {
      ...held,
      order: {
        ...held.order,
        state: held.failsLater ? 'failed' : 'succeeded',
        failureCode: held.failsLater ? 'insufficient_funds' : null,
      },
    };
    this.#orders.set(orderNo, settled);
    if (settled.notifyUrl !== null) this.queueNotice(settled.order);
    return settled;
  }

  private completed(order: ChannelOrder) {
    return {
      status: 'succeeded' as const,
      channelOrderNo: order.channelOrderNo,
      feeMinor: order.feeMinor,
      channelTime: order.channelTime,
    };
  }

  private declined(code: Declined['code']): Declined {
    return { status: 'declined', code, message: `simulated: ${code}`, channelCode: code, channelMessage: code };
  }

  // What the simulation never asks of a channel: a call would be a defect of the simulation itself.
  readonly cancel = unsupported('cancellations (the simulation refunds instead)');
  readonly balance = unsupported('balance queries');
  readonly statement = unsupported('statements');
  readonly verifyElements = unsupported('card bindings');
  readonly sign = unsupported('card bindings');
  readonly unsign = unsupported('card bindings');
  readonly contractStatus = unsupported('card bindings');
  readonly verifyNotification = unsupported('inbound notifications');
}

function unsupported(what: string): () => never {
  return () => {
    throw new Error(`the simulated peer takes no ${what}`);
  };
}

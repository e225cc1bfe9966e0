import type { ChannelProfile } from '../../src/domain/channels/channel-profile.js';
import { feeMinor } from '../../src/domain/channels/fee-schedule.js';
import type { Money } from '../../src/domain/money/money.js';
import type {
  ChannelOrder,
  ChannelPort,
  ChargeOutcome,
  ChargeRequest,
  Declined,
  OrderQueryOutcome,
  PayoutOutcome,
  PayoutRequest,
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
}

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
  #serial = 0;

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
  settledMinor(): { chargedMinor: bigint; paidOutMinor: bigint } {
    let chargedMinor = 0n;
    let paidOutMinor = 0n;
    for (const { order } of this.#orders.values()) {
      if (order.state !== 'succeeded') continue;
      if (order.kind === 'charge') chargedMinor += order.amount.amountMinor;
      else paidOutMinor += order.amount.amountMinor;
    }
    return { chargedMinor, paidOutMinor };
  }

  charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const offer = this.profile.capabilities.charges.find((o) => o.method === request.instrument.method);
    if (!offer) return Promise.resolve(this.declined('not_supported'));
    return Promise.resolve(
      this.order('charge', request.orderNo, request.amount, feeMinor(offer.fee, request.amount.amountMinor)),
    );
  }

  payout(request: PayoutRequest): Promise<PayoutOutcome> {
    const payout = this.profile.capabilities.payout;
    if (!payout) return Promise.resolve(this.declined('not_supported'));
    return Promise.resolve(
      this.order('payout', request.orderNo, request.amount, feeMinor(payout.fee, request.amount.amountMinor)),
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

  private order(kind: 'charge' | 'payout', orderNo: string, amount: Money, feeMinor: bigint): ChargeOutcome {
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

  refund(): never {
    throw new Error('the simulated peer takes no refunds (recharges are not refunded in the simulation)');
  }
  cancel(): never {
    throw new Error('the simulated peer takes no cancellations');
  }
  queryRefund(): never {
    throw new Error('the simulated peer takes no refund queries');
  }
  balance(): never {
    throw new Error('the simulated peer has no balance query');
  }
  statement(): never {
    throw new Error('the simulated peer has no statements');
  }
  verifyElements(): never {
    throw new Error('the simulated peer binds no cards');
  }
  sign(): never {
    throw new Error('the simulated peer binds no cards');
  }
  unsign(): never {
    throw new Error('the simulated peer binds no cards');
  }
  contractStatus(): never {
    throw new Error('the simulated peer binds no cards');
  }
  verifyNotification(): never {
    throw new Error('the simulated peer sends no notifications');
  }
}

import { createHash } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import type {
  ChannelChargeOutcome,
  ChannelChargeRequest,
  ChannelPayoutOutcome,
  ChannelPayoutRequest,
  PaymentChannel,
} from '../../ports/payment-channel.js';

/**
 * A simulated bank for local use, tests and benchmarks: answers at once, charges a fee of `feeRatePpm`
 * parts per million of the amount (rounded down to a minor unit), and declines amounts (charges and payouts) ending in minor
 * units 99 so refusals can be exercised. Deterministic per order number, like a real channel's
 * idempotent order lookup.
 */
export class SimulatedBank implements PaymentChannel {
  constructor(
    readonly id: string,
    private readonly clock: Clock,
    private readonly feeRatePpm = 0n,
  ) {}

  async charge(request: ChannelChargeRequest): Promise<ChannelChargeOutcome> {
    return this.answer(request.orderNo, request.amount.amountMinor);
  }

  async payout(request: ChannelPayoutRequest): Promise<ChannelPayoutOutcome> {
    return this.answer(request.orderNo, request.amount.amountMinor);
  }

  private answer(orderNo: string, amountMinor: bigint): ChannelChargeOutcome {
    if (amountMinor % 100n === 99n) {
      return {
        status: 'declined',
        channelErrorCode: 'SIM_DECLINED',
        channelErrorMessage: 'declined by the simulated bank',
      };
    }
    const channelOrderNo = `${this.id.toUpperCase().replace(/[^A-Z0-9]/g, '')}${createHash('sha256').update(orderNo).digest('hex').slice(0, 20)}`;
    const feeMinor = (amountMinor * this.feeRatePpm) / 1_000_000n;
    return { status: 'succeeded', channelOrderNo, feeMinor, channelTime: this.clock.now().toISO()! };
  }
}

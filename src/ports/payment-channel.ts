import type { Money } from '../domain/money/money.js';

/**
 * A payment channel (a bank, a card network, a third-party wallet) that moves money between an external
 * account and ours. Channels are idempotent by our order number: asking twice for the same order returns
 * the first outcome, which is what makes a retried recharge safe.
 */
export interface ChannelChargeRequest {
  /** Our order number, unique per charge: the recharge id. */
  readonly orderNo: string;
  readonly amount: Money;
  /** Opaque reference to the payer's external instrument (bound card token); never a card number. */
  readonly payerReference: string | null;
}

export type ChannelChargeOutcome =
  | {
      readonly status: 'succeeded';
      readonly channelOrderNo: string;
      readonly feeMinor: bigint;
      readonly channelTime: string;
    }
  | { readonly status: 'declined'; readonly channelErrorCode: string; readonly channelErrorMessage: string };

export interface ChannelPayoutRequest {
  /** Our order number, unique per payout: the withdrawal id. */
  readonly orderNo: string;
  readonly amount: Money;
  /** Token of the payee's bound card at the channel; never a card number. */
  readonly payeeReference: string;
}

export type ChannelPayoutOutcome = ChannelChargeOutcome;

export interface PaymentChannel {
  readonly id: string;
  /** Pull money from the payer's external instrument to us (recharge). */
  charge(request: ChannelChargeRequest): Promise<ChannelChargeOutcome>;
  /** Push money from us to the payee's external instrument (withdrawal). */
  payout(request: ChannelPayoutRequest): Promise<ChannelPayoutOutcome>;
}

/** The channel did not answer (timeout, connection refused): the outcome is unknown, ask again later. */
export class ChannelUnavailableError extends Error {
  override readonly name = 'ChannelUnavailableError';
}

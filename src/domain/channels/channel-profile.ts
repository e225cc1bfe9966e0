import type { CurrencyCode } from '../money/currency.js';
import { assertFeeSchedule, type FeeSchedule } from './fee-schedule.js';

/**
 * What a channel can do, what it charges and how much it takes, as data: the routing table is a list of
 * these, versioned, so a decision can be replayed against the exact table it was made with.
 */

/** How the payer pays at the channel. */
export type PaymentMethod =
  /** A bound card charged by its contract number or token, answered at once. */
  | 'quick_pay'
  /** The payer is sent to the bank's page (redirect URL); the result comes later. */
  | 'online_banking'
  /** A wallet platform (WeChat Pay / Alipay-like): the result comes later by a signed callback. */
  | 'platform_pay';

export type CardKind = 'debit' | 'credit';

/** What the payer chose at checkout, e.g. "ICBC credit card" is quick pay, bank ICBC, credit. */
export type PayerChoice =
  | { readonly method: 'quick_pay'; readonly bankCode: string; readonly cardKind: CardKind }
  | { readonly method: 'online_banking'; readonly bankCode: string }
  | { readonly method: 'platform_pay'; readonly platform: string };

/** Which operation a route is wanted for: charges and payouts are routed, refunds go back where the money came from. */
export type RoutedOperation = 'charge' | 'payout';

/** One way a channel accepts charges, with the banks (or platforms) it covers. */
export interface ChargeOffer {
  readonly method: PaymentMethod;
  /** Bank codes (quick pay, online banking) or platform names (platform pay) this offer covers. */
  readonly covers: readonly string[];
  /** For quick pay: the card kinds accepted; ignored otherwise. */
  readonly cardKinds: readonly CardKind[];
  readonly fee: FeeSchedule;
}

/** How a channel signs a bind-card contract (issue 11 builds the flows on these). */
export type ContractSigning =
  /** Verify the four elements and send the SMS code, then sign with the code (most banks). */
  | 'verify_then_sign'
  /** Signs at the verify step and sends no code (UnionPay-like): we keep a pre-binding and send our own code. */
  | 'sign_at_verify';

export interface ChannelCapabilities {
  readonly charges: readonly ChargeOffer[];
  /** Payouts to a bound card, with their fee; null when the channel pays nothing out. */
  readonly payout: { readonly fee: FeeSchedule } | null;
  readonly refund: boolean;
  /** The channel distinguishes a same-day void of an unsettled charge from a refund. */
  readonly cancel: boolean;
  readonly orderQuery: boolean;
  readonly refundQuery: boolean;
  readonly balanceQuery: boolean;
  readonly statements: boolean;
  /** Sends an asynchronous settlement notice after a synchronous answer (card networks). */
  readonly settlementNotice: boolean;
  readonly contracts: ContractSigning | null;
}

export interface ChannelLimits {
  readonly perTransactionMinMinor: bigint;
  readonly perTransactionMaxMinor: bigint;
  /** Total of one accounting day at this channel (charges and payouts counted separately by the caller). */
  readonly dailyMaxMinor: bigint;
}

export interface ChannelProfile {
  readonly channelId: string;
  readonly currencies: readonly CurrencyCode[];
  readonly capabilities: ChannelCapabilities;
  readonly limits: ChannelLimits;
}

export function assertChannelProfile(profile: ChannelProfile): void {
  if (!/^[a-z][a-z0-9-]{1,31}$/.test(profile.channelId))
    throw new RangeError(`channel id "${profile.channelId}" is not 2-32 lowercase letters, digits or dashes`);
  const { perTransactionMinMinor, perTransactionMaxMinor, dailyMaxMinor } = profile.limits;
  if (
    perTransactionMinMinor < 1n ||
    perTransactionMaxMinor < perTransactionMinMinor ||
    dailyMaxMinor < perTransactionMaxMinor
  )
    throw new RangeError(`channel ${profile.channelId}: limits must satisfy 1 <= min <= max <= daily`);
  for (const offer of profile.capabilities.charges) assertFeeSchedule(offer.fee);
  if (profile.capabilities.payout) assertFeeSchedule(profile.capabilities.payout.fee);
}

function choiceKey(choice: PayerChoice): string {
  return choice.method === 'platform_pay' ? choice.platform : choice.bankCode;
}

/** The channel's offer that serves this choice, if any. */
export function chargeOfferFor(profile: ChannelProfile, choice: PayerChoice): ChargeOffer | null {
  return (
    profile.capabilities.charges.find(
      (offer) =>
        offer.method === choice.method &&
        offer.covers.includes(choiceKey(choice)) &&
        (choice.method !== 'quick_pay' || offer.cardKinds.includes(choice.cardKind)),
    ) ?? null
  );
}

/** The fee schedule this channel applies to the operation, or null when it cannot do it for this choice. */
export function feeScheduleFor(
  profile: ChannelProfile,
  operation: RoutedOperation,
  choice: PayerChoice,
): FeeSchedule | null {
  if (operation === 'payout') {
    // A payout goes to a bound card: the channel must reach the card's bank by quick pay to pay it.
    return profile.capabilities.payout && chargeOfferFor(profile, choice) ? profile.capabilities.payout.fee : null;
  }
  return chargeOfferFor(profile, choice)?.fee ?? null;
}

import type { ChannelProfile } from '../domain/channels/channel-profile.js';
import type { CurrencyCode } from '../domain/money/currency.js';
import type { Money } from '../domain/money/money.js';
import type { SensitiveText } from '../domain/shared/sensitive-text.js';

/**
 * A payment channel (bank, card network, wallet platform) as the ledger sees it: what it can do (its
 * profile, the routing table's data) and every call it answers. Each call takes an explicit timeout, and
 * each answers with a typed outcome instead of throwing:
 *
 * - `succeeded`: done (for a query: the query answered; the result is inside);
 * - `pending`: accepted, the result comes later (callback, settlement notice, a later query);
 * - `declined`: refused, with our code and the channel's own; nothing happened at the channel;
 * - `unknown`: it may or may not have happened (timeout, a system error, an answer we cannot read):
 *   never a failure; ask the channel (order query) before doing anything else;
 * - `unavailable`: nothing was sent, or the channel says it accepted nothing (connection refused, outage):
 *   safe to retry or to route elsewhere.
 *
 * Every order is idempotent at the channel by our order number (refund number, request number): asking
 * again returns the first outcome. No card number or ID number is in clear in any value a call returns.
 */
export interface CallOptions {
  readonly timeoutMs: number;
}

/** Our codes for what channels refuse; each adapter maps its channel's own codes to these in a table. */
export type ChannelDeclineCode =
  | 'insufficient_funds'
  | 'card_invalid'
  | 'card_restricted'
  | 'limit_exceeded'
  | 'elements_mismatch'
  | 'verification_code_invalid'
  | 'verification_code_expired'
  | 'contract_invalid'
  | 'order_conflict'
  | 'order_not_found'
  | 'order_closed'
  | 'refund_exceeds_payment'
  | 'cancel_not_allowed'
  | 'statement_not_ready'
  | 'not_supported'
  /** The channel refused the request itself (malformed, badly signed): our defect, nothing happened. */
  | 'request_rejected';

export interface Declined {
  readonly status: 'declined';
  readonly code: ChannelDeclineCode;
  readonly message: string;
  readonly channelCode: string;
  readonly channelMessage: string;
}

export interface Unknown {
  readonly status: 'unknown';
  readonly reason: 'timeout' | 'system_error' | 'bad_answer';
  readonly detail: string;
}

export interface Unavailable {
  readonly status: 'unavailable';
  readonly reason: 'connection_refused' | 'outage';
  readonly detail: string;
}

export type Outcome<Done, Later = never> =
  | ({ readonly status: 'succeeded' } & Done)
  | ([Later] extends [never] ? never : { readonly status: 'pending' } & Later)
  | Declined
  | Unknown
  | Unavailable;

// Charges ------------------------------------------------------------------------------------------

export type ChargeInstrument =
  /** A bound card: the contract number (or token) the channel returned at signing. */
  | { readonly method: 'quick_pay'; readonly contractNo: string }
  /** The payer is sent to the bank's page; back to `returnUrl` afterwards. */
  | { readonly method: 'online_banking'; readonly bankCode: string; readonly returnUrl: string }
  | { readonly method: 'platform_pay'; readonly platform: string };

export interface ChargeRequest {
  readonly orderNo: string;
  readonly amount: Money;
  readonly instrument: ChargeInstrument;
  /** Where the channel posts its asynchronous result or settlement notice; null: no notice wanted. */
  readonly notifyUrl: string | null;
  readonly description: string;
}

export interface Completed {
  readonly channelOrderNo: string;
  readonly feeMinor: bigint;
  /** The channel's time of the result, UTC ISO-8601. */
  readonly channelTime: string;
}

export interface Accepted {
  readonly channelOrderNo: string;
  /** Online banking: the bank page to send the payer to; platform pay: the pay page or QR content. */
  readonly payerActionUrl: string | null;
}

export type ChargeOutcome = Outcome<Completed, Accepted>;

export interface PayoutRequest {
  readonly orderNo: string;
  readonly amount: Money;
  /** The payee's bound card at the channel. */
  readonly contractNo: string;
}

export type PayoutOutcome = Outcome<Completed, Accepted>;

export interface RefundRequest {
  readonly refundNo: string;
  /** The charge's order number. */
  readonly orderNo: string;
  readonly amount: Money;
  readonly notifyUrl: string | null;
}

export interface RefundDone {
  readonly channelRefundNo: string;
  readonly channelTime: string;
}

export type RefundOutcome = Outcome<RefundDone, { readonly channelRefundNo: string }>;

/** A same-day void of an unsettled charge (where the channel tells it from a refund): always the full amount. */
export interface CancelRequest {
  readonly orderNo: string;
}

export type CancelOutcome = Outcome<{ readonly channelTime: string }>;

// Queries ------------------------------------------------------------------------------------------

export type ChannelOrderState = 'pending' | 'succeeded' | 'failed' | 'closed' | 'cancelled';

export interface ChannelOrder {
  readonly orderNo: string;
  readonly channelOrderNo: string;
  readonly kind: 'charge' | 'payout';
  readonly state: ChannelOrderState;
  readonly amount: Money;
  readonly feeMinor: bigint;
  /** Total refunded so far, minor units. */
  readonly refundedMinor: bigint;
  readonly channelTime: string;
  /** The channel's code when it failed. */
  readonly failureCode: string | null;
}

export type OrderQueryOutcome = Outcome<{ readonly order: ChannelOrder }>;

export interface ChannelRefund {
  readonly refundNo: string;
  readonly orderNo: string;
  readonly channelRefundNo: string;
  readonly state: 'pending' | 'succeeded' | 'failed';
  readonly amount: Money;
  readonly channelTime: string;
}

export type RefundQueryOutcome = Outcome<{ readonly refund: ChannelRefund }>;

export type BalanceOutcome = Outcome<{ readonly available: Money; readonly asOf: string }>;

/** One accounting day's statement, as the channel wrote it: normalising it is reconciliation's work. */
export interface Statement {
  readonly accountingDate: string;
  /** The format's name and version, e.g. `sim-statement-csv/1`. */
  readonly format: string;
  readonly fileName: string;
  readonly content: string;
}

export type StatementOutcome = Outcome<{ readonly statement: Statement }>;

// Bind-card contracts -----------------------------------------------------------------------------

/** The four elements (and, for credit cards, expiry and CVN2), never written anywhere in clear. */
export interface CardholderElements {
  readonly cardNumber: SensitiveText;
  readonly holderName: SensitiveText;
  readonly idNumber: SensitiveText;
  /** The phone number reserved at the bank. */
  readonly phone: SensitiveText;
  /** MMYY, credit cards only. */
  readonly expiry: SensitiveText | null;
  readonly cvn2: SensitiveText | null;
}

export interface VerifyElementsRequest {
  /** Our request number for this binding attempt: idempotent at the channel. */
  readonly requestNo: string;
  readonly elements: CardholderElements;
}

export type VerifyElementsOutcome = Outcome<
  /** verify_then_sign: the bank sent its SMS code; sign with it. */
  | { readonly step: 'code_sent'; readonly verificationId: string; readonly maskedPhone: string }
  /** sign_at_verify: signed at once (pre-bound until our own code is confirmed). */
  | { readonly step: 'signed'; readonly contractNo: string; readonly maskedCard: string }
>;

export interface SignRequest {
  readonly requestNo: string;
  readonly verificationId: string;
  readonly code: SensitiveText;
}

export type SignOutcome = Outcome<{ readonly contractNo: string; readonly maskedCard: string }>;

export type UnsignOutcome = Outcome<{ readonly channelTime: string }>;

export type ContractStatusOutcome = Outcome<{
  readonly state: 'active' | 'terminated';
  readonly maskedCard: string;
}>;

// Notifications -----------------------------------------------------------------------------------

/** A channel's asynchronous message to our notify endpoint, once its signature has been verified. */
export interface ChannelNotification {
  /** The channel's id of this message: duplicates carry the same one. */
  readonly notificationId: string;
  readonly kind: 'payment' | 'refund' | 'settlement';
  readonly orderNo: string;
  readonly refundNo: string | null;
  readonly channelOrderNo: string;
  readonly state: ChannelOrderState;
  readonly amount: Money;
  readonly feeMinor: bigint;
  /** Increases per order at the channel: a message older than one already applied is stale. */
  readonly sequence: number;
  readonly channelTime: string;
}

export interface InboundHttpMessage {
  /** The path the message was posted to (our notify endpoint's), part of what is signed. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: Buffer;
}

export type NotificationCheck =
  | {
      readonly ok: true;
      readonly notification: ChannelNotification;
      /** What the channel wants back to stop resending (its own format). */
      readonly acknowledgement: { readonly statusCode: number; readonly body: string; readonly contentType: string };
    }
  | { readonly ok: false; readonly reason: 'bad_signature' | 'stale_timestamp' | 'malformed' | 'wrong_channel' };

export interface ChannelPort {
  readonly channelId: string;
  /** Capabilities, fees and limits: a call outside the capabilities is declined `not_supported`, unsent. */
  readonly profile: ChannelProfile;
  /** Our merchant number at the channel: what its statements and answers name us by. */
  readonly merchantId: string;
  charge(request: ChargeRequest, options: CallOptions): Promise<ChargeOutcome>;
  payout(request: PayoutRequest, options: CallOptions): Promise<PayoutOutcome>;
  refund(request: RefundRequest, options: CallOptions): Promise<RefundOutcome>;
  cancel(request: CancelRequest, options: CallOptions): Promise<CancelOutcome>;
  queryOrder(orderNo: string, options: CallOptions): Promise<OrderQueryOutcome>;
  queryRefund(refundNo: string, options: CallOptions): Promise<RefundQueryOutcome>;
  balance(currency: CurrencyCode, options: CallOptions): Promise<BalanceOutcome>;
  statement(accountingDate: string, options: CallOptions): Promise<StatementOutcome>;
  verifyElements(request: VerifyElementsRequest, options: CallOptions): Promise<VerifyElementsOutcome>;
  sign(request: SignRequest, options: CallOptions): Promise<SignOutcome>;
  unsign(contractNo: string, options: CallOptions): Promise<UnsignOutcome>;
  contractStatus(contractNo: string, options: CallOptions): Promise<ContractStatusOutcome>;
  /** Verifies a message posted to our notify endpoint for this channel (signature, freshness, shape). */
  verifyNotification(message: InboundHttpMessage, nowMs: number): NotificationCheck;
}

/**
 * For a channel's health and breaker: the channel failing (no answer, busy, a system error), as opposed
 * to the channel answering, even with a refusal (insufficient funds is the channel working).
 */
export function isChannelFailure(outcome: { readonly status: Outcome<object>['status'] | 'pending' }): boolean {
  return outcome.status === 'unknown' || outcome.status === 'unavailable';
}

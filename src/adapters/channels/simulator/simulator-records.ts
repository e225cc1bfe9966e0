import type { TradeState } from '../wire/wire-messages.js';

/**
 * What a simulated channel keeps: its own orders, refunds, contracts, SMS and callback deliveries. It holds
 * its cardholders' data as an issuer does, but its records keep only masked card numbers.
 */
export interface OrderRecord {
  readonly orderNo: string;
  readonly channelOrderNo: string;
  readonly kind: 'PAY' | 'PAYOUT';
  readonly method: 'QUICK' | 'EBANK' | 'WALLET' | 'PAYOUT';
  readonly amountMinor: bigint;
  readonly currency: string;
  /** The request as sent: a second request with the same order number must match it. */
  readonly requestKey: string;
  readonly createdAtMs: number;
  readonly notifyUrl: string | null;
  /** The cardholder charged or paid (index in the configuration), null for async methods. */
  readonly cardholder: number | null;
  state: TradeState;
  feeMinor: bigint;
  completedAtMs: number | null;
  failCode: string | null;
  refundedMinor: bigint;
  settled: boolean;
  /** The last notice's sequence number for this order. */
  noticeSeq: number;
}

export interface RefundRecord {
  readonly refundNo: string;
  readonly orderNo: string;
  readonly channelRefundNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly requestKey: string;
  readonly createdAtMs: number;
  readonly notifyUrl: string | null;
  state: 'PROCESSING' | 'SUCCESS' | 'FAIL';
  completedAtMs: number | null;
}

export interface ContractRecord {
  readonly contractNo: string;
  readonly cardholder: number;
  readonly maskedCard: string;
  readonly signedAtMs: number;
  state: 'ACTIVE' | 'TERMINATED';
}

export interface VerificationRecord {
  readonly verificationId: string;
  readonly requestNo: string;
  readonly cardholder: number;
  readonly code: string;
  readonly expiresAtMs: number;
  attemptsLeft: number;
  contractNo: string | null;
}

/**
 * An SMS the simulator sent: the phone masked; the code in clear (the test reads it, as a payer would).
 * From a bank's bind-card verify: `channelId` is the bank and `verificationId` its verification; from the
 * SMS gateway: `channelId` is `sms-gateway` and `verificationId` our message id.
 */
export interface SmsMessage {
  readonly channelId: string;
  readonly verificationId: string;
  readonly maskedPhone: string;
  readonly code: string;
  readonly sentAtMs: number;
}

export interface CallbackAttempt {
  readonly notifyId: string;
  readonly orderNo: string;
  readonly seq: number;
  readonly attempt: number;
  readonly atMs: number;
  /** 'lost': dropped by failure injection, never sent. */
  readonly result: 'acknowledged' | 'refused' | 'failed' | 'lost';
  readonly statusCode: number | null;
}

export interface ChannelRecords {
  readonly orders: Map<string, OrderRecord>;
  readonly refunds: Map<string, RefundRecord>;
  readonly contracts: Map<string, ContractRecord>;
  readonly verifications: Map<string, VerificationRecord>;
  readonly callbacks: CallbackAttempt[];
  /** Answers already given to contract requests, by request number. */
  readonly contractAnswers: Map<string, { readonly requestKey: string; readonly answer: unknown }>;
  /** Requests seen per (operation, order number): the attempt number in a draw's purpose. */
  readonly attempts: Map<string, number>;
  /** Amounts of live (not failed or closed) orders by `${kind}:${day}`, for the daily limits. */
  readonly dailyUsedMinor: Map<string, bigint>;
  merchantBalanceMinor: bigint;
}

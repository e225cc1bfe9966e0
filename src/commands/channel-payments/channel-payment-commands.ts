import {
  channelPaymentDecider,
  type ExistingChannelPayment,
} from '../../domain/channel-payments/channel-payment-decider.js';
import type { StatementRecord } from '../../domain/reconciliation/statement-record.js';
import { parseRiskRules, type RiskRules } from '../../domain/risk/risk-rules.js';
import type { StepUpPolicy } from '../../domain/risk/step-up-events.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { SensitiveText } from '../../domain/shared/sensitive-text.js';
import type { ChannelNotification } from '../../ports/channel-port.js';
import type { EventStore } from '../../ports/event-store.js';
import type { ChannelGateway } from '../channels/channel-gateway.js';
import type { CommandContext } from '../command-context.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler } from '../stream-command-handler.js';
import {
  applyNotification,
  expireStepUp,
  queryChannelPayment,
  resendStepUpCode,
  verifyStepUpCode,
} from './channel-payment-later.js';
import {
  applyRefundNotification,
  cancelChannelPayment,
  driveChannelRefund,
  queryChannelRefund,
  refundChannelPayment,
  type ChannelRefundRequest,
} from './channel-refund-process.js';
import { applyStatementPayment, applyStatementRefund } from './channel-statement-results.js';
import { refundById, type ChannelRefundState } from '../../domain/channel-payments/channel-refund-rules.js';
import {
  channelPaymentStreamId,
  createChannelPayment,
  driveChannelPayment,
  type ChannelPaymentDeps,
  type ChannelPaymentRequest,
} from './channel-payment-process.js';

/**
 * The risk rules a service runs with unless given others (RISK_RULES_FILE, or the service's options): a
 * payer's single payment above 5,000.00 CNY asks for an SMS code, above 50,000.00 it is blocked; a payer
 * paying one merchant more than 60 times in 10 minutes, or more than 200,000.00 in a day, is asked for a
 * code; a payer's new device, and a merchant taking more than 600 channel payments a minute or
 * 10,000,000.00 a day, go to review (recorded, not stopped).
 *
 * Payment codes (docs/payment-codes.md) run the rules without `appliesTo` and their own: a step-up there
 * is the payer's payment password. A user paying by code more than 20 times in 10 minutes (a phone shows
 * one code a minute; a till does not scan one payer that often) must confirm. The per-merchant velocity
 * and the merchant's rules judge channel payments only: a code's payer is the platform's user, not a
 * merchant's customer, and a redemption reads no merchant history.
 */
export function defaultRiskRules(timeZone: string): RiskRules {
  return parseRiskRules({
    ruleVersion: 'risk-3',
    timeZone,
    rules: [
      {
        id: 'payer-txn-block',
        kind: 'amount_per_transaction',
        party: 'payer',
        currency: 'CNY',
        maxMinor: '5000000',
        action: 'block',
      },
      {
        id: 'payer-txn-step-up',
        kind: 'amount_per_transaction',
        party: 'payer',
        currency: 'CNY',
        maxMinor: '500000',
        action: 'step_up',
      },
      // A person does not pay one merchant 60 times in 10 minutes, nor 200,000.00 in a day, unasked.
      {
        id: 'payer-burst',
        kind: 'velocity',
        party: 'payer',
        maxCount: 60,
        windowMinutes: 10,
        action: 'step_up',
        appliesTo: ['channel_payment'],
      },
      {
        id: 'code-burst',
        kind: 'velocity',
        party: 'payer',
        maxCount: 20,
        windowMinutes: 10,
        action: 'step_up',
        appliesTo: ['payment_code'],
      },
      {
        id: 'payer-day',
        kind: 'amount_per_day',
        party: 'payer',
        currency: 'CNY',
        maxMinor: '20000000',
        action: 'step_up',
      },
      // A new device alone is common (a new phone): worth an operator's look, not the payer's trouble.
      { id: 'payer-new-device', kind: 'new_device', action: 'review' },
      {
        id: 'merchant-burst',
        kind: 'velocity',
        party: 'merchant',
        maxCount: 600,
        windowMinutes: 1,
        action: 'review',
        appliesTo: ['channel_payment'],
      },
      {
        id: 'merchant-day',
        kind: 'amount_per_day',
        party: 'merchant',
        currency: 'CNY',
        maxMinor: '1000000000',
        action: 'review',
        appliesTo: ['channel_payment'],
      },
    ],
  });
}

/** A code lives 5 minutes, the challenge 15; 5 wrong codes in all, 3 codes sent at most, 60 s apart. */
export const DEFAULT_STEP_UP_POLICY: StepUpPolicy = {
  codeTtlMs: 5 * 60_000,
  challengeTtlMs: 15 * 60_000,
  maxAttempts: 5,
  maxSends: 3,
  minResendIntervalMs: 60_000,
};

/**
 * What the channel payments are built from: the deps without their own stream handler (made here).
 * `accounts` must be the ledger's account handler (LedgerCommands'), so a payee's stream is decided in one place.
 */
export type ChannelPaymentSetup = Omit<ChannelPaymentDeps, 'channelPayments'> & { readonly eventStore: EventStore };

/** The channel payments' front door: every command on them, and reads of their state. */
export class ChannelPaymentCommands {
  private readonly deps: ChannelPaymentDeps;

  constructor(setup: ChannelPaymentSetup) {
    this.deps = {
      ...setup,
      channelPayments: new StreamCommandHandler(setup.eventStore, channelPaymentDecider, DEFAULT_HANDLER_LIMITS),
    };
  }

  get gateway(): ChannelGateway {
    return this.deps.gateway;
  }

  create(request: ChannelPaymentRequest, context: CommandContext) {
    return createChannelPayment(this.deps, request, context);
  }

  async get(paymentId: string): Promise<{ payment: ExistingChannelPayment; position: bigint }> {
    const { state, position } = await this.deps.channelPayments.load(channelPaymentStreamId(paymentId));
    if (!state.exists)
      throw new DomainError('operation_not_found', `channel payment ${paymentId} does not exist`, { paymentId });
    return { payment: state, position };
  }

  verify(paymentId: string, code: SensitiveText, context: CommandContext) {
    return verifyStepUpCode(this.deps, paymentId, code, context);
  }

  resendCode(paymentId: string, phone: SensitiveText, context: CommandContext) {
    return resendStepUpCode(this.deps, paymentId, phone, context);
  }

  expireStepUp(paymentId: string, context: CommandContext) {
    return expireStepUp(this.deps, paymentId, context);
  }

  /** A verified callback: a payment's result, or a refund's. Null when it is about no order of ours. */
  async applyNotification(channelId: string, notification: ChannelNotification, context: CommandContext) {
    return notification.kind === 'refund'
      ? applyRefundNotification(this.deps, channelId, notification, context)
      : applyNotification(this.deps, channelId, notification, context);
  }
  refund(request: ChannelRefundRequest, context: CommandContext) {
    return refundChannelPayment(this.deps, request, context);
  }
  cancel(paymentId: string, reason: string, context: CommandContext) {
    return cancelChannelPayment(this.deps, paymentId, reason, context);
  }
  async getRefund(
    paymentId: string,
    refundId: string,
  ): Promise<{ payment: ExistingChannelPayment; refund: ChannelRefundState; position: bigint }> {
    const { payment, position } = await this.get(paymentId);
    const refund = refundById(payment, refundId);
    if (!refund) throw new DomainError('operation_not_found', `refund ${refundId} does not exist`, { refundId });
    return { payment, refund, position };
  }
  /** A pending or unknown refund: the channel is asked (the poller's query, and a refund GET's). */
  queryRefund(paymentId: string, refundId: string, context: CommandContext) {
    return queryChannelRefund(this.deps, paymentId, refundId, context);
  }

  /**
   * A settled line of the channel's statement for a payment or refund we still hold at the channel: its
   * result, as a callback's would be (channel-statement-results.ts). Null when it is about no order of ours.
   */
  applyStatementLine(line: StatementRecord, context: CommandContext) {
    return line.kind === 'refund'
      ? applyStatementRefund(this.deps, line, context)
      : applyStatementPayment(this.deps, line, context);
  }

  /** The poller's query: an unknown order the channel never got is sent again (same order number). */
  queryChannelPayment(paymentId: string, context: CommandContext) {
    return queryChannelPayment(this.deps, paymentId, context, true);
  }

  /** A status request's query: records what the channel says, sends nothing. */
  askChannel(paymentId: string, context: CommandContext) {
    return queryChannelPayment(this.deps, paymentId, context, false);
  }

  /** After a crash (the recovery sweep): on from where the stream stops, asking the channel before charging. */
  async resume(paymentId: string, context: CommandContext): Promise<void> {
    const { payment } = await driveChannelPayment(this.deps, paymentId, context, { phone: null, resuming: true });
    // Refunds with a step of their own to take (pending and unknown ones wait for the channel: the poller's).
    for (const refund of payment.refunds.values()) {
      const stalled =
        refund.status === 'requested' ||
        refund.status === 'submitted' ||
        (refund.status === 'failed' && refund.held && !refund.released);
      if (stalled) await driveChannelRefund(this.deps, paymentId, refund.refundId, context, true);
    }
  }
}

import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Operations: one document per payment, recharge, transfer, withdrawal, freeze and pre-authorisation with
 * its current status, for the list and lookup API, reporting tools, and the sweeps that expire stale
 * pre-authorisation holds and resume operations cut short. One document per refund besides, so refunds
 * can be listed by payment and by refund number. Amounts in minor units (decimal strings).
 */
export const OPERATIONS_COLLECTION = 'operations';
export const REFUNDS_COLLECTION = 'operation_refunds';

export type OperationDocument = {
  operationId: string;
  kind: 'payment' | 'transfer' | 'withdrawal' | 'freeze' | 'preauth' | 'recharge' | 'channel_payment';
  status: string;
  merchantId: string | null;
  merchantOrderNo: string | null;
  /**
   * The entity whose operation it is, as far as its first event says: the merchant (payments,
   * pre-authorisations), who placed it (freezes), the sender's owner (transfers); null for recharges and
   * withdrawals, whose events name only the account (they are found through it).
   */
  ownerId: string | null;
  /** Transfers: the receiving account's owner, who sees the transfer too. Null for other kinds. */
  counterpartyOwnerId: string | null;
  /** Recharges and withdrawals: the payment channel; null for other kinds. */
  channel: string | null;
  /** Recharges and withdrawals: the channel's reference once completed; null before and for other kinds. */
  channelOrderNo: string | null;
  /**
   * Why it ended so: the error code of a failure, refusal or decline; `merchant` or `expired` for a
   * cancelled pre-authorisation (a lapsed hold is `expired`); null otherwise.
   */
  reasonCode: string | null;
  /** The account money leaves (payer, sender, frozen account). */
  sourceAccountId: string;
  /** The account money goes to, when inside the ledger. */
  targetAccountId: string | null;
  amountMinor: string;
  currency: string;
  /**
   * True while the operation, or a refund, deduction or completion within it, has been requested but not
   * finished: the recovery sweep drives such operations to their end after a crash.
   */
  inFlight: boolean;
  /** Refunded (payments), captured (pre-authorisations), deducted (freezes) so far: completed parts only. */
  settledBackMinor: string;
  /** Refunds or deductions requested but not yet completed or failed, by id (minor units). */
  pendingParts: Record<string, string>;
  /** Pre-authorisations: when the hold lapses. Empty string for other kinds (so the field is always indexable). */
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  /**
   * Composite keys (read-model-keys.ts) that select a group and order it by creation at once, so a list
   * reads one index range however large the ledger grows: `<kind>|<createdAt>` (every operation of a
   * kind), `<kind>|<ownerId>|<createdAt>` (one owner's; null without an owner),
   * `<kind>|<counterpartyOwnerId>|<createdAt>` (transfers received; null for other kinds),
   * `<kind>|<sourceAccountId>|<createdAt>` (one account's).
   */
  kindTimeKey: string;
  ownerTimeKey: string | null;
  counterpartyTimeKey: string | null;
  accountTimeKey: string;
};

type NewOperation = Omit<
  OperationDocument,
  | 'createdAt'
  | 'updatedAt'
  | 'settledBackMinor'
  | 'expiresAt'
  | 'pendingParts'
  | 'inFlight'
  | 'ownerId'
  | 'counterpartyOwnerId'
  | 'channel'
  | 'channelOrderNo'
  | 'reasonCode'
  | 'kindTimeKey'
  | 'ownerTimeKey'
  | 'counterpartyTimeKey'
  | 'accountTimeKey'
> &
  Partial<Pick<OperationDocument, 'expiresAt' | 'ownerId' | 'counterpartyOwnerId' | 'channel'>>;

function created(envelope: EventEnvelope, doc: NewOperation): DocumentChange {
  // One fixed-width form, so ranges over createdAt compare instants, whatever precision a command used.
  const at = utcInstantKey(envelope.metadata.occurredAt);
  const full: OperationDocument = {
    ...doc,
    ownerId: doc.ownerId ?? null,
    counterpartyOwnerId: doc.counterpartyOwnerId ?? null,
    channel: doc.channel ?? null,
    channelOrderNo: null,
    reasonCode: null,
    settledBackMinor: '0',
    pendingParts: {},
    expiresAt: doc.expiresAt ?? '',
    inFlight: true,
    createdAt: at,
    updatedAt: at,
    kindTimeKey: compositeKey(doc.kind, at),
    ownerTimeKey: doc.ownerId ? compositeKey(doc.kind, doc.ownerId, at) : null,
    counterpartyTimeKey: doc.counterpartyOwnerId ? compositeKey(doc.kind, doc.counterpartyOwnerId, at) : null,
    accountTimeKey: compositeKey(doc.kind, doc.sourceAccountId, at),
  };
  return { collection: OPERATIONS_COLLECTION, id: doc.operationId, apply: () => full };
}

function updated(
  envelope: EventEnvelope,
  operationId: string,
  change: (doc: OperationDocument) => Partial<OperationDocument>,
): DocumentChange {
  return {
    collection: OPERATIONS_COLLECTION,
    id: operationId,
    apply: (previous) => {
      if (previous === null)
        throw new Error(`operations: event for unknown operation ${operationId} at ${envelope.position}`);
      const doc = previous as unknown as OperationDocument;
      const next = { ...doc, ...change(doc) };
      const inFlight =
        IN_FLIGHT_STATUSES.has(`${next.kind}:${next.status}`) || Object.keys(next.pendingParts).length > 0;
      return { ...next, inFlight, updatedAt: utcInstantKey(envelope.metadata.occurredAt) };
    },
  };
}

/** Statuses from which an operation still has steps to take. */
const IN_FLIGHT_STATUSES: ReadonlySet<string> = new Set([
  'payment:initiated',
  'payment:cancelling',
  'transfer:requested',
  'recharge:requested',
  'withdrawal:requested',
  'freeze:requested',
  'preauth:requested',
  'preauth:completing',
  'preauth:cancelling_completion',
  // A channel payment with a step of its own to take; pending and unknown ones wait for the channel's word
  // (the poller asks), one awaiting verification for the payer.
  'channel_payment:created',
  'channel_payment:ready',
  'channel_payment:submitted',
  'channel_payment:succeeded',
]);

const plus = (a: string, b: bigint) => (BigInt(a) + b).toString();
function without(map: Record<string, string>, key: string): Record<string, string> {
  const { [key]: _removed, ...rest } = map;
  return rest;
}

/** A refund or deduction is reserved when requested, and counted as settled only once completed. */
function partRequested(
  envelope: EventEnvelope,
  operationId: string,
  partId: string,
  amountMinor: bigint,
): DocumentChange {
  return updated(envelope, operationId, (doc) => ({
    pendingParts: { ...doc.pendingParts, [partId]: amountMinor.toString() },
  }));
}

function partSettled(
  envelope: EventEnvelope,
  operationId: string,
  partId: string,
  completed: boolean,
  more: Partial<OperationDocument> = {},
): DocumentChange {
  return updated(envelope, operationId, (doc) => ({
    ...more,
    settledBackMinor: completed
      ? plus(doc.settledBackMinor, BigInt(doc.pendingParts[partId] ?? '0'))
      : doc.settledBackMinor,
    pendingParts: without(doc.pendingParts, partId),
  }));
}

/** A refund of a payment, listed by payment and by refund number. */
export type RefundDocument = {
  refundId: string;
  paymentId: string;
  refundNo: string;
  /** Channel payments' refunds also: submitted (sent to the channel), pending and unknown (the poller asks). */
  status: 'requested' | 'submitted' | 'pending' | 'unknown' | 'completed' | 'failed';
  amountMinor: string;
  currency: string;
  reason: string;
  /** Why a failed refund failed (an error code); null otherwise. */
  reasonCode: string | null;
  createdAt: string;
  updatedAt: string;
};

function refundRequested(
  envelope: EventEnvelope,
  d: { paymentId: string; refundId: string; refundNo: string; amountMinor: bigint; currency: string; reason: string },
): DocumentChange {
  const at = utcInstantKey(envelope.metadata.occurredAt);
  const doc: RefundDocument = {
    refundId: d.refundId,
    paymentId: d.paymentId,
    refundNo: d.refundNo,
    status: 'requested',
    amountMinor: d.amountMinor.toString(),
    currency: d.currency,
    reason: d.reason,
    reasonCode: null,
    createdAt: at,
    updatedAt: at,
  };
  return { collection: REFUNDS_COLLECTION, id: d.refundId, apply: () => doc };
}

function refundEnded(
  envelope: EventEnvelope,
  refundId: string,
  status: RefundDocument['status'],
  reasonCode: string | null,
): DocumentChange {
  return {
    collection: REFUNDS_COLLECTION,
    id: refundId,
    apply: (previous) => {
      if (previous === null) throw new Error(`operations: end of unknown refund ${refundId} at ${envelope.position}`);
      return { ...previous, status, reasonCode, updatedAt: utcInstantKey(envelope.metadata.occurredAt) };
    },
  };
}

export const operationsProjection: Projection = {
  name: 'operations',
  version: 1,
  collections: [
    {
      name: OPERATIONS_COLLECTION,
      indexes: [
        'kind',
        'status',
        'merchantId',
        'merchantOrderNo',
        'sourceAccountId',
        'targetAccountId',
        'ownerId',
        'counterpartyOwnerId',
        'channel',
        'expiresAt',
        'inFlight',
        'updatedAt',
        'kindTimeKey',
        'ownerTimeKey',
        'counterpartyTimeKey',
        'accountTimeKey',
      ],
    },
    { name: REFUNDS_COLLECTION, indexes: ['paymentId', 'refundNo', 'status', 'createdAt', 'updatedAt'] },
  ],
  // The operations' own streams' events; the account movements they cause are the statements' and books'.
  eventTypes: [
    'PaymentInitiated',
    'PaymentCompleted',
    'PaymentFailed',
    'PaymentCancellationRequested',
    'PaymentCancelled',
    'PaymentCancellationFailed',
    'RefundRequested',
    'RefundCompleted',
    'RefundFailed',
    'TransferRequested',
    'TransferCompleted',
    'TransferFailed',
    'RechargeRequested',
    'RechargeRouted',
    'RechargeAwaitingChannel',
    'RechargeCompleted',
    'RechargeFailed',
    'WithdrawalRequested',
    'WithdrawalAwaitingChannel',
    'WithdrawalCompleted',
    'WithdrawalFailed',
    'FreezeRequested',
    'FreezePlaced',
    'FreezeRefused',
    'FreezeDeductionRequested',
    'FreezeDeductionCompleted',
    'FreezeDeductionFailed',
    'FreezeReleased',
    'FreezeReleaseApplied',
    'PreauthRequested',
    'PreauthAuthorised',
    'PreauthDeclined',
    'PreauthCancelled',
    'PreauthCompletionRequested',
    'PreauthCompleted',
    'PreauthCompletionFailed',
    'PreauthCompletionCancelled',
    'PreauthCompletionCancellationRequested',
    'PreauthCompletionCancellationFailed',
    'ChannelPaymentCreated',
    'ChannelPaymentRiskAssessed',
    'StepUpChallengeIssued',
    'StepUpVerified',
    'ChannelPaymentRerouted',
    'ChannelPaymentSubmitted',
    'ChannelPaymentPending',
    'ChannelPaymentSucceeded',
    'ChannelPaymentFailed',
    'ChannelPaymentUnknown',
    'ChannelPaymentExpired',
    'ChannelPaymentCompleted',
    'ChannelRefundRequested',
    'ChannelRefundSubmitted',
    'ChannelRefundPending',
    'ChannelRefundUnknown',
    'ChannelRefundSucceeded',
    'ChannelRefundFailed',
    'ChannelRefundReleased',
    'ChannelPaymentCancelled',
  ],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    const channelPayment = channelPaymentChange(event, envelope);
    if (channelPayment) return [channelPayment];
    const channelRefund = channelRefundChanges(event, envelope);
    if (channelRefund) return channelRefund;
    switch (event.type) {
      case 'PaymentInitiated': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.paymentId,
            kind: 'payment',
            status: 'initiated',
            ownerId: d.merchantId,
            merchantId: d.merchantId,
            merchantOrderNo: d.merchantOrderNo,
            sourceAccountId: d.payerAccountId,
            targetAccountId: d.payeeAccountId,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
          }),
        ];
      }
      case 'PaymentCompleted':
        return [updated(envelope, event.data.paymentId, () => ({ status: 'completed' }))];
      case 'PaymentFailed':
        return [
          updated(envelope, event.data.paymentId, () => ({ status: 'failed', reasonCode: event.data.reasonCode })),
        ];
      case 'PaymentCancellationRequested':
        return [updated(envelope, event.data.paymentId, () => ({ status: 'cancelling' }))];
      case 'PaymentCancelled':
        return [updated(envelope, event.data.paymentId, () => ({ status: 'cancelled' }))];
      case 'PaymentCancellationFailed':
        return [updated(envelope, event.data.paymentId, () => ({ status: 'completed' }))];
      case 'RefundRequested':
        return [
          partRequested(envelope, event.data.paymentId, event.data.refundId, event.data.amountMinor),
          refundRequested(envelope, event.data),
        ];
      case 'RefundCompleted':
        return [
          partSettled(envelope, event.data.paymentId, event.data.refundId, true),
          refundEnded(envelope, event.data.refundId, 'completed', null),
        ];
      case 'RefundFailed':
        return [
          partSettled(envelope, event.data.paymentId, event.data.refundId, false),
          refundEnded(envelope, event.data.refundId, 'failed', event.data.reasonCode),
        ];
      case 'TransferRequested': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.transferId,
            kind: 'transfer',
            status: 'requested',
            ownerId: d.from.ownerId,
            counterpartyOwnerId: d.to.ownerId,
            merchantId: null,
            merchantOrderNo: null,
            sourceAccountId: d.fromAccountId,
            targetAccountId: d.toAccountId,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
          }),
        ];
      }
      case 'TransferCompleted':
        return [updated(envelope, event.data.transferId, () => ({ status: 'completed' }))];
      case 'TransferFailed':
        return [
          updated(envelope, event.data.transferId, () => ({ status: 'failed', reasonCode: event.data.reasonCode })),
        ];
      case 'RechargeRequested': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.rechargeId,
            kind: 'recharge',
            status: 'requested',
            merchantId: null,
            merchantOrderNo: null,
            sourceAccountId: d.accountId,
            targetAccountId: null,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
            channel: d.channel,
          }),
        ];
      }
      case 'RechargeRouted':
        return [updated(envelope, event.data.rechargeId, () => ({ channel: event.data.channel }))];
      case 'RechargeAwaitingChannel':
        return [updated(envelope, event.data.rechargeId, () => ({}))];
      case 'WithdrawalAwaitingChannel':
        return [updated(envelope, event.data.withdrawalId, () => ({}))];
      case 'RechargeCompleted':
        return [
          updated(envelope, event.data.rechargeId, () => ({
            status: 'completed',
            channelOrderNo: event.data.channelOrderNo,
          })),
        ];
      case 'RechargeFailed':
        return [
          updated(envelope, event.data.rechargeId, () => ({ status: 'failed', reasonCode: event.data.reasonCode })),
        ];
      case 'WithdrawalRequested': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.withdrawalId,
            kind: 'withdrawal',
            status: 'requested',
            merchantId: null,
            merchantOrderNo: null,
            sourceAccountId: d.accountId,
            targetAccountId: null,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
            channel: d.channel,
          }),
        ];
      }
      case 'WithdrawalCompleted':
        return [
          updated(envelope, event.data.withdrawalId, () => ({
            status: 'completed',
            channelOrderNo: event.data.channelOrderNo,
          })),
        ];
      case 'WithdrawalFailed':
        return [
          updated(envelope, event.data.withdrawalId, () => ({
            status: 'failed',
            reasonCode: event.data.reasonCode,
          })),
        ];
      case 'FreezeRequested': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.freezeId,
            kind: 'freeze',
            status: 'requested',
            ownerId: d.placedBy,
            merchantId: null,
            merchantOrderNo: null,
            sourceAccountId: d.accountId,
            targetAccountId: null,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
          }),
        ];
      }
      case 'FreezePlaced':
        return [updated(envelope, event.data.freezeId, () => ({ status: 'placed' }))];
      case 'FreezeRefused':
        return [
          updated(envelope, event.data.freezeId, () => ({ status: 'refused', reasonCode: event.data.reasonCode })),
        ];
      case 'FreezeDeductionRequested':
        return [partRequested(envelope, event.data.freezeId, event.data.deductionId, event.data.amountMinor)];
      case 'FreezeDeductionCompleted':
        return [partSettled(envelope, event.data.freezeId, event.data.deductionId, true)];
      case 'FreezeDeductionFailed':
        return [partSettled(envelope, event.data.freezeId, event.data.deductionId, false)];
      case 'FreezeReleased':
        // In flight until its account step is recorded (FreezeReleaseApplied); never counted as settled.
        return [
          partRequested(envelope, event.data.freezeId, `release:${event.data.releaseId}`, event.data.amountMinor),
        ];
      case 'FreezeReleaseApplied':
        return [partSettled(envelope, event.data.freezeId, `release:${event.data.releaseId}`, false)];
      case 'PreauthRequested': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.preauthId,
            kind: 'preauth',
            status: 'requested',
            ownerId: d.merchantId,
            merchantId: d.merchantId,
            merchantOrderNo: d.merchantOrderNo,
            sourceAccountId: d.payerAccountId,
            targetAccountId: d.payeeAccountId,
            amountMinor: d.amountMinor.toString(),
            currency: d.currency,
            expiresAt: d.expiresAt,
          }),
        ];
      }
      case 'PreauthAuthorised':
        return [updated(envelope, event.data.preauthId, () => ({ status: 'authorised' }))];
      case 'PreauthDeclined':
        return [
          updated(envelope, event.data.preauthId, () => ({ status: 'declined', reasonCode: event.data.reasonCode })),
        ];
      case 'PreauthCancelled':
        return [
          updated(envelope, event.data.preauthId, () => ({ status: 'cancelled', reasonCode: event.data.reason })),
        ];
      case 'PreauthCompletionRequested': {
        const captured = event.data.capturedMinor.toString();
        return [
          updated(envelope, event.data.preauthId, (doc) => ({
            status: 'completing',
            pendingParts: { ...doc.pendingParts, [event.data.completionId]: captured },
          })),
        ];
      }
      case 'PreauthCompleted':
        return [
          updated(envelope, event.data.preauthId, (doc) => ({
            status: 'completed',
            settledBackMinor: doc.pendingParts[event.data.completionId] ?? '0',
            pendingParts: without(doc.pendingParts, event.data.completionId),
          })),
        ];
      case 'PreauthCompletionFailed':
      case 'PreauthCompletionCancelled':
        return [
          updated(envelope, event.data.preauthId, (doc) => ({
            status: 'authorised',
            settledBackMinor: '0',
            pendingParts: without(doc.pendingParts, event.data.completionId),
          })),
        ];
      case 'PreauthCompletionCancellationRequested':
        return [updated(envelope, event.data.preauthId, () => ({ status: 'cancelling_completion' }))];
      case 'PreauthCompletionCancellationFailed':
        return [updated(envelope, event.data.preauthId, () => ({ status: 'completed' }))];
      default:
        return [];
    }
  },
};

/**
 * A channel payment's document: money comes in from outside to the payee's account (source and target
 * both the payee, as a recharge's names its account), owned by the merchant. While it awaits the payer's
 * code, `expiresAt` is when the challenge lapses (the poller closes it then).
 */
function channelPaymentChange(event: LedgerEvent, envelope: EventEnvelope): DocumentChange | null {
  // The step-up events serve bind-card contracts too (our own code, on `bindcard-` streams): not operations.
  if (event.type.startsWith('StepUp') && !envelope.streamId.startsWith('chanpay-')) return null;
  const status = (id: string, next: string, more: Partial<OperationDocument> = {}) =>
    updated(envelope, id, () => ({ status: next, ...more }));
  switch (event.type) {
    case 'ChannelPaymentCreated': {
      const d = event.data;
      return created(envelope, {
        operationId: d.paymentId,
        kind: 'channel_payment',
        status: 'created',
        ownerId: d.merchantId,
        merchantId: d.merchantId,
        merchantOrderNo: d.merchantOrderNo,
        sourceAccountId: d.payeeAccountId,
        targetAccountId: d.payeeAccountId,
        amountMinor: d.amountMinor.toString(),
        currency: d.currency,
        channel: d.routing.chosen,
      });
    }
    case 'ChannelPaymentRiskAssessed': {
      const verdict = event.data.assessment.verdict;
      return verdict === 'block'
        ? null
        : status(event.data.paymentId, verdict === 'step_up' ? 'awaiting_verification' : 'ready');
    }
    case 'StepUpChallengeIssued':
      return updated(envelope, event.data.paymentId, () => ({
        expiresAt: utcInstantKey(event.data.challengeExpiresAt),
      }));
    case 'StepUpVerified':
      return status(event.data.paymentId, 'ready', { expiresAt: '' });
    case 'ChannelPaymentRerouted':
      return status(event.data.paymentId, 'ready', { channel: event.data.routing.chosen });
    case 'ChannelPaymentSubmitted':
      return status(event.data.paymentId, 'submitted', { channel: event.data.channel });
    case 'ChannelPaymentPending':
      return status(event.data.paymentId, 'pending', { channelOrderNo: event.data.channelOrderNo });
    case 'ChannelPaymentSucceeded':
      return status(event.data.paymentId, 'succeeded', { channelOrderNo: event.data.channelOrderNo });
    case 'ChannelPaymentFailed':
      return status(event.data.paymentId, 'failed', { reasonCode: event.data.reasonCode, expiresAt: '' });
    case 'ChannelPaymentUnknown':
      return status(event.data.paymentId, 'unknown');
    case 'ChannelPaymentExpired':
      return status(event.data.paymentId, 'expired', { reasonCode: event.data.channelState });
    case 'ChannelPaymentCompleted':
      return status(event.data.paymentId, 'completed');
    default:
      return null;
  }
}

/**
 * A channel payment's refunds and cancellation: a refund document each (listed with the balance payments'
 * refunds), reserved on the payment's document while open. A declined refund whose held money is not yet
 * released stays open (in flight) until `ChannelRefundReleased`, so the recovery sweep releases it after a
 * crash; a succeeded cancellation makes the payment `cancelled`.
 */
function channelRefundChanges(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] | null {
  switch (event.type) {
    case 'ChannelRefundRequested':
      return [
        partRequested(envelope, event.data.paymentId, event.data.refundId, event.data.amountMinor),
        refundRequested(envelope, event.data),
      ];
    case 'ChannelRefundSubmitted':
      return [refundEnded(envelope, event.data.refundId, 'submitted', null)];
    case 'ChannelRefundPending':
      return [refundEnded(envelope, event.data.refundId, 'pending', null)];
    case 'ChannelRefundUnknown':
      return [refundEnded(envelope, event.data.refundId, 'unknown', null)];
    case 'ChannelRefundSucceeded': {
      const { paymentId, refundId } = event.data;
      return [partSettled(envelope, paymentId, refundId, true), refundEnded(envelope, refundId, 'completed', null)];
    }
    case 'ChannelRefundFailed': {
      const ended = refundEnded(envelope, event.data.refundId, 'failed', event.data.reasonCode);
      return event.data.held
        ? [ended]
        : [partSettled(envelope, event.data.paymentId, event.data.refundId, false), ended];
    }
    case 'ChannelRefundReleased':
      return [partSettled(envelope, event.data.paymentId, event.data.refundId, false)];
    case 'ChannelPaymentCancelled':
      return [updated(envelope, event.data.paymentId, () => ({ status: 'cancelled' }))];
    default:
      return null;
  }
}

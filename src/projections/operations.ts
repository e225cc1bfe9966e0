import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { DocumentChange, EventEnvelope, Projection } from './projection.js';

/**
 * Operations: one document per payment, transfer, withdrawal, freeze and pre-authorisation with its
 * current status, for reporting tools, order-status lookups by merchant order number, and the sweep that
 * expires stale pre-authorisation holds. Amounts in minor units (decimal strings).
 */
export const OPERATIONS_COLLECTION = 'operations';

export type OperationDocument = {
  operationId: string;
  kind: 'payment' | 'transfer' | 'withdrawal' | 'freeze' | 'preauth' | 'recharge';
  status: string;
  merchantId: string | null;
  merchantOrderNo: string | null;
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
};

type NewOperation = Omit<
  OperationDocument,
  'createdAt' | 'updatedAt' | 'settledBackMinor' | 'expiresAt' | 'pendingParts' | 'inFlight'
> & { expiresAt?: string };

function created(envelope: EventEnvelope, doc: NewOperation): DocumentChange {
  const full: OperationDocument = {
    ...doc,
    settledBackMinor: '0',
    pendingParts: {},
    expiresAt: doc.expiresAt ?? '',
    inFlight: true,
    createdAt: envelope.metadata.occurredAt,
    updatedAt: envelope.metadata.occurredAt,
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
      return { ...next, inFlight, updatedAt: envelope.metadata.occurredAt };
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

function partSettled(envelope: EventEnvelope, operationId: string, partId: string, completed: boolean): DocumentChange {
  return updated(envelope, operationId, (doc) => ({
    settledBackMinor: completed
      ? plus(doc.settledBackMinor, BigInt(doc.pendingParts[partId] ?? '0'))
      : doc.settledBackMinor,
    pendingParts: without(doc.pendingParts, partId),
  }));
}

export const operationsProjection: Projection = {
  name: 'operations',
  collections: [
    {
      name: OPERATIONS_COLLECTION,
      indexes: [
        'kind',
        'status',
        'merchantId',
        'merchantOrderNo',
        'sourceAccountId',
        'expiresAt',
        'inFlight',
        'updatedAt',
      ],
    },
  ],
  handle(event: LedgerEvent, envelope: EventEnvelope): DocumentChange[] {
    switch (event.type) {
      case 'PaymentInitiated': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.paymentId,
            kind: 'payment',
            status: 'initiated',
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
        return [updated(envelope, event.data.paymentId, () => ({ status: 'failed' }))];
      case 'PaymentCancellationRequested':
        return [updated(envelope, event.data.paymentId, () => ({ status: 'cancelling' }))];
      case 'PaymentCancelled':
        return [updated(envelope, event.data.paymentId, () => ({ status: 'cancelled' }))];
      case 'PaymentCancellationFailed':
        return [updated(envelope, event.data.paymentId, () => ({ status: 'completed' }))];
      case 'RefundRequested':
        return [partRequested(envelope, event.data.paymentId, event.data.refundId, event.data.amountMinor)];
      case 'RefundCompleted':
        return [partSettled(envelope, event.data.paymentId, event.data.refundId, true)];
      case 'RefundFailed':
        return [partSettled(envelope, event.data.paymentId, event.data.refundId, false)];
      case 'TransferRequested': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.transferId,
            kind: 'transfer',
            status: 'requested',
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
        return [updated(envelope, event.data.transferId, () => ({ status: 'failed' }))];
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
          }),
        ];
      }
      case 'RechargeCompleted':
        return [updated(envelope, event.data.rechargeId, () => ({ status: 'completed' }))];
      case 'RechargeFailed':
        return [updated(envelope, event.data.rechargeId, () => ({ status: 'failed' }))];
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
          }),
        ];
      }
      case 'WithdrawalCompleted':
        return [updated(envelope, event.data.withdrawalId, () => ({ status: 'completed' }))];
      case 'WithdrawalFailed':
        return [updated(envelope, event.data.withdrawalId, () => ({ status: 'failed' }))];
      case 'FreezeRequested': {
        const d = event.data;
        return [
          created(envelope, {
            operationId: d.freezeId,
            kind: 'freeze',
            status: 'requested',
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
        return [updated(envelope, event.data.freezeId, () => ({ status: 'refused' }))];
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
        return [updated(envelope, event.data.preauthId, () => ({ status: 'declined' }))];
      case 'PreauthCancelled':
        return [updated(envelope, event.data.preauthId, () => ({ status: 'cancelled' }))];
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

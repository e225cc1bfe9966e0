import { z } from 'zod';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { formatAmount } from '../../../domain/money/money.js';
import type { StoredDocument } from '../../../ports/read-model-store.js';
import type { OperationDocument, RefundDocument } from '../../../projections/operations.js';
import { accountIdString, amountString, currencyString, positionString } from '../api-schemas.js';
import { instantRangeFields, listPageView, listQueryFields, minPositionParam } from '../read-model-queries.js';

/**
 * The views and queries of the operation lists (operation-queries.ts): exported, so a typed client takes
 * its types from the same schemas as the server.
 */

export const OPERATION_KINDS = [
  'payment',
  'recharge',
  'withdrawal',
  'transfer',
  'freeze',
  'preauth',
  'channel_payment',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Every status an operation of each kind can be in (src/projections/operations.ts). */
export const OPERATION_STATUSES = {
  payment: ['initiated', 'completed', 'failed', 'cancelling', 'cancelled'],
  recharge: ['requested', 'completed', 'failed'],
  withdrawal: ['requested', 'completed', 'failed'],
  transfer: ['requested', 'completed', 'failed'],
  freeze: ['requested', 'placed', 'refused'],
  preauth: ['requested', 'authorised', 'declined', 'cancelled', 'completing', 'completed', 'cancelling_completion'],
  channel_payment: [
    'created',
    'awaiting_verification',
    'ready',
    'submitted',
    'pending',
    'unknown',
    'succeeded',
    'completed',
    'failed',
    'expired',
    'cancelled',
  ],
} as const satisfies Record<OperationKind, readonly string[]>;

export const operationSummaryView = z
  .object({
    operationId: z.uuid().describe('The payment, recharge, withdrawal, transfer, freeze or pre-authorisation id'),
    kind: z.enum(OPERATION_KINDS),
    status: z.string().describe("One of the kind's statuses (see the list route's `status` filter)"),
    amount: amountString,
    currency: currencyString,
    sourceAccountId: accountIdString.describe('Payer, sender, or the account recharged, withdrawn from or frozen'),
    targetAccountId: accountIdString
      .nullable()
      .describe('Payee or receiver; null when money enters or leaves the ledger'),
    merchantId: z.string().nullable().describe('Payments and pre-authorisations'),
    merchantOrderNo: z.string().nullable(),
    ownerId: z
      .string()
      .nullable()
      .describe('The merchant (payments, pre-authorisations), who placed it (freezes), the sender (transfers)'),
    counterpartyOwnerId: z.string().nullable().describe("Transfers: the receiving account's owner"),
    channel: z.string().nullable().describe('Recharges, withdrawals and channel payments'),
    channelOrderNo: z
      .string()
      .nullable()
      .describe("Recharges, withdrawals and channel payments: the channel's reference once it gave one"),
    reasonCode: z
      .string()
      .nullable()
      .describe(
        'Why it failed, was refused or declined (an error code); `merchant` or `expired` for a cancelled pre-authorisation',
      ),
    settledBack: amountString.describe(
      'Refunded (payments), captured (pre-authorisations), deducted (freezes): completed parts',
    ),
    pending: amountString.describe('Refunds, deductions, releases or a capture requested and not yet finished'),
    inFlight: z.boolean().describe('Steps remain: the service finishes them (after a crash, by its recovery sweep)'),
    expiresAt: z.string().nullable().describe('Pre-authorisations: when the hold lapses'),
    createdAt: z.string().describe('UTC'),
    updatedAt: z.string().describe('UTC'),
    position: positionString.describe(
      'Global position of the last event applied to it: pass as minPosition to see everything it did, including what the service did by itself (a lapsed hold, a recovered operation)',
    ),
  })
  .meta({ id: 'OperationSummary' });
export type OperationSummaryView = z.output<typeof operationSummaryView>;

export const operationPageView = listPageView(operationSummaryView).meta({ id: 'OperationPage' });

export const refundSummaryView = z
  .object({
    refundId: z.uuid(),
    paymentId: z.uuid(),
    refundNo: z.string(),
    status: z
      .enum(['requested', 'submitted', 'pending', 'unknown', 'completed', 'failed'])
      .describe("submitted, pending, unknown: a channel payment's refund the channel has, or may have"),
    amount: amountString,
    currency: currencyString,
    reason: z.string(),
    reasonCode: z.string().nullable().describe('Why a failed refund failed (an error code)'),
    createdAt: z.string(),
    updatedAt: z.string(),
    position: positionString.describe('Global position of the last event applied to the refund'),
  })
  .meta({ id: 'RefundSummary' });
export type RefundSummaryView = z.output<typeof refundSummaryView>;

export const refundPageView = listPageView(refundSummaryView).meta({ id: 'RefundPage' });

/** An entity id in a list's filter (merchantId, placedBy). */
export const entityIdFilter = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);
const orderNoFilter = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);

function statusFilter(kind: OperationKind) {
  return z.enum(OPERATION_STATUSES[kind]).optional();
}

const commonFilters = {
  ...listQueryFields,
  ...instantRangeFields,
  accountId: accountIdString.optional(),
};

/** Payments and pre-authorisations: a merchant's own, by payer account and order number. */
function merchantOperationQuery(kind: 'payment' | 'preauth' | 'channel_payment') {
  return z.strictObject({
    ...commonFilters,
    accountId: accountIdString.optional().describe("The payer's account"),
    status: statusFilter(kind),
    merchantId: entityIdFilter.optional().describe("Operators: one merchant's (a merchant sees its own)"),
    merchantOrderNo: orderNoFilter.optional().describe("The merchant's order number"),
  });
}
export const paymentListQuery = merchantOperationQuery('payment');
export const preauthListQuery = merchantOperationQuery('preauth');
export const channelPaymentListQuery = merchantOperationQuery('channel_payment');
export const freezeListQuery = z.strictObject({
  ...commonFilters,
  accountId: accountIdString.optional().describe('The frozen account'),
  status: statusFilter('freeze'),
  placedBy: entityIdFilter.optional().describe('Operators: freezes placed by this entity (a merchant sees its own)'),
});
export const transferListQuery = z.strictObject({
  ...commonFilters,
  accountId: accountIdString.optional().describe("The sender's account"),
  toAccountId: accountIdString.optional().describe("The receiver's account"),
  status: statusFilter('transfer'),
  side: z
    .enum(['sent', 'received'])
    .default('sent')
    .describe("A merchant's transfers from its accounts (sent, the default) or to them (received); operators: ignored"),
});
/** Recharges and withdrawals: through a channel, found by their account. */
function channelOperationQuery(kind: 'recharge' | 'withdrawal', account: string) {
  return z.strictObject({
    ...commonFilters,
    accountId: accountIdString.optional().describe(`${account}: required for a merchant (one of its own)`),
    status: statusFilter(kind),
    channel: z.string().min(1).max(40).optional(),
  });
}
export const rechargeListQuery = channelOperationQuery('recharge', 'The account recharged');
export const withdrawalListQuery = channelOperationQuery('withdrawal', 'The account withdrawn from');
export const refundListQuery = z.strictObject({
  ...listQueryFields,
  ...instantRangeFields,
  paymentId: z.uuid().optional().describe('Refunds of this payment: required for a merchant (one of its own)'),
  refundNo: orderNoFilter.optional().describe('The refund number'),
  status: z.enum(['requested', 'completed', 'failed']).optional(),
});

export function toOperationSummary(
  doc: StoredDocument<OperationDocument & Record<string, never>>,
): OperationSummaryView {
  const d = doc.data as OperationDocument;
  const currency = d.currency as CurrencyCode;
  const pendingMinor = Object.values(d.pendingParts).reduce((sum, part) => sum + BigInt(part), 0n);
  return {
    operationId: d.operationId,
    kind: d.kind,
    status: d.status,
    amount: formatAmount(BigInt(d.amountMinor), currency),
    currency: d.currency,
    sourceAccountId: d.sourceAccountId,
    targetAccountId: d.targetAccountId,
    merchantId: d.merchantId,
    merchantOrderNo: d.merchantOrderNo,
    ownerId: d.ownerId,
    counterpartyOwnerId: d.counterpartyOwnerId,
    channel: d.channel,
    channelOrderNo: d.channelOrderNo,
    reasonCode: d.reasonCode,
    settledBack: formatAmount(BigInt(d.settledBackMinor), currency),
    pending: formatAmount(pendingMinor, currency),
    inFlight: d.inFlight,
    expiresAt: d.expiresAt === '' ? null : d.expiresAt,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    position: doc.position.toString(),
  };
}

export function toRefundSummary(doc: StoredDocument<RefundDocument & Record<string, never>>): RefundSummaryView {
  const d = doc.data as RefundDocument;
  return {
    refundId: d.refundId,
    paymentId: d.paymentId,
    refundNo: d.refundNo,
    status: d.status,
    amount: formatAmount(BigInt(d.amountMinor), d.currency as CurrencyCode),
    currency: d.currency,
    reason: d.reason,
    reasonCode: d.reasonCode,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    position: doc.position.toString(),
  };
}

export const rechargeLookupQuery = z.strictObject({ minPosition: minPositionParam });

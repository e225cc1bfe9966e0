import { DateTime } from 'luxon';
import type { ChannelPaymentOrder } from '../../domain/channel-payments/channel-payment-events.js';
import { isCurrencyCode } from '../../domain/money/currency.js';
import {
  MAX_DAY_TOTALS,
  MAX_KNOWN_DEVICES,
  MAX_KNOWN_IPS,
  MAX_RECENT_PAYMENTS,
  type PartyHistory,
  type RiskHistory,
} from '../../domain/risk/risk-history.js';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import type { FindQuery, ReadModelStore } from '../../ports/read-model-store.js';
import { OPERATIONS_COLLECTION, type OperationDocument } from '../../projections/operations.js';
import { PAYER_PAYMENTS_COLLECTION, payerKeyOf, type PayerPaymentDocument } from '../../projections/payer-history.js';
import { KEY_GROUP_END, compositeKey, utcInstantKey } from '../../projections/read-model-keys.js';
import type { RiskHistorySource } from './channel-payment-process.js';

/** How far back the recent payments reach: the longest velocity window, and today's totals. */
const HISTORY_WINDOW_HOURS = 24;
/**
 * A payer's devices and IPs are those of its newest succeeded payments, at most this many read: a payer
 * who paid from a device only before its last 500 succeeded payments meets it as new again.
 */
export const KNOWN_DEVICES_SCAN_LIMIT = 500;

interface PastPayment {
  readonly paymentId: string;
  readonly createdAt: string;
  readonly amountMinor: string;
  readonly currency: string;
}

/**
 * Risk's history from the read models, both sides:
 * - the merchant's channel payments of the last day, from the operations read model;
 * - the payer's (the merchant's customer: `<merchantId>|<payerId>`), from the payer-history read model:
 *   its payments of the last day, and the devices and IPs of its newest succeeded payments.
 * Failed and expired payments are left out of totals and velocity (no money moved); open ones count.
 * The read models trail the log by the projection's lag: a burst faster than that is seen a moment late,
 * which per-transaction and block-list rules (judged on the attempt alone) do not depend on.
 */
export class ReadModelRiskHistory implements RiskHistorySource {
  constructor(
    private readonly readModels: ReadModelStore,
    private readonly timeZone: string,
  ) {}

  async historyOf(order: ChannelPaymentOrder): Promise<RiskHistory> {
    const from = utcInstantKey(
      DateTime.fromISO(order.createdAt, { zone: 'utc' }).minus({ hours: HISTORY_WINDOW_HOURS }).toISO()!,
    );
    const merchantGroup = compositeKey('channel_payment', order.merchantId);
    const payerKey = payerKeyOf(order.merchantId, order.payer.payerId);
    const [merchantPage, payerPage, knownPage] = await Promise.all([
      this.readModels.find(OPERATIONS_COLLECTION, {
        where: { kind: 'channel_payment', ownerId: order.merchantId },
        ...newestInGroup('ownerTimeKey', merchantGroup, from, MAX_RECENT_PAYMENTS),
      }),
      this.readModels.find(
        PAYER_PAYMENTS_COLLECTION,
        newestInGroup('payerTimeKey', payerKey, from, MAX_RECENT_PAYMENTS),
      ),
      this.readModels.find(
        PAYER_PAYMENTS_COLLECTION,
        newestInGroup('succeededTimeKey', payerKey, '', KNOWN_DEVICES_SCAN_LIMIT),
      ),
    ]);
    const merchantPayments = merchantPage.items
      .map(({ data }) => data as unknown as OperationDocument)
      .filter((doc) => doc.status !== 'failed' && doc.status !== 'expired')
      .map((doc) => ({ ...doc, paymentId: doc.operationId }));
    const payerPayments = payerPage.items
      .map(({ data }) => data as unknown as PayerPaymentDocument)
      .filter((doc) => doc.status === 'open' || doc.status === 'succeeded');
    const known = knownPage.items.map(({ data }) => data as unknown as PayerPaymentDocument);
    return {
      payer: {
        ...this.#summarise(payerPayments, order.paymentId),
        knownDevices: distinct(
          known.map((doc) => doc.deviceId),
          MAX_KNOWN_DEVICES,
        ),
        knownIps: distinct(
          known.map((doc) => doc.ip),
          MAX_KNOWN_IPS,
        ),
      },
      merchant: this.#summarise(merchantPayments, order.paymentId),
    };
  }

  /** Recent instants and totals per accounting day and currency, the payment being assessed left out. */
  #summarise(payments: readonly PastPayment[], paymentId: string): PartyHistory {
    const totals = new Map<string, { accountingDate: string; currency: string; amountMinor: bigint }>();
    const recentPaymentsAt: string[] = [];
    for (const payment of payments) {
      if (payment.paymentId === paymentId) continue;
      recentPaymentsAt.push(new Date(payment.createdAt).toISOString());
      const day = accountingDate(payment.createdAt, this.timeZone);
      const key = `${day}|${payment.currency}`;
      const total = totals.get(key) ?? { accountingDate: day, currency: payment.currency, amountMinor: 0n };
      totals.set(key, { ...total, amountMinor: total.amountMinor + BigInt(payment.amountMinor) });
    }
    const dayTotals = [...totals.values()]
      .sort((a, b) => b.accountingDate.localeCompare(a.accountingDate))
      .slice(0, MAX_DAY_TOTALS)
      .flatMap((t) => (isCurrencyCode(t.currency) ? [{ ...t, currency: t.currency }] : []));
    return { dayTotals, recentPaymentsAt };
  }
}

/** A group's documents from `fromKey` on (an instant key, or '' for all), newest first, at most `limit`. */
function newestInGroup(field: string, group: string, fromKey: string, limit: number): FindQuery {
  return {
    range: { field, gte: compositeKey(group, fromKey), lt: `${group}${KEY_GROUP_END}` },
    orderBy: field,
    direction: 'desc',
    limit,
  };
}

/** The distinct non-null values, in first-seen order (newest first), at most `limit`. */
function distinct(values: readonly (string | null)[], limit: number): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    if (value === null || seen.has(value)) continue;
    seen.add(value);
    if (seen.size === limit) break;
  }
  return [...seen];
}

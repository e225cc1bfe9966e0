import { DateTime } from 'luxon';
import type { ChannelPaymentOrder } from '../../domain/channel-payments/channel-payment-events.js';
import { isCurrencyCode } from '../../domain/money/currency.js';
import {
  EMPTY_RISK_HISTORY,
  MAX_DAY_TOTALS,
  MAX_RECENT_PAYMENTS,
  type PartyHistory,
  type RiskHistory,
} from '../../domain/risk/risk-history.js';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import { OPERATIONS_COLLECTION, type OperationDocument } from '../../projections/operations.js';
import { KEY_GROUP_END, compositeKey, utcInstantKey } from '../../projections/read-model-keys.js';
import type { RiskHistorySource } from './channel-payment-process.js';

/** How far back a merchant's history reaches: the longest velocity window, and today's totals. */
const HISTORY_WINDOW_HOURS = 24;

/**
 * The merchant's side of risk's history, from the operations read model: its channel payments of the last
 * day (at most MAX_RECENT_PAYMENTS, newest first), failed and expired ones left out (no money moved),
 * totalled per accounting day. The payer's side is empty: the ledger keeps no payer profile yet (known
 * devices and IPs, a payer's totals across merchants), so payer-level amount-per-day, velocity and
 * new-device rules see a payer with no history; per-transaction and block-list rules judge the attempt.
 */
export class ReadModelRiskHistory implements RiskHistorySource {
  constructor(
    private readonly readModels: ReadModelStore,
    private readonly timeZone: string,
  ) {}

  async historyOf(order: ChannelPaymentOrder): Promise<RiskHistory> {
    const group = compositeKey('channel_payment', order.merchantId);
    const from = DateTime.fromISO(order.createdAt, { zone: 'utc' }).minus({ hours: HISTORY_WINDOW_HOURS }).toISO()!;
    const page = await this.readModels.find(OPERATIONS_COLLECTION, {
      where: { kind: 'channel_payment', ownerId: order.merchantId },
      range: { field: 'ownerTimeKey', gte: compositeKey(group, utcInstantKey(from)), lt: `${group}${KEY_GROUP_END}` },
      orderBy: 'ownerTimeKey',
      direction: 'desc',
      limit: MAX_RECENT_PAYMENTS,
    });
    const totals = new Map<string, { accountingDate: string; currency: string; amountMinor: bigint }>();
    const recentPaymentsAt: string[] = [];
    for (const { data } of page.items) {
      const doc = data as unknown as OperationDocument;
      if (doc.operationId === order.paymentId || doc.status === 'failed' || doc.status === 'expired') continue;
      recentPaymentsAt.push(new Date(doc.createdAt).toISOString());
      const day = accountingDate(doc.createdAt, this.timeZone);
      const key = `${day}|${doc.currency}`;
      const total = totals.get(key) ?? { accountingDate: day, currency: doc.currency, amountMinor: 0n };
      totals.set(key, { ...total, amountMinor: total.amountMinor + BigInt(doc.amountMinor) });
    }
    const dayTotals = [...totals.values()]
      .sort((a, b) => b.accountingDate.localeCompare(a.accountingDate))
      .slice(0, MAX_DAY_TOTALS)
      .flatMap((t) => (isCurrencyCode(t.currency) ? [{ ...t, currency: t.currency }] : []));
    const merchant: PartyHistory = { dayTotals, recentPaymentsAt };
    return { payer: EMPTY_RISK_HISTORY.payer, merchant };
  }
}

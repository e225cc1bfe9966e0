import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import { UNCHANGED, type DocumentChange, type EventEnvelope, type Projection } from './projection.js';
import { compositeKey, utcInstantKey } from './read-model-keys.js';

/**
 * Payer history: one document per channel payment, keyed for its payer, so risk can read what a payer did
 * before (amount per day, velocity, the devices and IPs it paid from) in two index ranges. A payer is the
 * merchant's customer: `payerId` is the merchant's own id for it (or the device id when none was given),
 * so the key is `<merchantId>|<payerId>` (escaped): two merchants' "customer 42" are two payers.
 *
 * Only the attempt's risk-relevant facts are kept (amount, currency, device id, IP, outcome), never the
 * instrument, the phone or the routing. A payment's outcome moves it from `open` to `succeeded`, `failed`
 * or `expired`; risk counts open and succeeded payments (money moved or may still move) and knows a
 * device or IP only from succeeded ones.
 */
export const PAYER_HISTORY_PROJECTION = 'payer-history';
export const PAYER_PAYMENTS_COLLECTION = 'payer_payments';

export const PAYER_PAYMENT_STATUSES = ['open', 'succeeded', 'failed', 'expired'] as const;
export type PayerPaymentStatus = (typeof PAYER_PAYMENT_STATUSES)[number];

export interface PayerPaymentDocument extends JsonObject {
  paymentId: string;
  /** `<merchantId>|<payerId>`. */
  payerKey: string;
  status: PayerPaymentStatus;
  amountMinor: string;
  currency: string;
  deviceId: string | null;
  ip: string | null;
  createdAt: string;
  /** `<payerKey>|<createdAt>`: one payer's payments in creation order, as one index range. */
  payerTimeKey: string;
  /** `<payerKey>|<createdAt>` for succeeded payments, null otherwise: the known devices' and IPs' range. */
  succeededTimeKey: string | null;
}

/**
 * Both parts escaped (`encodeURIComponent` escapes the key separator and KEY_GROUP_END), so a payer id
 * holding `|` can never fall inside another payer's key range.
 */
export function payerKeyOf(merchantId: string, payerId: string): string {
  return compositeKey(encodeURIComponent(merchantId), encodeURIComponent(payerId));
}

/** An outcome applies once and only to an open payment: a late or repeated one changes nothing. */
function settle(paymentId: string, status: Exclude<PayerPaymentStatus, 'open'>): DocumentChange {
  return {
    collection: PAYER_PAYMENTS_COLLECTION,
    id: paymentId,
    apply: (previous) => {
      const doc = previous as PayerPaymentDocument | null;
      if (doc === null || doc.status !== 'open') return UNCHANGED;
      const succeededTimeKey = status === 'succeeded' ? doc.payerTimeKey : null;
      return { ...doc, status, succeededTimeKey };
    },
  };
}

export const payerHistoryProjection: Projection = {
  name: PAYER_HISTORY_PROJECTION,
  version: 1,
  collections: [{ name: PAYER_PAYMENTS_COLLECTION, indexes: ['payerTimeKey', 'succeededTimeKey'] }],
  eventTypes: ['ChannelPaymentCreated', 'ChannelPaymentSucceeded', 'ChannelPaymentFailed', 'ChannelPaymentExpired'],
  handle(event: LedgerEvent, _envelope: EventEnvelope): DocumentChange[] {
    switch (event.type) {
      case 'ChannelPaymentCreated': {
        const d = event.data;
        const createdAt = utcInstantKey(d.createdAt);
        const payerKey = payerKeyOf(d.merchantId, d.payer.payerId);
        const doc: PayerPaymentDocument = {
          paymentId: d.paymentId,
          payerKey,
          status: 'open',
          amountMinor: d.amountMinor.toString(),
          currency: d.currency,
          deviceId: d.payer.deviceId,
          ip: d.payer.ip,
          createdAt,
          payerTimeKey: compositeKey(payerKey, createdAt),
          succeededTimeKey: null,
        };
        return [
          {
            collection: PAYER_PAYMENTS_COLLECTION,
            id: d.paymentId,
            apply: (prev) => (prev === null ? doc : UNCHANGED),
          },
        ];
      }
      case 'ChannelPaymentSucceeded':
        return [settle(event.data.paymentId, 'succeeded')];
      case 'ChannelPaymentFailed':
        return [settle(event.data.paymentId, 'failed')];
      case 'ChannelPaymentExpired':
        return [settle(event.data.paymentId, 'expired')];
      default:
        return [];
    }
  },
};

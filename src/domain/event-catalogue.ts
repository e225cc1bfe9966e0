import type { z } from 'zod';
import { accountEventSchemas, type AccountEvent } from './accounts/account-events.js';
import { freezeEventSchemas, type FreezeEvent } from './freezes/freeze-events.js';
import { paymentEventSchemas, type PaymentEvent } from './payments/payment-events.js';
import { preauthEventSchemas, type PreauthEvent } from './preauths/preauth-events.js';
import { rechargeEventSchemas, type RechargeEvent } from './recharges/recharge-events.js';
import { transferEventSchemas, type TransferEvent } from './transfers/transfer-events.js';
import { transferBatchEventSchemas, type TransferBatchEvent } from './transfers/transfer-batch-events.js';
import { withdrawalEventSchemas, type WithdrawalEvent } from './withdrawals/withdrawal-events.js';
import { entityEventSchemas, type EntityEvent } from './entities/entity-events.js';
import { webhookEventSchemas, type WebhookEndpointEvent } from './webhooks/webhook-events.js';
import { channelPaymentEventSchemas } from './channel-payments/channel-payment-events.js';
import { channelRefundEventSchemas } from './channel-payments/channel-refund-events.js';
import type { ChannelPaymentEvent } from './channel-payments/channel-payment-decider.js';
import { stepUpEventSchemas } from './risk/step-up-events.js';
import { statementDayEventSchemas, type StatementDayEvent } from './reconciliation/statement-day-events.js';
import {
  reconciliationRunEventSchemas,
  type ReconciliationRunEvent,
} from './reconciliation/reconciliation-run-events.js';
import { breakEventSchemas, type BreakEvent } from './reconciliation/break-events.js';
import {
  transitBatchEventSchemas,
  transitEventSchemas,
  type TransitBatchEvent,
  type TransitEvent,
} from './transit/transit-events.js';
import { paymentCodeEventSchemas, type PaymentCodeEvent } from './payment-codes/payment-code-events.js';
import { contractEventSchemas, type ContractOwnEvent } from './contracts/contract-events.js';
import { cardClaimEventSchemas, type CardClaimEvent } from './contracts/card-claim.js';
import { identityEventSchemas, type IdentityEvent } from './identity/identity-events.js';
import { erasureEventSchemas, type ErasureEvent } from './identity/erasure-events.js';
import type { JsonObject, JsonValue } from './shared/json.js';

/**
 * Every event type the ledger records, with the zod schema that validates, decodes and documents it.
 * An event type not listed here cannot be written; a stored event that does not match its schema cannot
 * be read without an error: both are bugs, not data to tolerate.
 */
const SCHEMAS = [
  ...accountEventSchemas,
  ...paymentEventSchemas,
  ...transferEventSchemas,
  ...transferBatchEventSchemas,
  ...withdrawalEventSchemas,
  ...freezeEventSchemas,
  ...preauthEventSchemas,
  ...rechargeEventSchemas,
  ...entityEventSchemas,
  ...webhookEventSchemas,
  ...channelPaymentEventSchemas,
  ...channelRefundEventSchemas,
  ...stepUpEventSchemas,
  ...statementDayEventSchemas,
  ...reconciliationRunEventSchemas,
  ...breakEventSchemas,
  ...transitEventSchemas,
  ...transitBatchEventSchemas,
  ...paymentCodeEventSchemas,
  ...contractEventSchemas,
  ...cardClaimEventSchemas,
  ...identityEventSchemas,
  ...erasureEventSchemas,
] as const;

export type LedgerEvent =
  | AccountEvent
  | PaymentEvent
  | TransferEvent
  | TransferBatchEvent
  | WithdrawalEvent
  | FreezeEvent
  | PreauthEvent
  | RechargeEvent
  | EntityEvent
  | WebhookEndpointEvent
  | ChannelPaymentEvent
  | StatementDayEvent
  | ReconciliationRunEvent
  | BreakEvent
  | TransitEvent
  | TransitBatchEvent
  | PaymentCodeEvent
  | ContractOwnEvent
  | CardClaimEvent
  | IdentityEvent
  | ErasureEvent;
export type LedgerEventType = LedgerEvent['type'];

type EventSchema = (typeof SCHEMAS)[number];
const BY_TYPE = new Map<string, EventSchema>(SCHEMAS.map((schema) => [schema.shape.type.value, schema]));

export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = [...BY_TYPE.keys()] as LedgerEventType[];

export function isLedgerEventType(type: string): type is LedgerEventType {
  return BY_TYPE.has(type);
}

/** Domain event -> stored form (bigints as strings), validated. */
export function encodeEvent(event: LedgerEvent): { type: LedgerEventType; data: JsonObject } {
  const schema = BY_TYPE.get(event.type);
  if (!schema) throw new Error(`unknown event type: ${event.type}`);
  const encoded = (schema as z.ZodType<LedgerEvent, { type: string; data: JsonObject }>).encode(event);
  return { type: event.type, data: encoded.data };
}

/**
 * Domain event -> stored form, for an event the code itself just decided: not validated again (the
 * deciders build events from validated commands and states; zod checks them at the edges and on every
 * read from storage, `decodeEvent`). The stored form differs from the domain form only by its amounts,
 * bigints held as decimal strings (the codecs in shared/codecs.ts), so that is all this converts.
 * tests/unit/event-encoding.test.ts holds it equal to `encodeEvent` on the events a whole ledger records.
 */
export function encodeOwnEvent(event: LedgerEvent): { type: LedgerEventType; data: JsonObject } {
  return { type: event.type, data: toStored(event.data) as JsonObject };
}

function toStored(value: unknown): JsonValue | undefined {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((item) => toStored(item) ?? null);
  if (value !== null && typeof value === 'object') {
    const stored: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      const converted = toStored(item);
      // Absent, as zod leaves an optional field that is undefined.
      if (converted !== undefined) stored[key] = converted;
    }
    return stored;
  }
  return value as JsonValue | undefined;
}

/** Stored form -> domain event, validated. */
export function decodeEvent(type: string, data: JsonObject): LedgerEvent {
  const schema = BY_TYPE.get(type);
  if (!schema) throw new Error(`unknown event type: ${type}`);
  return (schema as z.ZodType<LedgerEvent, { type: string; data: JsonObject }>).decode({ type, data });
}

import type { z } from 'zod';
import { accountEventSchemas, type AccountEvent } from './accounts/account-events.js';
import { freezeEventSchemas, type FreezeEvent } from './freezes/freeze-events.js';
import { paymentEventSchemas, type PaymentEvent } from './payments/payment-events.js';
import { preauthEventSchemas, type PreauthEvent } from './preauths/preauth-events.js';
import { rechargeEventSchemas, type RechargeEvent } from './recharges/recharge-events.js';
import { transferEventSchemas, type TransferEvent } from './transfers/transfer-events.js';
import { withdrawalEventSchemas, type WithdrawalEvent } from './withdrawals/withdrawal-events.js';
import { entityEventSchemas, type EntityEvent } from './entities/entity-events.js';
import type { JsonObject } from './shared/json.js';

/**
 * Every event type the ledger records, with the zod schema that validates, decodes and documents it.
 * An event type not listed here cannot be written; a stored event that does not match its schema cannot
 * be read without an error: both are bugs, not data to tolerate.
 */
const SCHEMAS = [
  ...accountEventSchemas,
  ...paymentEventSchemas,
  ...transferEventSchemas,
  ...withdrawalEventSchemas,
  ...freezeEventSchemas,
  ...preauthEventSchemas,
  ...rechargeEventSchemas,
  ...entityEventSchemas,
] as const;

export type LedgerEvent =
  | AccountEvent
  | PaymentEvent
  | TransferEvent
  | WithdrawalEvent
  | FreezeEvent
  | PreauthEvent
  | RechargeEvent
  | EntityEvent;
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

/** Stored form -> domain event, validated. */
export function decodeEvent(type: string, data: JsonObject): LedgerEvent {
  const schema = BY_TYPE.get(type);
  if (!schema) throw new Error(`unknown event type: ${type}`);
  return (schema as z.ZodType<LedgerEvent, { type: string; data: JsonObject }>).decode({ type, data });
}

import { v5 as uuidv5 } from 'uuid';

/**
 * Who asked for a command and under which key. `operationKey` seeds every id the command derives
 * (event ids, operation ids, account numbers), so executing the same request twice decides the same
 * events with the same ids, and the event store's idempotent append records them once.
 */
export interface CommandContext {
  readonly actor: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly idempotencyKey: string | null;
  readonly operationKey: string;
  /** UTC ISO-8601 instant the command is decided at. */
  readonly occurredAt: string;
}

/** Namespace of every name-based (v5) UUID the ledger derives. Changing it changes every derived id. */
const LEDGER_NAMESPACE = '6f3a1c52-8f0e-4d7b-9a55-2c1d9e4b7a10';

export function deriveId(operationKey: string, purpose: string): string {
  return uuidv5(`${operationKey}\u0000${purpose}`, LEDGER_NAMESPACE);
}

export function deriveEventId(operationKey: string, streamId: string, index: number): string {
  return deriveId(operationKey, `event\u0000${streamId}\u0000${index}`);
}

import type { LedgerEvent, LedgerEventType } from '../domain/event-catalogue.js';
import { LEDGER_STREAM_PREFIXES } from '../domain/stream-categories.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { EventFilter, RecordedEvent } from '../ports/event-store.js';
import type { CollectionSpec } from '../ports/read-model-store.js';

/** Where an event came from, for projections that record it (statements, journals). */
export type EventEnvelope = Pick<RecordedEvent, 'streamId' | 'revision' | 'position' | 'metadata'>;

/** Returned by a change that finds nothing to do (its event was applied before): nothing is written. */
export const UNCHANGED = Symbol('unchanged');

/** One document an event changes, and how: a pure function of the previous document (null if none). */
export interface DocumentChange {
  readonly collection: string;
  readonly id: string;
  readonly apply: (previous: JsonObject | null) => JsonObject | null | typeof UNCHANGED;
}

/**
 * A read model: which collections it owns and, for each event, which documents change and how.
 * Pure: the same events give the same documents, byte for byte, whenever and however often they run.
 */
export interface Projection {
  readonly name: string;
  /**
   * The version of what `handle` builds: a developer raises it (by one) whenever a change makes the
   * same events give other documents (a new or changed field, a document split or renamed, a fixed
   * computation, another index set does not count: ensureCollections adds indexes). The version a store's
   * documents were built with is recorded; on start a projection whose version differs is rebuilt online
   * (src/projections/online-rebuild.ts). Starts at 1; a store from before versions counts as 1.
   */
  readonly version: number;
  readonly collections: readonly CollectionSpec[];
  /**
   * The event types `handle` reads. Any other event changes none of its documents, so the log is read
   * for the union of these (logFilterFor): a rebuild of balances and statements reads account events only.
   */
  readonly eventTypes: readonly LedgerEventType[];
  handle(event: LedgerEvent, envelope: EventEnvelope): readonly DocumentChange[];
}

/**
 * The global-log filter for `projections`: the event types any of them reads, so the store leaves the
 * others unread and undecoded. Ledger event types are written to ledger streams only (the idempotency
 * records have types of their own), so this reads a subset of the LEDGER_STREAM_PREFIXES filter; the
 * prefixes are checked again on what it returns (readsEvent), as a filter takes prefixes or types, not both.
 */
export function logFilterFor(projections: readonly Projection[]): EventFilter {
  const types = new Set<string>();
  for (const projection of projections) for (const type of projection.eventTypes) types.add(type);
  return { eventTypes: [...types].sort() };
}

/** Whether an event read through logFilterFor belongs to the ledger (see there). */
export function isLedgerStream(streamId: string): boolean {
  return LEDGER_STREAM_PREFIXES.some((prefix) => streamId.startsWith(prefix));
}

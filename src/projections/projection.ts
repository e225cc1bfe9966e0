import type { LedgerEvent } from '../domain/event-catalogue.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { RecordedEvent } from '../ports/event-store.js';
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
  readonly collections: readonly CollectionSpec[];
  handle(event: LedgerEvent, envelope: EventEnvelope): readonly DocumentChange[];
}

import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { JsonObject } from '../domain/shared/json.js';
import type { EventMetadata, EventStore, RecordedEvent } from '../ports/event-store.js';
import { PROGRESS_EVERY_EVENTS, auditedEvents, type AuditScope } from './audited-events.js';

/**
 * One line of an export: everything a third party needs to recompute the chain without our code.
 * The position is a string because EventStoreDB positions exceed 2^53; revisions never do in practice
 * (guarded below), so they stay numbers, but note they are hashed as decimal strings.
 */
export interface ExportLine {
  readonly streamId: string;
  readonly revision: number;
  readonly position: string;
  readonly eventId: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
  readonly prevHash: string;
  readonly hash: string;
}

export function toExportLine(event: RecordedEvent): ExportLine {
  if (event.revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`${event.streamId}: revision ${event.revision} cannot be exported as an exact JSON number`);
  }
  return {
    streamId: event.streamId,
    revision: Number(event.revision),
    position: event.position.toString(),
    eventId: event.metadata.eventId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

export interface ExportOptions extends AuditScope {
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  readonly events: number;
  readonly lastPosition: bigint | 'start';
}

/**
 * Writes the whole log (in position order) or one stream (in revision order) as JSON Lines, waiting
 * for the output to drain when it is slower than the store, so memory stays at one page.
 */
export async function exportLog(
  eventStore: EventStore,
  output: Writable,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const walk = await auditedEvents(eventStore, options);
  let events = 0;
  let lastPosition: bigint | 'start' = 'start';
  for await (const event of walk.events) {
    if (!output.write(`${JSON.stringify(toExportLine(event))}\n`)) await once(output, 'drain');
    events += 1;
    lastPosition = event.position;
    if (events % PROGRESS_EVERY_EVENTS === 0) options.onProgress?.(walk.progressOf(event), walk.total);
  }
  options.onProgress?.(walk.total, walk.total);
  return { events, lastPosition };
}

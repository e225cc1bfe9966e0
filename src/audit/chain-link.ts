import { GENESIS_HASH, chainHash } from '../domain/audit/hash-chain.js';
import type { RecordedEvent } from '../ports/event-store.js';

/** What an auditor remembers of a stream while walking it: its last event's revision and hash. */
export interface StreamLink {
  readonly revision: bigint;
  readonly hash: string;
}

/** Which rule a stored event breaks, checked in this order. */
export type ChainCheck = 'revision' | 'prevHash' | 'hash';

export interface ChainBreak {
  readonly streamId: string;
  /** The revision the stored event carries. */
  readonly revision: bigint;
  readonly position: bigint;
  readonly check: ChainCheck;
  readonly expected: string;
  readonly found: string;
}

/**
 * Checks one stored event against the last link of its stream (undefined: the stream's first event).
 * The revision is checked first: a deleted or reordered event shows as a gap at the event after it,
 * which names the damage more plainly than the hash mismatch that follows from it.
 */
export function checkLink(last: StreamLink | undefined, event: RecordedEvent): ChainBreak | undefined {
  const at = { streamId: event.streamId, revision: event.revision, position: event.position };
  const expectedRevision = last ? last.revision + 1n : 0n;
  if (event.revision !== expectedRevision) {
    return { ...at, check: 'revision', expected: expectedRevision.toString(), found: event.revision.toString() };
  }
  const expectedPrevHash = last ? last.hash : GENESIS_HASH;
  if (event.prevHash !== expectedPrevHash) {
    return { ...at, check: 'prevHash', expected: expectedPrevHash, found: event.prevHash };
  }
  const recomputed = chainHash(event.prevHash, {
    streamId: event.streamId,
    revision: event.revision,
    eventId: event.metadata.eventId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  });
  if (event.hash !== recomputed) return { ...at, check: 'hash', expected: recomputed, found: event.hash };
  return undefined;
}

import { createHash } from 'node:crypto';
import type { JsonObject } from '../shared/json.js';

/**
 * Tamper evidence. Every event stores the hash of its predecessor in the same stream and its own hash:
 *
 *   hash = sha256_hex(prevHash + "\n" + JCS(content))
 *
 * where JCS is the RFC 8785 JSON canonicalisation of the event's content (stream, revision, id, type,
 * data, metadata). Changing one byte of any stored event, or removing or reordering events, breaks the
 * chain at that revision. The first event of a stream chains from GENESIS_HASH.
 */
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedContent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
}

export function canonicalContent(content: ChainedContent): string {
  return canonicalJson({
    streamId: content.streamId,
    revision: content.revision.toString(),
    eventId: content.eventId,
    type: content.type,
    data: content.data,
    metadata: content.metadata,
  });
}

export function chainHash(prevHash: string, content: ChainedContent): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalContent(content)).digest('hex');
}

/**
 * The same hash, from data and metadata already in canonical form (a store that writes the canonical text
 * anyway need not serialise them twice). The content's keys in JCS order are data, eventId, metadata,
 * revision, streamId, type; tests/unit/hash-chain.test.ts checks this equals `chainHash`.
 */
export function chainHashOfCanonical(
  prevHash: string,
  parts: {
    streamId: string;
    revision: bigint;
    eventId: string;
    type: string;
    canonicalData: string;
    canonicalMetadata: string;
  },
): string {
  const content =
    `{"data":${parts.canonicalData},"eventId":${JSON.stringify(parts.eventId)},"metadata":${parts.canonicalMetadata},` +
    `"revision":"${parts.revision.toString()}","streamId":${JSON.stringify(parts.streamId)},"type":${JSON.stringify(parts.type)}}`;
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

import { z } from 'zod';
import type { JsonObject } from '../domain/shared/json.js';
import { streamIdSchema } from './event-store.js';

/**
 * The snapshot store port: the latest saved state of a long stream, kept beside the event store so a
 * cold service can decide on a stream without reading its whole history.
 *
 * A snapshot is a cache, never a source of truth. The store keeps what it was given and hands it back;
 * it judges nothing. Its reader (src/commands/stream-snapshots.ts) checks the digest, the schema version
 * and the hash of the event at the snapshot's revision before it trusts one, and reads the stream in full
 * when anything is off. Losing every snapshot costs time, never correctness.
 *
 * What every adapter guarantees (tests/contract/snapshot-store.contract.ts):
 *   - `load` answers the stream's latest snapshot exactly as saved (bigints, nested JSON), or undefined;
 *   - a snapshot saved at a revision lower than the one held is not kept: `load` never goes back when
 *     saves come one after another (two processes racing may leave the older of the two; that only means
 *     more events to read);
 *   - a snapshot saved again at the revision held replaces it (a new schema version of the same state);
 *   - a record the store cannot read back whole is an error of `load`, never a different snapshot.
 *
 * Adapters: `sqlite` (a sibling file of the event store under DATA_DIR) and `esdb` (a `$snapshot-<stream>`
 * stream beside each snapshotted stream, keeping its last few events by `$maxCount`).
 */

/** Largest snapshot, in bytes of its JSON: as an append, it must fit EventStoreDB's 1 MiB MaxAppendSize. */
export const MAX_SNAPSHOT_BYTES = 512 * 1024;

/** One stream's state as of one of its events. */
export const storedSnapshotSchema = z.strictObject({
  streamId: streamIdSchema,
  /** The stream's last revision folded into `state`. */
  revision: z.bigint().nonnegative(),
  /** The hash of the event at `revision` (src/domain/audit/hash-chain.ts): which history `state` is of. */
  eventHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Whose state this is ("account-state"), and the version of its codec (src/domain/shared/state-codec.ts). */
  schema: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
  schemaVersion: z.int().min(1).max(1_000_000),
  /** The state as its codec encoded it. */
  state: z.record(z.string(), z.json()),
  /** sha256 of the rest, canonical (src/commands/stream-snapshots.ts): damage is noticed, not decoded. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type StoredSnapshot = Omit<z.output<typeof storedSnapshotSchema>, 'state'> & { readonly state: JsonObject };

export interface SnapshotStore {
  readonly engine: 'sqlite' | 'esdb';
  /** Keeps `snapshot` as its stream's latest, unless a later revision is held. Validated first. */
  save(snapshot: StoredSnapshot): Promise<void>;
  /** The stream's latest snapshot, or undefined when it has none. */
  load(streamId: string): Promise<StoredSnapshot | undefined>;
  close(): Promise<void>;
}

/** The snapshot breaks the port's rules (malformed, or over MAX_SNAPSHOT_BYTES): nothing was saved. */
export class InvalidSnapshotError extends Error {
  override readonly name = 'InvalidSnapshotError';
}

/** A stored record that does not read back as a snapshot (damaged, or written by something else). */
export class UnreadableSnapshotError extends Error {
  override readonly name = 'UnreadableSnapshotError';
}

/** The snapshot as JSON text, as every adapter stores it (revision as a decimal string). */
export function snapshotToJson(snapshot: StoredSnapshot): string {
  const parsed = storedSnapshotSchema.safeParse(snapshot);
  if (!parsed.success) {
    throw new InvalidSnapshotError(
      `invalid snapshot of ${String(snapshot.streamId)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const text = JSON.stringify({ ...snapshot, revision: snapshot.revision.toString() });
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_SNAPSHOT_BYTES) {
    throw new InvalidSnapshotError(
      `the snapshot of ${snapshot.streamId} is ${bytes} bytes; at most ${MAX_SNAPSHOT_BYTES} are stored`,
    );
  }
  return text;
}

const jsonSnapshotSchema = storedSnapshotSchema.extend({
  revision: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,19})$/)
    .transform((text) => BigInt(text)),
});

/** The snapshot `snapshotToJson` wrote, from its JSON value; anything else is an UnreadableSnapshotError. */
export function snapshotFromJson(streamId: string, value: unknown): StoredSnapshot {
  const parsed = jsonSnapshotSchema.safeParse(value);
  if (!parsed.success || parsed.data.streamId !== streamId) {
    throw new UnreadableSnapshotError(`the stored snapshot of ${streamId} is not a snapshot of that stream`);
  }
  return parsed.data;
}

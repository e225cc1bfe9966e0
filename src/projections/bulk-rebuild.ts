import { decodeEvent } from '../domain/event-catalogue.js';
import { LEDGER_STREAM_PREFIXES } from '../domain/stream-categories.js';
import { MAX_READ_ALL_PAGE, type EventStore } from '../ports/event-store.js';
import { MAX_STAGED_WRITES_PER_CALL, type ReadModelStaging } from '../ports/read-model-staging.js';
import { BulkBuilder, type BulkBuilderLimits, type DecodedEvent } from './bulk-builder.js';
import { isLedgerStream, logFilterFor, type Projection } from './projection.js';

/**
 * Rebuilding projections from event zero into a staging area (src/ports/read-model-staging.ts), the
 * bulk half of `ledger rebuild`: the log read and decoded once, each projection applied by a BulkBuilder
 * (bulk-builder.ts) with the live runner's rules, so the documents come out byte for byte as
 * ProjectionRunner writes them; the checkpoint, as the live runner's catch-up, is the position read
 * through. The log is read for the event types the projections read (logFilterFor), unless the streams
 * are counted: then every ledger event is read and counted, and only those types decoded.
 */

export interface BulkRebuildLimits extends BulkBuilderLimits {
  /** Events read and applied per step (one page of the log). */
  readonly maxBatchEvents: number;
}

/**
 * Measured on the 1,000,000-event benchmark (10,100 accounts): a cache that holds every account's
 * documents (balances, statement heads, account sub-ledgers) with room for the operations in flight
 * writes each document about once (with bulk-builder.ts's eviction, which lets single-batch documents go
 * first); 8,000 wrote hot documents and read them back again and again. A ledger with more accounts than
 * the cache holds costs more writes and reads, not more memory.
 */
export const DEFAULT_BULK_REBUILD_LIMITS: BulkRebuildLimits = {
  maxBatchEvents: 1_000,
  maxCachedDocuments: 12_000,
  maxPendingWrites: 2_000,
};

/** What a rebuild read, counted as `ledger audit verify` counts. */
export interface BulkRebuildTally {
  /** Ledger events read: all of them when the streams are counted, else those of the types read. */
  readonly events: number;
  /** Distinct streams read; null unless asked for (one worker counts them for the whole rebuild). */
  readonly streams: number | null;
  readonly lastPosition: bigint | 'start';
}

export interface BulkRebuildOptions {
  /**
   * The log is read through here and no further: a position it has reached (the head when the rebuild
   * began). The projections' checkpoints.
   */
  readonly through: bigint;
  readonly limits?: Partial<BulkRebuildLimits>;
  readonly countStreams?: boolean;
  /** Called after each batch with the position reached. */
  readonly onProgress?: (position: bigint, events: number) => void;
}

/**
 * Applies each of `projections` to the ledger events of `eventStore` up to `options.through` into
 * `staging`, reading and decoding the log once for all of them, then completes each there (deferred
 * indexes, checkpoint). The staging collections must be empty.
 */
export async function rebuildProjectionsInBulk(
  eventStore: EventStore,
  staging: ReadModelStaging,
  projections: readonly Projection[],
  options: BulkRebuildOptions,
): Promise<BulkRebuildTally> {
  const limits = { ...DEFAULT_BULK_REBUILD_LIMITS, ...options.limits };
  assertLimits(limits);
  await staging.ensureCollections(projections.flatMap((p) => p.collections));
  const builders = projections.map((projection) => new BulkBuilder(staging, projection, limits));
  const streams = options.countStreams ? new Set<string>() : undefined;
  const typesRead = logFilterFor(projections);
  const reads = new Set(typesRead.eventTypes);
  const filter = streams ? { streamPrefixes: LEDGER_STREAM_PREFIXES } : typesRead;
  let events = 0;
  let after: bigint | 'start' = 'start';
  let lastLedgerPosition: bigint | 'start' = 'start';
  for (;;) {
    const page = await eventStore.readAll({ after, maxCount: limits.maxBatchEvents, filter });
    const batch = page.filter((event) => event.position <= options.through && isLedgerStream(event.streamId));
    const last = page.findLast((event) => event.position <= options.through);
    if (last === undefined) break;
    const decoded: DecodedEvent[] = [];
    for (const recorded of batch) {
      if (reads.has(recorded.type)) decoded.push({ recorded, event: decodeEvent(recorded.type, recorded.data) });
    }
    if (decoded.length > 0) for (const builder of builders) await builder.apply(decoded);
    events += batch.length;
    if (streams) for (const event of batch) streams.add(event.streamId);
    if (batch.length > 0) lastLedgerPosition = batch[batch.length - 1]!.position;
    after = last.position;
    options.onProgress?.(after, events);
    if (last !== page[page.length - 1] || after >= options.through) break;
  }
  for (const builder of builders) await builder.complete(options.through);
  return { events, streams: streams ? streams.size : null, lastPosition: lastLedgerPosition };
}

function assertLimits(limits: BulkRebuildLimits): void {
  const within = (value: number, max: number) => Number.isInteger(value) && value >= 1 && value <= max;
  if (
    !within(limits.maxBatchEvents, MAX_READ_ALL_PAGE) ||
    !within(limits.maxPendingWrites, MAX_STAGED_WRITES_PER_CALL) ||
    !within(limits.maxCachedDocuments, 10_000_000)
  ) {
    throw new Error(`bulk rebuild limits out of range: ${JSON.stringify(limits)}`);
  }
}

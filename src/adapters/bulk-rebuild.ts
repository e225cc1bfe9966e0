import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LedgerConfig } from '../config.js';
import type { ReadModelStaging } from '../ports/read-model-staging.js';
import type { BulkRebuildLimits, BulkRebuildTally } from '../projections/bulk-rebuild.js';
import { logFilterFor, type Projection } from '../projections/projection.js';
import { discardStagingFiles, stagingFileFor, swapInStagingFiles } from './sqlite/bulk-swap.js';
import { SqliteReadModelStore, readModelTable } from './sqlite/sqlite-read-model-store.js';
import type { MongoReadModelStore } from './mongo/mongo-read-model-store.js';
import { READ_MODELS_FILE } from './storage.js';

/**
 * `ledger rebuild` in bulk mode: every chosen projection rebuilt from event zero at once, in worker threads
 * (src/adapters/bulk-rebuild-worker.ts, rebuildProjectionsInBulk) with their own connections, into a
 * staging area beside the live read models, which is then swapped in:
 *
 * - embedded (SQLite): a new file per worker, `read-models.sqlite.rebuild-<n>`, assembled into one and
 *   renamed over the live one once whole (src/adapters/sqlite/bulk-swap.ts). A crash before the rename
 *   leaves the old file as it was.
 * - MongoDB: collections under a staging prefix, renamed over the live ones (renameCollection with
 *   dropTarget), one projection at a time; see MongoReadModelStore.swapInStaged for the window.
 *
 * One worker per projection when there are cores for them; otherwise as many workers as cores, the
 * projections shared out by their measured cost (BUILD_COST), each worker reading and decoding the log
 * once for its projections. On a 2-core machine five workers each reading the whole log spent about 40%
 * of the rebuild's CPU on reading and decoding it five times, on cores the others needed, and each worker
 * costs 30-40 MB (a V8 isolate with the event schemas loaded) against a 400 MB bound.
 *
 * Memory is bounded per worker (explicit batch, cache and write limits, and a V8 heap limit), so the
 * whole rebuild's peak does not grow with the log.
 */

export type StagingTarget =
  | { readonly engine: 'sqlite'; readonly file: string }
  | { readonly engine: 'mongo'; readonly url: string; readonly prefix: string };

export type BulkRebuildConfig = Pick<LedgerConfig, 'dataDir' | 'eventStoreUrl' | 'mongoUrl' | 'accountingTimeZone'>;

/** What a builder thread is given (structured-cloned). */
export interface BulkRebuildWorkerData {
  readonly config: BulkRebuildConfig;
  readonly projections: readonly string[];
  readonly through: bigint;
  readonly staging: StagingTarget;
  readonly limits: Partial<BulkRebuildLimits>;
  readonly countStreams: boolean;
}

export type FromBulkRebuildWorker =
  | { readonly kind: 'progress'; readonly position: bigint }
  | { readonly kind: 'done'; readonly tally: BulkRebuildTally }
  | { readonly kind: 'failed'; readonly error: string };

/**
 * Each worker's V8 heap. Its live data is its batch, its document cache and its pending writes (30-70 MB
 * on the 1,000,000-event benchmark). Measured there on 2 cores: 36 MB of young generation and 112 MB of
 * old kept the collector near a fifth of the CPU with the whole rebuild under 400 MB; 3-16 MB young or
 * 64 MB old doubled its share, and without limits one worker grew past 500 MB. A worker that outgrows
 * them stops the rebuild (ERR_WORKER_OUT_OF_MEMORY) rather than the machine.
 */
const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 36, maxOldGenerationSizeMb: 112 } as const;

export interface BulkRebuildRun {
  readonly config: BulkRebuildConfig;
  /** The projections to rebuild; the others' read models are kept as they are. */
  readonly projections: readonly Projection[];
  /** Read the log through this position (its head when the rebuild began). */
  readonly through: bigint;
  readonly limits?: Partial<BulkRebuildLimits>;
  /** Worker threads; default: one per projection, at most one per core. */
  readonly workers?: number;
  /** The position every builder has reached, after each step of the slowest. */
  readonly onProgress?: (position: bigint) => void;
}

/** Rebuilds `run.projections` in bulk and swaps them in; what was read, counted as `audit verify` counts. */
export async function rebuildReadModelsInBulk(
  run: BulkRebuildRun,
): Promise<BulkRebuildTally & { readonly streams: number }> {
  if (run.projections.length === 0) throw new Error('nothing to rebuild: no projection chosen');
  const area = stagingAreaFor(run.config);
  await area.discard();
  try {
    const groups = shareOut(run.projections, run.workers ?? availableParallelism());
    const counter = countingWorker(groups);
    const tallies = await runWorkers(run, groups, area, counter);
    const counted = tallies[counter]!;
    for (const tally of tallies) {
      // The counting worker read every ledger event through the same position, the others some of them.
      if (tally.events > counted.events || (tally.lastPosition !== 'start' && tally.lastPosition > run.through))
        throw new Error(
          `the rebuild's workers disagree on what they read: ${tallies.map((t) => `${t.events}@${String(t.lastPosition)}`).join(', ')}`,
        );
    }
    await area.swapIn(
      run.projections.map((p) => ({ name: p.name, collections: p.collections.map((c) => c.name) })),
      groups.length,
    );
    return { events: counted.events, streams: counted.streams ?? 0, lastPosition: counted.lastPosition };
  } catch (error) {
    await area.discard().catch(() => undefined);
    throw error;
  }
}

/** Where a rebuild builds, for its engine: each worker's target, and how the result is swapped in. */
export interface StagingArea {
  target(worker: number): StagingTarget;
  /** Removes what an interrupted rebuild left. */
  discard(): Promise<void>;
  swapIn(rebuilt: readonly RebuiltProjection[], workers: number): Promise<void>;
}

export interface RebuiltProjection {
  readonly name: string;
  readonly collections: readonly string[];
}

/** MongoDB staging collections: `_rebuild.<collection>`, a name no read model can have. */
const MONGO_STAGING_PREFIX = '_rebuild.';

export function stagingAreaFor(config: BulkRebuildConfig): StagingArea {
  if (config.mongoUrl) return mongoStagingArea(config.mongoUrl);
  const liveFile = join(config.dataDir, READ_MODELS_FILE);
  return {
    target: (worker) => ({ engine: 'sqlite', file: stagingFileFor(liveFile, worker) }),
    discard: async () => discardStagingFiles(liveFile),
    swapIn: async (rebuilt, workers) =>
      swapInStagingFiles(
        liveFile,
        Array.from({ length: workers }, (_, worker) => stagingFileFor(liveFile, worker)),
        {
          projections: rebuilt.map((p) => p.name),
          tables: rebuilt.flatMap((p) => p.collections.map(readModelTable)),
        },
      ),
  };
}

function mongoStagingArea(url: string): StagingArea {
  const withLiveStore = async (work: (live: MongoReadModelStore) => Promise<void>): Promise<void> => {
    const { MongoReadModelStore } = await import('./mongo/mongo-read-model-store.js');
    const live = await MongoReadModelStore.connect(url);
    try {
      await work(live);
    } finally {
      await live.close();
    }
  };
  return {
    target: () => ({ engine: 'mongo', url, prefix: MONGO_STAGING_PREFIX }),
    discard: () => withLiveStore((live) => live.dropStaged(MONGO_STAGING_PREFIX)),
    swapIn: (rebuilt) => withLiveStore((live) => live.swapInStaged(MONGO_STAGING_PREFIX, rebuilt)),
  };
}

/** A worker's connection to its staging target. */
export async function openStaging(target: StagingTarget): Promise<ReadModelStaging> {
  if (target.engine === 'sqlite') return new SqliteReadModelStore(target.file, { bulk: true });
  const { MongoReadModelStore } = await import('./mongo/mongo-read-model-store.js');
  return MongoReadModelStore.connect(target.url, { stagingPrefix: target.prefix });
}

/**
 * Relative CPU cost of rebuilding each projection, from profiles of a 1,000,000-event log (applying its
 * changes and writing its documents, reading the log aside): only how projections are shared out among
 * fewer workers than projections depends on it, never what they build. Unknown projections count 2.
 */
const BUILD_COST: Readonly<Record<string, number>> = {
  books: 5,
  operations: 3,
  statements: 3,
  balances: 1,
  entities: 0.5,
};

/** Longest-first onto the least loaded worker. */
export function shareOut(projections: readonly Projection[], workers: number): Projection[][] {
  const groups = Array.from({ length: Math.max(1, Math.min(workers, projections.length)) }, () => ({
    cost: 0,
    projections: [] as Projection[],
  }));
  const cost = (p: Projection) => BUILD_COST[p.name] ?? 2;
  for (const projection of [...projections].sort((a, b) => cost(b) - cost(a))) {
    const lightest = groups.reduce((best, group) => (group.cost < best.cost ? group : best));
    lightest.projections.push(projection);
    lightest.cost += cost(projection);
  }
  return groups.map((group) => group.projections);
}

/**
 * The worker that counts what the rebuild read (every ledger event and stream, as `audit verify` counts):
 * it reads the whole ledger log, the others only the event types their projections read, so the one
 * whose projections read the most types already (operations and statements: nearly every event).
 */
function countingWorker(groups: readonly (readonly Projection[])[]): number {
  let best = 0;
  let bestTypes = -1;
  for (const [index, group] of groups.entries()) {
    const types = logFilterFor(group).eventTypes!.length;
    if (types > bestTypes) [best, bestTypes] = [index, types];
  }
  return best;
}

/** A worker per group of projections, all at once; the first failure stops the others. */
async function runWorkers(
  run: BulkRebuildRun,
  groups: readonly (readonly Projection[])[],
  area: StagingArea,
  counter: number,
): Promise<BulkRebuildTally[]> {
  const entry = new URL(
    import.meta.url.endsWith('.ts') ? './bulk-rebuild-worker.ts' : './bulk-rebuild-worker.js',
    import.meta.url,
  );
  const reached: bigint[] = groups.map(() => -1n);
  const workers: Worker[] = [];
  const report = (group: number, position: bigint) => {
    reached[group] = position;
    let lowest = position;
    for (const value of reached) if (value < lowest) lowest = value;
    if (lowest >= 0n) run.onProgress?.(lowest);
  };
  const builders = groups.map((projections, index) => {
    const names = projections.map((p) => p.name).join(', ');
    const data: BulkRebuildWorkerData = {
      config: {
        dataDir: run.config.dataDir,
        eventStoreUrl: run.config.eventStoreUrl,
        mongoUrl: run.config.mongoUrl,
        accountingTimeZone: run.config.accountingTimeZone,
      },
      projections: projections.map((p) => p.name),
      through: run.through,
      staging: area.target(index),
      limits: run.limits ?? {},
      // One worker counts the events and streams for all (countingWorker).
      countStreams: index === counter,
    };
    const worker = new Worker(entry, {
      workerData: data,
      name: `ledger-rebuild-${index}`,
      resourceLimits: WORKER_RESOURCE_LIMITS,
    });
    workers.push(worker);
    return new Promise<BulkRebuildTally>((resolve, reject) => {
      let tally: BulkRebuildTally | undefined;
      worker.on('message', (message: FromBulkRebuildWorker) => {
        if (message.kind === 'progress') report(index, message.position);
        else if (message.kind === 'done') tally = message.tally;
        else reject(new Error(`rebuilding ${names} failed: ${message.error}`));
      });
      worker.once('error', (error) => reject(new Error(`rebuilding ${names} failed: ${String(error)}`)));
      worker.once('exit', (code) =>
        tally ? resolve(tally) : reject(new Error(`the worker rebuilding ${names} stopped (exit code ${code})`)),
      );
    });
  });
  try {
    return await Promise.all(builders);
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    await Promise.allSettled(builders);
    throw error;
  }
}

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventStore } from '../ports/event-store.js';
import type { OnlineRebuildArea } from '../ports/read-model-staging.js';
import type { LeaseFence, ReadModelStore } from '../ports/read-model-store.js';
import { rebuildProjectionsInBulk, type BulkRebuildLimits } from './bulk-rebuild.js';
import type { Projection } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';

/**
 * Online rebuild: one projection, or several one after the other, rebuilt from event zero while the
 * service runs and takes commands, and switched in whole. Per projection:
 *
 * 1. building: a bulk build (rebuildProjectionsInBulk, the offline rebuild's builder) into the
 *    projection's own staging area (src/ports/read-model-staging.ts OnlineRebuildArea) through the log's
 *    head as it was when the build began;
 * 2. catching-up: the build, opened as a store, brought to the head by a ProjectionRunner of its own
 *    (the log moved on meanwhile);
 * 3. switching: with the live projections paused between two batches (ProjectionRunner.whilePaused:
 *    what they applied is written first), the build catches up with the head once more (the last few
 *    events), then replaces the live documents and checkpoint in one step of the store
 *    (OnlineRebuildArea.switchIn), fenced by the projections lease, and its version is recorded. The live
 *    runner then reads its checkpoints again and goes on: events up to the new checkpoint it skips.
 *
 * Until the switch every query reads the live model, whole; after it, the new one. A failure (or a crash)
 * at any step leaves the live model as it was; a failed build is dropped at once, a crashed one on the
 * next start (discardLeftovers). One rebuild runs at a time (a second is refused, never queued), so an
 * instance spends at most one builder's memory (the bulk builder's limits) on it.
 */

export type RebuildPhase = 'building' | 'catching-up' | 'switching' | 'done' | 'failed';

/** Why a rebuild runs: an operator asked (the API or `ledger projections rebuild`), or a version changed. */
export type RebuildReason = 'operator' | 'version';

export interface RebuildStatus {
  readonly reason: RebuildReason;
  /** The projections of this rebuild, in the order they are rebuilt. */
  readonly projections: readonly string[];
  /** Those switched in so far. */
  readonly switched: readonly string[];
  /** The projection being rebuilt; null once finished. */
  readonly current: string | null;
  readonly phase: RebuildPhase;
  /** The log position the current projection's build has reached (null before its first step). */
  readonly position: bigint | null;
  /** The log's head when the current phase began: position / head is the phase's progress. */
  readonly head: bigint | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Why it failed (phase `failed`). */
  readonly error: string | null;
}

export type RebuildRefusal = 'rebuild_in_progress' | 'projection_not_found' | 'projections_not_held';

/** A rebuild that cannot start (or switch): the code says why, for the API's problem answer. */
export class RebuildRefusedError extends Error {
  override readonly name = 'RebuildRefusedError';
  constructor(
    readonly code: RebuildRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** What the rebuild needs of the live projections: to run its switch while they are paused. */
export interface PausableProjections {
  /**
   * Runs `work` with the live projections paused (everything they applied written), given the fence of
   * the projections lease they run under; throws RebuildRefusedError('projections_not_held') once this
   * instance does not run them.
   */
  whilePaused<T>(work: (fence: LeaseFence | undefined) => Promise<T>): Promise<T>;
}

export interface OnlineRebuildOptions {
  /** Told every change of the status (each phase, each step of a build). */
  readonly onStatus?: (status: RebuildStatus) => void;
  readonly onError?: (error: unknown) => void;
  readonly limits?: Partial<BulkRebuildLimits>;
}

/** Thrown from a progress callback to end a rebuild the service is stopping. */
class RebuildStoppedError extends Error {
  override readonly name = 'RebuildStoppedError';
}

export class OnlineRebuilds {
  private current: RebuildStatus | null = null;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly eventStore: EventStore,
    private readonly live: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly area: OnlineRebuildArea,
    private readonly paused: PausableProjections,
    private readonly options: OnlineRebuildOptions = {},
  ) {
    this.reads = yieldingReads(eventStore);
  }

  /** The event store as the rebuild reads it: yielding to the event loop before each page (yieldingReads). */
  private readonly reads: EventStore;

  /** The running rebuild, or the last one (finished or failed); null before the first. */
  get status(): RebuildStatus | null {
    return this.current;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * Before the live projections start: drops what a crashed rebuild left, records the version of each
   * projection that has no documents yet (the live runner builds it from event zero, with this version),
   * and returns those whose stored documents were built with another version (a store from before
   * versions counts as version 1): to be rebuilt online once the live projections run (`start`).
   */
  async prepareOnStart(): Promise<string[]> {
    if (!this.busy) await this.area.discardAll();
    const versions = await this.live.getProjectionVersions();
    const stale: string[] = [];
    for (const projection of this.projections) {
      const recorded = versions.get(projection.name);
      if ((await this.live.getCheckpoint(projection.name)) === 'start') {
        if (recorded !== projection.version)
          await this.live.recordProjectionVersion(projection.name, projection.version);
      } else if ((recorded ?? 1) !== projection.version) stale.push(projection.name);
    }
    return stale;
  }

  /** Starts rebuilding `names` (every projection for 'all'), one after the other; refused while one runs. */
  start(names: readonly string[] | 'all', reason: RebuildReason): RebuildStatus {
    if (this.stopping) throw new RebuildRefusedError('projections_not_held', 'the projections are stopping');
    if (this.busy)
      throw new RebuildRefusedError(
        'rebuild_in_progress',
        `a rebuild of ${this.current?.projections.join(', ')} is running: one at a time`,
      );
    const chosen =
      names === 'all' ? [...this.projections] : [...new Set(names)].map((name) => this.projectionNamed(name));
    if (chosen.length === 0) throw new RebuildRefusedError('projection_not_found', 'no projection named');
    this.update({
      reason,
      projections: chosen.map((p) => p.name),
      switched: [],
      current: chosen[0]!.name,
      phase: 'building',
      position: null,
      head: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    });
    this.running = this.run(chosen).finally(() => {
      this.running = undefined;
    });
    return this.current!;
  }

  /** Resolves once no rebuild runs (tests; a stop). */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Ends a running rebuild at its next step (its build is dropped; the live model stays) and waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private projectionNamed(name: string): Projection {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection) throw new RebuildRefusedError('projection_not_found', `no projection is named ${name}`);
    return projection;
  }

  private async run(chosen: readonly Projection[]): Promise<void> {
    for (const projection of chosen) {
      try {
        await this.rebuildOne(projection);
      } catch (error) {
        await this.area.discard(projection.name).catch((e: unknown) => this.report(e));
        this.update({ phase: 'failed', finishedAt: new Date().toISOString(), error: messageOf(error) });
        if (!(error instanceof RebuildStoppedError)) this.report(error);
        return;
      }
      const switched = [...this.current!.switched, projection.name];
      const next = chosen[switched.length];
      this.update({
        switched,
        current: next?.name ?? null,
        phase: next ? 'building' : 'done',
        position: null,
        head: null,
      });
    }
    this.update({ finishedAt: new Date().toISOString() });
  }

  private async rebuildOne(projection: Projection): Promise<void> {
    const collections = projection.collections.map((c) => c.name);
    const progress = (position: bigint): void => {
      if (this.stopping) throw new RebuildStoppedError('the service is stopping: rebuild abandoned');
      this.update({ position });
    };
    const head = await this.eventStore.headPosition();
    this.update({ phase: 'building', head: head === 'start' ? 0n : head, position: null });
    const build = await this.area.openBuild(projection.name);
    try {
      if (head === 'start') {
        await build.ensureCollections(projection.collections);
        await build.completeProjection(projection.name, collections, 'start');
      } else {
        await rebuildProjectionsInBulk(this.reads, build, [projection], {
          through: head,
          onProgress: progress,
          ...(this.options.limits ? { limits: this.options.limits } : {}),
        });
      }
    } finally {
      await build.close();
    }
    const store = await this.area.openCatchUp(projection.name);
    let open = true;
    try {
      const runner = new ProjectionRunner(this.reads, store, [projection]);
      const catchUpHead = await this.eventStore.headPosition();
      this.update({ phase: 'catching-up', head: catchUpHead === 'start' ? 0n : catchUpHead });
      await runner.catchUp(progress);
      if (this.stopping) throw new RebuildStoppedError('the service is stopping: rebuild abandoned');
      this.update({ phase: 'switching' });
      await this.paused.whilePaused(async (fence) => {
        // The live projections wait: only what was appended since the catch-up is read here.
        await runner.catchUp();
        await store.close();
        open = false;
        await this.area.switchIn({ name: projection.name, collections, version: projection.version }, fence);
      });
    } finally {
      if (open) await store.close();
    }
  }

  private update(change: Partial<RebuildStatus>): void {
    this.current = { ...this.current!, ...change };
    this.options.onStatus?.(this.current);
  }

  private report(error: unknown): void {
    (this.options.onError ?? ((e) => console.error('online rebuild failed:', e)))(error);
  }
}

/**
 * `store` with each `readAll` put off to the event loop's next turn. The embedded stores answer at once
 * (synchronous SQLite behind a promise), so a build's loop would otherwise run from first page to last
 * in microtasks, and the live projections sharing the thread (their subscription's polls, the request
 * thread's messages) would wait for the whole build: read-your-writes answers stalled for as long.
 */
function yieldingReads(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'readAll')
        return async (...args: Parameters<EventStore['readAll']>) => {
          await nextTurn();
          return target.readAll(...args);
        };
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import type { EventStore } from '../ports/event-store.js';
import type { OnlineRebuildArea } from '../ports/read-model-staging.js';
import { LeaseLostError, type LeaseGrant, type ReadModelStore } from '../ports/read-model-store.js';
import { OnlineRebuilds, RebuildRefusedError, type RebuildStatus } from './online-rebuild.js';
import { PositionWaiter } from './position-wait.js';
import type { Projection } from './projection.js';
import { ProjectionRunner, type ProjectionRunnerOptions } from './projection-runner.js';

/**
 * The name of the one lease the live projections run under, all of them together: one runner reads and
 * decodes the log once for every projection (reading it once per projection would multiply the cost that
 * dominates catch-up), so the unit that can move between instances is the runner, not a projection.
 */
export const PROJECTIONS_LEASE = 'projections';

export interface LeaseTiming {
  /** How long a lease lasts without renewal: the longest a dead holder's projections stand still. */
  readonly ttlMs: number;
  /** How often the holder renews: a third of the TTL, so two renewals may fail before it expires. */
  readonly renewEveryMs: number;
  /** How often an instance that does not hold the lease tries to take it (it succeeds once it expired). */
  readonly takeOverPollMs: number;
}

export function leaseTimingFor(ttlMs: number): LeaseTiming {
  const third = Math.max(1, Math.floor(ttlMs / 3));
  return { ttlMs, renewEveryMs: third, takeOverPollMs: third };
}

export interface LeasedProjectionsOptions {
  /** This instance's holder id: unique per process start (host, pid and a random part). */
  readonly holder: string;
  readonly timing: LeaseTiming;
  readonly runner?: Omit<ProjectionRunnerOptions, 'fence' | 'onError' | 'onCheckpoint'>;
  readonly onError?: (error: unknown) => void;
  /** Told each checkpoint this instance's runner writes. */
  readonly onCheckpoint?: (projection: string, position: bigint) => void;
  /**
   * Told when this instance takes the lease (its grant) and when it stops holding it (null, and why
   * unless it was a graceful stop). Losing the lease is no failure: the instance goes on as a standby.
   */
  readonly onLeaseChange?: (grant: LeaseGrant | null, reason?: string) => void;
  /**
   * Where online rebuilds build (src/projections/online-rebuild.ts); without one, `rebuild` is refused
   * and no version is checked. While holding the lease, this instance rebuilds on start the projections
   * whose version changed, and an operator's rebuild on request.
   */
  readonly rebuildArea?: OnlineRebuildArea;
  /** Told every change of the online rebuild's status. */
  readonly onRebuildStatus?: (status: RebuildStatus) => void;
  /** Events an online rebuild's build reads per step (default: the bulk rebuild's). */
  readonly rebuildBatchEvents?: number;
}

/**
 * The live projections of one service instance among several sharing the stores: they run only while
 * this instance holds the projections lease in the read-model store.
 *
 * - The holder runs a ProjectionRunner whose every batch is fenced by the lease's token, and renews the
 *   lease every TTL/3. It believes it holds the lease until TTL after it last *sent* a renewal that then
 *   succeeded: the store's expiry is TTL after it *received* it, so the holder stops first. Past that
 *   point without a renewal, or as soon as a renewal or a fenced write says someone else holds it, the
 *   runner is stopped at once.
 * - The others poll every TTL/3 to take the lease over; a store says yes only once it has expired by the
 *   store's clock (or been released), and each acquisition gets a larger token, so a holder that stalled
 *   past its expiry and wakes up finds its next batch refused rather than overwriting its successor's.
 * - Each acquisition starts a fresh runner from the stored checkpoints: what another holder wrote since
 *   is not in this instance's memory.
 * - Read-your-writes (`waitForPosition`) is answered from the checkpoints in the store on every
 *   instance, holder or not (PositionWaiter polls them), so `minPosition` stays exact everywhere.
 * - A graceful stop writes what is applied, catches up with the head and releases the lease, so the
 *   next holder takes over at once rather than after the TTL.
 *
 * The lease's expiry is judged by the store's clock, which no fake clock can move: the loop's timing is
 * measured with the monotonic clock (performance.now) and tested with short real TTLs.
 */
export class LeasedProjections {
  private runner: ProjectionRunner | undefined;
  private grant: LeaseGrant | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private losing: Promise<void> | undefined;
  private readonly checkpoints = new Map<string, bigint>();
  private readonly positions: PositionWaiter;
  private readonly rebuilds: OnlineRebuilds | undefined;

  constructor(
    private readonly eventStore: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly options: LeasedProjectionsOptions,
  ) {
    const { ttlMs, renewEveryMs, takeOverPollMs } = options.timing;
    if (!(renewEveryMs > 0 && renewEveryMs < ttlMs && takeOverPollMs > 0))
      throw new RangeError('a lease is renewed (and polled for) more often than it expires');
    this.positions = new PositionWaiter({
      eventStore,
      readModels,
      eventTypesOf: (name) => projections.find((p) => p.name === name)?.eventTypes,
      knownCheckpoint: (projection) => this.checkpoints.get(projection),
      onBehind: () => this.runner?.requestFlush(),
      pollIntervalMs: 25,
    });
    if (options.rebuildArea) {
      this.rebuilds = new OnlineRebuilds(
        eventStore,
        readModels,
        projections,
        options.rebuildArea,
        { whilePaused: (work) => this.whilePaused(work) },
        {
          ...(options.onRebuildStatus ? { onStatus: options.onRebuildStatus } : {}),
          onError: (error) => this.report(error),
          ...(options.rebuildBatchEvents ? { limits: { maxBatchEvents: options.rebuildBatchEvents } } : {}),
        },
      );
    }
  }

  /**
   * Starts an online rebuild of `names` (or all) here; refused unless this instance holds the lease (the
   * switch pauses the live runner, which runs where the lease is) or while another rebuild runs.
   */
  async rebuild(names: readonly string[] | 'all'): Promise<RebuildStatus> {
    if (!this.rebuilds) throw new RebuildRefusedError('projections_not_held', 'this instance runs no online rebuilds');
    if (!this.holding)
      throw new RebuildRefusedError(
        'projections_not_held',
        'this instance does not hold the projections lease: ask the one that does (GET /v1/projections)',
      );
    return this.rebuilds.start(names, 'operator');
  }

  /** The running online rebuild, or the last one; null before any. */
  get rebuildStatus(): RebuildStatus | null {
    return this.rebuilds?.status ?? null;
  }

  /** Resolves once no online rebuild runs (tests). */
  async rebuildsIdle(): Promise<void> {
    await this.rebuilds?.idle();
  }

  private whilePaused<T>(work: (fence: { lease: string; token: bigint }) => Promise<T>): Promise<T> {
    const { runner, grant } = this;
    if (!runner || !grant)
      throw new RebuildRefusedError('projections_not_held', 'this instance no longer holds the projections lease');
    return runner.whilePaused(() => work({ lease: grant.name, token: grant.token }));
  }

  /** This instance's holder id, as the store's leases name it. */
  get holder(): string {
    return this.options.holder;
  }

  /** True while this instance holds the lease and runs the projections. */
  get holding(): boolean {
    return this.grant !== undefined;
  }

  /** A standby is healthy (it answers reads from the store); a holder while its runner applies events. */
  get healthy(): boolean {
    return this.runner?.healthy ?? true;
  }

  /** Tries to take the lease once (a lone instance runs its projections at once), then keeps at it. */
  async start(): Promise<void> {
    await this.readModels.ensureCollections(this.projections.flatMap((p) => p.collections));
    await this.tryToAcquire();
    this.loop = this.run();
  }

  requestFlush(): void {
    this.runner?.requestFlush();
  }

  waitForPosition(projection: string, position: bigint, timeoutMs: number): Promise<void> {
    return this.positions.waitForPosition(projection, position, timeoutMs);
  }

  /** Graceful: the holder writes what it applied, catches up with the head, and releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    // A rebuild under way is abandoned (its build dropped): the next holder starts one again if needed.
    await this.rebuilds?.stop();
    this.wakeLoop?.();
    await this.loop;
    await this.losing;
    clearTimeout(this.expiryTimer);
    const { runner, grant } = this;
    this.runner = undefined;
    this.grant = undefined;
    if (!runner || !grant) return;
    await runner.stop();
    try {
      await runner.catchUp();
    } catch (error) {
      // Taken over meanwhile (fenced), or the store is away: the next holder applies the rest.
      this.report(error);
    }
    await this.readModels.releaseLease(grant).catch((error: unknown) => this.report(error));
    this.options.onLeaseChange?.(null);
  }

  private async run(): Promise<void> {
    const { renewEveryMs, takeOverPollMs } = this.options.timing;
    while (!this.stopped) {
      await this.pause(this.grant ? renewEveryMs : takeOverPollMs);
      if (this.stopped) return;
      if (this.grant) await this.renew(this.grant);
      else await this.tryToAcquire();
    }
  }

  private async tryToAcquire(): Promise<void> {
    await this.losing;
    const { holder, timing } = this.options;
    const askedAtMs = performance.now();
    let grant: LeaseGrant | null;
    try {
      grant = await this.readModels.acquireLease(PROJECTIONS_LEASE, holder, timing.ttlMs);
    } catch (error) {
      this.report(error);
      return;
    }
    if (!grant) return;
    this.hold(grant, askedAtMs);
    const runner = new ProjectionRunner(this.eventStore, this.readModels, this.projections, {
      ...this.options.runner,
      fence: { lease: grant.name, token: grant.token },
      onError: (error) => {
        if (error instanceof LeaseLostError && this.runner === runner) void this.lose(error);
        else this.report(error);
      },
      onCheckpoint: (projection, position) => {
        this.checkpoints.set(projection, position);
        this.options.onCheckpoint?.(projection, position);
        this.positions.wake();
      },
    });
    this.runner = runner;
    this.options.onLeaseChange?.(grant);
    try {
      // Read before the runner writes: a projection without documents yet is built with this version.
      const stale = (await this.rebuilds?.prepareOnStart()) ?? [];
      await runner.start();
      if (stale.length > 0 && this.rebuilds && !this.rebuilds.busy) this.rebuilds.start(stale, 'version');
    } catch (error) {
      // Its checkpoints could not be read: give the lease up and try again at the next poll.
      this.report(error);
      if (this.runner === runner) await this.lose(error);
      await this.readModels.releaseLease(grant).catch(() => undefined);
    }
  }

  private async renew(grant: LeaseGrant): Promise<void> {
    const askedAtMs = performance.now();
    let renewed: LeaseGrant | null;
    try {
      renewed = await this.readModels.renewLease(grant, this.options.timing.ttlMs);
    } catch (error) {
      // Not renewed this time; the expiry timer stops the projections if it stays so until the TTL is out.
      this.report(error);
      return;
    }
    if (this.grant !== grant) return; // lost while the renewal was under way
    if (renewed) this.hold(renewed, askedAtMs);
    else await this.lose(new Error(`lease ${grant.name} was taken over or released: projections stopped`));
  }

  /** Holds `grant` until TTL after `askedAtMs` (the moment its request was sent), unless renewed by then. */
  private hold(grant: LeaseGrant, askedAtMs: number): void {
    this.grant = grant;
    clearTimeout(this.expiryTimer);
    const leftMs = askedAtMs + this.options.timing.ttlMs - performance.now();
    this.expiryTimer = setTimeout(
      () => void this.lose(new Error(`lease ${grant.name} not renewed within its TTL: projections stopped`)),
      Math.max(0, leftMs),
    );
    this.expiryTimer.unref();
  }

  /** Stops the projections at once: the lease is someone else's, or may be by now. */
  private lose(reason: unknown): Promise<void> {
    this.losing ??= (async () => {
      const runner = this.runner;
      this.runner = undefined;
      this.grant = undefined;
      clearTimeout(this.expiryTimer);
      this.options.onLeaseChange?.(null, reason instanceof Error ? reason.message : String(reason));
      // Its last flush is fenced: refused if someone else holds the lease, written if nobody took it.
      await runner?.stop().catch((error: unknown) => this.report(error));
    })().finally(() => {
      this.losing = undefined;
    });
    return this.losing;
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = (): void => {
        clearTimeout(timer);
        this.wakeLoop = undefined;
        resolve();
      };
      this.wakeLoop = done;
    });
  }

  private report(error: unknown): void {
    (this.options.onError ?? ((e) => console.error('projection lease:', e)))(error);
  }
}

import { Worker } from 'node:worker_threads';
import type { LedgerConfig } from '../config.js';
import type { EventStore } from '../ports/event-store.js';
import type { ReadModelStore } from '../ports/read-model-store.js';
import { projectionsFor } from '../projections/all-projections.js';
import { RebuildRefusedError, type RebuildRefusal, type RebuildStatus } from '../projections/online-rebuild.js';
import { PositionWaiter } from '../projections/position-wait.js';

/** What the request thread sends the projection worker. */
export type ToProjectionWorker =
  | { readonly kind: 'flush' }
  | { readonly kind: 'stop' }
  /** Start an online rebuild (answered by `rebuild-answer` with the same id). */
  | { readonly kind: 'rebuild'; readonly requestId: number; readonly projections: readonly string[] | 'all' };

/** What the projection worker sends back. */
export type FromProjectionWorker =
  | { readonly kind: 'ready'; readonly checkpoints: ReadonlyArray<readonly [string, bigint | 'start']> }
  | { readonly kind: 'checkpoint'; readonly projection: string; readonly position: bigint }
  /** The worker took the projections lease (its token) or stopped holding it (null, and why). */
  | { readonly kind: 'lease'; readonly token: bigint | null; readonly reason?: string }
  | { readonly kind: 'error'; readonly error: unknown }
  | {
      readonly kind: 'rebuild-answer';
      readonly requestId: number;
      readonly status?: RebuildStatus;
      readonly refused?: { readonly code: RebuildRefusal; readonly message: string };
    }
  /** Every change of the online rebuild's status. */
  | { readonly kind: 'rebuild-status'; readonly status: RebuildStatus };

export interface ProjectionWorkerData {
  readonly config: LedgerConfig;
  /** The holder id the worker takes the projections lease under. */
  readonly holder: string;
}

/** Longest pause before a worker that died is started again. */
const MAX_RESTART_BACKOFF_MS = 30_000;
/** How long a graceful stop lets the worker write what it holds before it is terminated. */
const STOP_TIMEOUT_MS = 10_000;
/** How long a rebuild request waits for the worker's answer (it answers at once unless it is stuck). */
const REBUILD_ANSWER_TIMEOUT_MS = 10_000;

/**
 * The projections in a worker thread (node:worker_threads): the ProjectionRunner runs there over its own
 * connections to the stores, so applying events and writing read models take the second core, not the
 * request thread's. The worker reports each checkpoint it writes; `waitForPosition` answers from those
 * (and from the store), exactly as the in-thread runner does. A worker that dies is started again after a
 * back-off; until it is running and applying, `healthy` is false (readiness reports it).
 */
export class ProjectionWorkerHost {
  private worker: Worker | undefined;
  private readonly checkpoints = new Map<string, bigint | 'start'>();
  private readonly positions: PositionWaiter;
  private running = false;
  private failing = false;
  /** The worker's token while it holds the projections lease, else null. */
  private leaseToken: bigint | null = null;
  private stopping = false;
  /** Consecutive deaths of the worker; reset once it writes a checkpoint again. */
  private deaths = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lastRebuild: RebuildStatus | null = null;
  private nextRequestId = 1;
  /** Rebuild requests sent to the worker and not answered yet, by id. */
  private readonly answers = new Map<number, (answer: FromProjectionWorker & { kind: 'rebuild-answer' }) => void>();

  constructor(
    private readonly config: LedgerConfig,
    /** This instance's holder id for the projections lease. */
    readonly holder: string,
    eventStore: EventStore,
    readModels: ReadModelStore,
    private readonly onError: (error: unknown) => void,
  ) {
    // The worker runs these (projection-worker.ts): a wait looks for the event types each of them reads.
    const projections = projectionsFor(config.accountingTimeZone);
    this.positions = new PositionWaiter({
      eventStore,
      readModels,
      eventTypesOf: (name) => projections.find((p) => p.name === name)?.eventTypes,
      knownCheckpoint: (projection) => this.checkpoints.get(projection),
      onBehind: () => this.post({ kind: 'flush' }),
      pollIntervalMs: 25,
    });
  }

  /** Starts the worker; resolves once it has opened the stores and read its checkpoints. */
  start(): Promise<void> {
    const entry = new URL(
      import.meta.url.endsWith('.ts') ? './projection-worker.ts' : './projection-worker.js',
      import.meta.url,
    );
    const data: ProjectionWorkerData = { config: this.config, holder: this.holder };
    const worker = new Worker(entry, { workerData: data, name: 'ledger-projections' });
    this.worker = worker;
    let ready: () => void = () => undefined;
    let failed: (error: unknown) => void = () => undefined;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    worker.on('message', (message: FromProjectionWorker) => {
      switch (message.kind) {
        case 'ready':
          for (const [projection, position] of message.checkpoints) this.advance(projection, position);
          this.running = true;
          this.failing = false;
          ready();
          break;
        case 'checkpoint':
          this.advance(message.projection, message.position);
          this.failing = false;
          this.deaths = 0;
          this.positions.wake();
          break;
        case 'lease':
          // Taking or losing the lease is no failure: a standby serves reads from the store.
          this.failing = false;
          this.leaseToken = message.token;
          if (message.reason !== undefined) console.warn(`projections lease: ${message.reason}`);
          break;
        case 'error':
          this.failing = true;
          this.onError(message.error);
          break;
        case 'rebuild-answer':
          this.answers.get(message.requestId)?.(message);
          break;
        case 'rebuild-status':
          this.lastRebuild = message.status;
          break;
      }
    });
    worker.on('error', (error) => {
      failed(error);
      this.onError(error);
    });
    this.exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        this.running = false;
        this.leaseToken = null;
        if (this.worker === worker) this.worker = undefined;
        failed(new Error(`projection worker exited with code ${code} before it was ready`));
        resolve();
        if (!this.stopping) this.restartLater(code);
      });
    });
    return started;
  }

  /** True while this instance's worker holds the projections lease (and runs them). */
  get holding(): boolean {
    return this.running && this.leaseToken !== null;
  }

  /** True while the worker is running and applying events; false while it restarts or backs off. */
  get healthy(): boolean {
    return this.running && !this.failing;
  }

  waitForPosition(projection: string, position: bigint, timeoutMs: number): Promise<void> {
    return this.positions.waitForPosition(projection, position, timeoutMs);
  }

  /** The worker's running online rebuild, or its last one (a restarted worker's first is null again). */
  get rebuildStatus(): RebuildStatus | null {
    return this.lastRebuild;
  }

  /** Asks the worker to start an online rebuild (it refuses unless it holds the lease and none runs). */
  rebuild(projections: readonly string[] | 'all'): Promise<RebuildStatus> {
    const worker = this.worker;
    if (!worker || !this.running)
      return Promise.reject(new RebuildRefusedError('projections_not_held', 'the projection worker is not running'));
    const requestId = this.nextRequestId++;
    return new Promise<RebuildStatus>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answers.delete(requestId);
        reject(
          new Error(`the projection worker did not answer the rebuild request in ${REBUILD_ANSWER_TIMEOUT_MS} ms`),
        );
      }, REBUILD_ANSWER_TIMEOUT_MS);
      this.answers.set(requestId, (answer) => {
        clearTimeout(timer);
        this.answers.delete(requestId);
        if (answer.status) {
          this.lastRebuild = answer.status;
          resolve(answer.status);
        } else reject(new RebuildRefusedError(answer.refused!.code, answer.refused!.message));
      });
      worker.postMessage({ kind: 'rebuild', requestId, projections } satisfies ToProjectionWorker);
    });
  }

  /** Ends the worker as a crash would (operations drills, tests): it is restarted like any dead worker. */
  async killWorker(): Promise<void> {
    await this.worker?.terminate();
  }

  /**
   * Graceful: the worker writes what it has applied, catches up with the log's head and closes its
   * connections; terminated if that takes longer than STOP_TIMEOUT_MS.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    // A worker still opening its stores has nothing to write: it is ended at once.
    if (this.running) this.post({ kind: 'stop' });
    else void worker.terminate();
    const killer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(killer);
  }

  private restartLater(code: number): void {
    this.deaths += 1;
    this.onError(new Error(`projection worker exited with code ${code}; restarting`));
    const backoffMs = Math.min(MAX_RESTART_BACKOFF_MS, 250 * 2 ** Math.min(this.deaths - 1, 8));
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      // A failed start ends in another exit, which schedules the next attempt.
      this.start().catch(() => undefined);
    }, backoffMs);
    this.restartTimer.unref();
  }

  /** Checkpoints only move forward: a `ready` read before a `checkpoint` message may arrive after it. */
  private advance(projection: string, position: bigint | 'start'): void {
    const known = this.checkpoints.get(projection);
    if (position === 'start' || (known !== undefined && known !== 'start' && known >= position)) {
      if (known === undefined) this.checkpoints.set(projection, position);
      return;
    }
    this.checkpoints.set(projection, position);
  }

  private post(message: ToProjectionWorker): void {
    if (this.running) this.worker?.postMessage(message);
  }
}

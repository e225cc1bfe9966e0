import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../ports/clock.js';
import type { InstanceRecord, InstanceRegistry } from '../ports/instance-registry.js';

/**
 * Who owns an idempotency claim, and whether that owner is known to be gone (IdempotencyKeeper): a claim
 * of a gone owner is taken over at once; one of an owner that may still work is not.
 */
export interface ClaimOwners {
  /** This instance: the owner its claims name. */
  readonly self: string;
  /** True only when `owner` is known to work on nothing any more; false when alive or when unsure. */
  isGone(owner: string): Promise<boolean>;
}

export interface HeartbeatTiming {
  /** How often the instance records that it is alive. */
  readonly beatIntervalMs: number;
  /** A heartbeat older than this says its instance is gone (several intervals, plus clock differences). */
  readonly staleAfterMs: number;
}

/** Silent this long (a day), a record is purged at start: it was gone long ago; bounded per start. */
const PURGE_SILENT_AFTER_MS = 86_400_000;
const PURGE_MAX_ROWS = 1_000;

/**
 * This instance in the instance registry: recorded at `start` (before it takes requests), a heartbeat every
 * `beatIntervalMs`, ended at `stop`. An owner is gone when it ended, when the registry knows its process is
 * gone (the embedded store's OS lock), when its heartbeat is older than `staleAfterMs` by this instance's
 * clock, or when it is not on record (every instance records itself before its first claim, and only
 * records silent for a day are purged). A registry that cannot answer means "unsure": not gone.
 */
export class InstanceHeartbeats implements ClaimOwners {
  readonly self: string;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly registry: InstanceRegistry,
    private readonly clock: Clock,
    private readonly timing: HeartbeatTiming,
    private readonly onError: (error: unknown) => void = (error) => console.error('instance heartbeat failed:', error),
    self: string = newInstanceId(),
  ) {
    if (!(timing.beatIntervalMs > 0 && timing.staleAfterMs >= 2 * timing.beatIntervalMs))
      throw new RangeError('the staleness limit must be at least two heartbeat intervals');
    this.self = self;
  }

  async start(): Promise<void> {
    const now = this.clock.now().toJSDate();
    await this.registry.register(this.self, now);
    await this.registry
      .purgeSilentSince(new Date(now.getTime() - PURGE_SILENT_AFTER_MS), PURGE_MAX_ROWS)
      .catch(this.onError);
    this.timer = setInterval(() => {
      // One beat at a time: a slow store never piles them up.
      this.beating = this.beating.then(() => this.beat());
    }, this.timing.beatIntervalMs);
    this.timer.unref();
  }

  /** A clean stop: the instance is marked ended, so its unanswered claims are taken over at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    await this.registry.end(this.self, this.clock.now().toJSDate()).catch(this.onError);
    await this.registry.close();
  }

  async isGone(owner: string): Promise<boolean> {
    if (owner === this.self) return false;
    let record: InstanceRecord | undefined;
    try {
      record = await this.registry.instance(owner);
    } catch (error) {
      this.onError(error);
      return false;
    }
    if (record === undefined) return true;
    return instanceState(record, this.clock.now().toMillis(), this.timing.staleAfterMs) !== 'running';
  }

  private async beat(): Promise<void> {
    try {
      const recorded = await this.registry.beat(this.self, this.clock.now().toJSDate());
      if (!recorded) this.onError(new Error(`instance ${this.self} is no longer on record: its claims may be taken`));
    } catch (error) {
      this.onError(error);
    }
  }
}

/**
 * What a record says of its instance at `nowMs`: `running` (beating), `ended` (stopped cleanly), `gone`
 * (its process ended without stopping), `silent` (no heartbeat for longer than `staleAfterMs`). Only
 * `running` may still work on a claim.
 */
export function instanceState(
  record: InstanceRecord,
  nowMs: number,
  staleAfterMs: number,
): 'running' | 'ended' | 'gone' | 'silent' {
  if (record.endedAt !== null) return 'ended';
  if (record.processGone) return 'gone';
  return nowMs - record.lastBeatAt.getTime() > staleAfterMs ? 'silent' : 'running';
}

/** Unique per process start and readable: the host, the process, and a random part (a reused pid). */
export function newInstanceId(): string {
  const host =
    hostname()
      .replaceAll(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 60) || 'host';
  return `${host}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

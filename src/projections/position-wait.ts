import { LEDGER_STREAM_PREFIXES } from '../domain/stream-categories.js';
import type { EventFilter, EventStore } from '../ports/event-store.js';
import type { ReadModelStore } from '../ports/read-model-store.js';

export class PositionWaitTimeoutError extends Error {
  override readonly name = 'PositionWaitTimeoutError';
  constructor(
    readonly position: bigint,
    readonly timeoutMs: number,
  ) {
    super(`read model did not reach position ${position} within ${timeoutMs} ms`);
  }
}

export interface PositionWaitOptions {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  /** The checkpoint this process knows the projection has written (undefined: ask the store). */
  readonly knownCheckpoint: (projection: string) => bigint | 'start' | undefined;
  /** Called while a wait is behind: whoever applies events may write what it holds in memory now. */
  readonly onBehind: () => void;
  /** How often a wait re-reads checkpoints written elsewhere (another process or thread). */
  readonly pollIntervalMs: number;
  /**
   * The event types a projection reads (Projection.eventTypes): its runner reads the log for those only,
   * so its checkpoint stops at the last of them; later events of other types are nothing for it to
   * apply. Undefined for a projection not known here: any ledger event counts.
   */
  readonly eventTypesOf: (projection: string) => readonly string[] | undefined;
}

/**
 * Read-your-writes: resolves once a projection's written checkpoint has reached a position. Shared by
 * the runner (projections in this thread) and the worker's host (projections in a worker thread, or in
 * another instance holding the lease), so both answer `minPosition` the same way.
 */
export class PositionWaiter {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: PositionWaitOptions) {}

  /** Wakes every wait to look again (a checkpoint moved). */
  wake(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves once `projection` has applied `position`, or fails after `timeoutMs`. */
  async waitForPosition(projection: string, position: bigint, timeoutMs: number): Promise<void> {
    const { readModels, knownCheckpoint, onBehind, pollIntervalMs } = this.options;
    const deadline = Date.now() + timeoutMs;
    // A checkpoint below a ledger event at or before `position`: nothing to look up until it moves.
    let pendingFrom: bigint | 'start' | undefined;
    for (;;) {
      const checkpoint = knownCheckpoint(projection) ?? (await readModels.getCheckpoint(projection));
      if (checkpoint !== 'start' && checkpoint >= position) return;
      onBehind();
      const fresh = await readModels.getCheckpoint(projection);
      if (fresh !== 'start' && fresh >= position) return;
      if (fresh !== pendingFrom) {
        const left = await this.leftToApplyUpTo(projection, fresh, position);
        if (left === 'nothing') return;
        if (left === 'ledger_events') pendingFrom = fresh;
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new PositionWaitTimeoutError(position, timeoutMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(remainingMs, pollIntervalMs));
        const waiters = this.waiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /**
   * What lies between the checkpoint and `position`: events the projection has still to apply,
   * nothing (the log has reached `position` and only events the projection does not read lie in between,
   * such as idempotency records: the projection is there), or the log has not reached `position` yet. The
   * log's head (GET /v1/log/head) is often an idempotency record: waiting for it must not time out.
   */
  private async leftToApplyUpTo(
    projection: string,
    checkpoint: bigint | 'start',
    position: bigint,
  ): Promise<'ledger_events' | 'nothing' | 'log_behind'> {
    const { eventStore } = this.options;
    // The head first: once it has reached `position`, every event at or before it is committed, so the
    // read that follows sees them all.
    const head = await eventStore.headPosition();
    const eventTypes = this.options.eventTypesOf(projection);
    const filter: EventFilter = eventTypes ? { eventTypes } : { streamPrefixes: LEDGER_STREAM_PREFIXES };
    const [next] = await eventStore.readAll({ after: checkpoint, maxCount: 1, filter });
    if (next !== undefined && next.position <= position) return 'ledger_events';
    return head !== 'start' && head >= position ? 'nothing' : 'log_behind';
  }
}

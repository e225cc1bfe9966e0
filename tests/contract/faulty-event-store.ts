import {
  AppendOutcomeUnknownError,
  EventStoreUnavailableError,
  type AppendResult,
  type ExpectedRevision,
  type NewEvent,
} from '../../src/ports/event-store.js';
import { EventStoreWrapper } from './event-store-wrapper.js';

/**
 * How the next append fails, the ways a real engine's append fails:
 *   - `none`: it does not (to let earlier appends of a command through);
 *   - `unavailable`: refused before anything is written (no leader, no connection);
 *   - `timeout-after-write`: written, but the answer is lost (a deadline, a dropped connection);
 *   - `lost`: not written, and the caller cannot tell (the request never reached the leader);
 *   - `lands-late`: the caller hears a timeout at once, the append is written when `releaseLate()` is called
 *     (a commit the leader finishes after the client gave up).
 */
export type AppendFault = 'none' | 'unavailable' | 'timeout-after-write' | 'lost' | 'lands-late';

/**
 * Wraps any event store (the embedded one, or a real EventStoreDB) and injects append faults, so the
 * contract and the command side are tested against what a real engine does when it fails. Reads and
 * subscriptions pass through.
 */
export class FaultyEventStore extends EventStoreWrapper {
  private readonly faults: AppendFault[] = [];
  private readonly late: Array<() => Promise<AppendResult>> = [];
  /** Appends that reached the inner store, faulty or not. */
  appendsWritten = 0;

  /** The next appends (one per fault, in order) fail this way; appends to other streams count too. */
  failNextAppends(...faults: AppendFault[]): void {
    this.faults.push(...faults);
  }

  /** Writes the appends held back by `lands-late`, in order; returns what each one answered (or threw). */
  async releaseLate(): Promise<PromiseSettledResult<AppendResult>[]> {
    const held = this.late.splice(0);
    const outcomes: PromiseSettledResult<AppendResult>[] = [];
    for (const write of held) {
      try {
        outcomes.push({ status: 'fulfilled', value: await write() });
      } catch (reason) {
        outcomes.push({ status: 'rejected', reason });
      }
    }
    return outcomes;
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    const fault = this.faults.shift();
    const write = async () => {
      const result = await this.inner.appendToStream(streamId, events, expectedRevision);
      this.appendsWritten += 1;
      return result;
    };
    switch (fault) {
      case undefined:
      case 'none':
        return write();
      case 'unavailable':
        throw new EventStoreUnavailableError(`injected: ${streamId} unavailable, nothing written`);
      case 'timeout-after-write':
        await write();
        throw new AppendOutcomeUnknownError(`injected: the append to ${streamId} timed out after it was written`);
      case 'lost':
        throw new AppendOutcomeUnknownError(`injected: the append to ${streamId} was lost on the way`);
      case 'lands-late':
        this.late.push(write);
        throw new AppendOutcomeUnknownError(`injected: the append to ${streamId} timed out; it will land later`);
    }
  }
}

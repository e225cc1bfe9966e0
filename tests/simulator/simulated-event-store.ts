import {
  AppendOutcomeUnknownError,
  EventStoreUnavailableError,
  type AppendResult,
  type ExpectedRevision,
  type NewEvent,
  type StreamAppend,
} from '../../src/ports/event-store.js';
import { EventStoreWrapper } from '../contract/event-store-wrapper.js';

/**
 * How one append goes: as asked, refused (nothing written), lost on the way (nothing written, the caller
 * hears "unknown"), written with the answer lost (the store fails after writing), or the process dies
 * just before or just after the write (SimulatedCrash: the simulation drops every in-memory object and
 * restarts from the files).
 */
export type AppendFault = 'none' | 'unavailable' | 'lost' | 'written-unanswered' | 'crash-before' | 'crash-after';

/** The process died: nothing after this point of the command ran. Caught by the simulation, never by the ledger's code paths it tests. */
export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash ${where}`);
    this.name = 'SimulatedCrash';
  }
}

/**
 * The real event store with seeded faults on its appends, single-stream and multi-stream alike (so the
 * one-commit path is faulted too). Reads pass through: the faults are the write path's.
 */
export class SimulatedEventStore extends EventStoreWrapper {
  constructor(
    inner: ConstructorParameters<typeof EventStoreWrapper>[0],
    private readonly nextFault: () => AppendFault,
  ) {
    super(inner);
  }

  appendToStream(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.faulted(streamId, () => this.inner.appendToStream(streamId, events, expected));
  }

  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    const inner = this.inner;
    if (!inner.appendToStreams) throw new Error('the simulation runs on the embedded store (multi-stream appends)');
    return this.faulted(appends.map((a) => a.streamId).join('+'), () => inner.appendToStreams!(appends));
  }

  private async faulted<T>(where: string, write: () => Promise<T>): Promise<T> {
    const fault = this.nextFault();
    switch (fault) {
      case 'none':
        return write();
      case 'unavailable':
        throw new EventStoreUnavailableError(`simulated: ${where} refused, nothing written`);
      case 'lost':
        throw new AppendOutcomeUnknownError(`simulated: the append to ${where} was lost on the way`);
      case 'written-unanswered':
        await write();
        throw new AppendOutcomeUnknownError(`simulated: the append to ${where} was written, its answer lost`);
      case 'crash-before':
        throw new SimulatedCrash(`before appending to ${where}`);
      case 'crash-after':
        await write();
        throw new SimulatedCrash(`after appending to ${where}`);
    }
  }
}

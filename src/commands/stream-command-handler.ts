import { decodeEvent, encodeEvent, type LedgerEvent } from '../domain/event-catalogue.js';
import { WrongExpectedRevisionError, type EventStore, type NewEvent } from '../ports/event-store.js';
import { deriveEventId, type CommandContext } from './command-context.js';
import { KeyedSerialQueue } from './keyed-serial-queue.js';

export interface Decider<Command, Event extends LedgerEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export interface HandledCommand<Event, State> {
  readonly events: readonly Event[];
  readonly state: State;
  /** The stream's revision after the command. */
  readonly revision: bigint;
  /** Global position of the command's last event (the one to wait for when reading your writes). */
  readonly position: bigint;
}

export interface StreamCommandHandlerLimits {
  /** Streams whose state is kept in memory (least recently used beyond this are dropped). */
  readonly cachedStreams: number;
  /** Attempts at one command when another writer (another process) moved the stream meanwhile. */
  readonly maxAttempts: number;
  /** Commands that may wait behind one stream before new ones are refused. */
  readonly maxWaitingPerStream: number;
}

export const DEFAULT_HANDLER_LIMITS: StreamCommandHandlerLimits = {
  cachedStreams: 100_000,
  maxAttempts: 5,
  maxWaitingPerStream: 10_000,
};

interface CachedStream<State> {
  state: State;
  /** Last revision folded into `state`; -1n for a stream with no events. */
  revision: bigint;
}

/**
 * Load -> decide -> append with the exact expected revision, for one stream.
 *
 * State is kept in memory per stream (an LRU cache) and brought up to date by reading only the events
 * after the cached revision, so a command on a stream with 100,000 events costs the same as on a new
 * one. Commands on the same stream are serialised in this process; a conflict with another process
 * reloads the new events and decides again, a bounded number of times.
 */
export class StreamCommandHandler<Command, Event extends LedgerEvent, State> {
  private readonly cache = new Map<string, CachedStream<State>>();
  private readonly queue: KeyedSerialQueue;

  constructor(
    private readonly eventStore: EventStore,
    private readonly decider: Decider<Command, Event, State>,
    private readonly limits: StreamCommandHandlerLimits = DEFAULT_HANDLER_LIMITS,
  ) {
    this.queue = new KeyedSerialQueue(limits.maxWaitingPerStream);
  }

  handle(streamId: string, command: Command, context: CommandContext): Promise<HandledCommand<Event, State>> {
    return this.queue.run(streamId, () => this.handleNow(streamId, command, context));
  }

  /** The stream's current state, brought up to date from the event store. */
  load(streamId: string): Promise<{ state: State; revision: bigint }> {
    return this.queue.run(streamId, async () => {
      const current = await this.catchUp(streamId);
      return { state: current.state, revision: current.revision };
    });
  }

  private async handleNow(streamId: string, command: Command, context: CommandContext): Promise<HandledCommand<Event, State>> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.catchUp(streamId);
      const events = this.decider.decide(command, current.state);
      if (events.length === 0) {
        return { events, state: current.state, revision: current.revision, position: -1n };
      }
      const newEvents = events.map((event, index) => toNewEvent(event, index, streamId, context));
      try {
        const expected = current.revision < 0n ? 'no_stream' : current.revision;
        const result = await this.eventStore.appendToStream(streamId, newEvents, expected);
        if (result.nextExpectedRevision !== current.revision + BigInt(events.length)) {
          // An idempotent replay: these events were recorded before, earlier in the stream. Our cached
          // state did not include them as new; reload so the cache matches the store.
          this.cache.delete(streamId);
          const reloaded = await this.catchUp(streamId);
          return { events, state: reloaded.state, revision: reloaded.revision, position: result.position };
        }
        const state = events.reduce((s, e) => this.decider.evolve(s, e), current.state);
        this.remember(streamId, { state, revision: result.nextExpectedRevision });
        return { events, state, revision: result.nextExpectedRevision, position: result.position };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= this.limits.maxAttempts) throw error;
        // Another process wrote to this stream; the next catchUp reads what it wrote.
      }
    }
  }

  private async catchUp(streamId: string): Promise<CachedStream<State>> {
    const cached = this.cache.get(streamId) ?? { state: this.decider.initialState(), revision: -1n };
    let { state, revision } = cached;
    for await (const recorded of this.eventStore.readStream(streamId, { fromRevision: revision + 1n })) {
      state = this.decider.evolve(state, decodeEvent(recorded.type, recorded.data) as Event);
      revision = recorded.revision;
    }
    const current = { state, revision };
    this.remember(streamId, current);
    return current;
  }

  private remember(streamId: string, entry: CachedStream<State>): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, entry);
    if (this.cache.size > this.limits.cachedStreams) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}

export function toNewEvent(event: LedgerEvent, index: number, streamId: string, context: CommandContext): NewEvent {
  const { type, data } = encodeEvent(event);
  return {
    type,
    data,
    metadata: {
      eventId: deriveEventId(context.operationKey, streamId, index),
      correlationId: context.correlationId,
      causationId: context.causationId,
      idempotencyKey: context.idempotencyKey,
      actor: context.actor,
      occurredAt: context.occurredAt,
      schemaVersion: 1,
    },
  };
}

import { decodeEvent, encodeOwnEvent, type LedgerEvent } from '../domain/event-catalogue.js';
import { evictOldest } from '../domain/shared/evict-oldest.js';
import {
  AppendOutcomeUnknownError,
  AppendRefusedError,
  InvalidEventError,
  MAX_EVENTS_PER_APPEND,
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
} from '../ports/event-store.js';
import { appendKnown } from './append-known.js';
import { deriveEventId, type CommandContext } from './command-context.js';
import type { StreamSnapshots } from './stream-snapshots.js';

/** Too many commands wait for one stream: the caller should back off (503 overloaded). */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(
    readonly key: string,
    readonly limit: number,
  ) {
    super(`more than ${limit} commands are waiting for ${key}`);
  }
}

export interface Decider<Command, Event extends LedgerEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export interface HandledCommand<Event, State> {
  readonly events: readonly Event[];
  /** The stream's state right after this command's events. */
  readonly state: State;
  /** The stream's revision after this command's events. */
  readonly revision: bigint;
  /**
   * Global position at or after this command's last event (the end of the append it was committed in):
   * waiting for a read model to reach it always includes this command. When the command recorded nothing
   * (a retry, a step already done), the position of the stream's last event, so an answer derived from
   * the stream always has one; -1n only for a stream that has no events.
   */
  readonly position: bigint;
}

/** A stream's state as loaded, with where it ends. */
export interface LoadedStream<State> {
  readonly state: State;
  readonly revision: bigint;
  /** Global position of the stream's last event; -1n for a stream with no events. */
  readonly position: bigint;
}

export interface StreamCommandHandlerLimits {
  /** Streams whose state is kept in memory (least recently used beyond this are dropped, 1/64 at once). */
  readonly cachedStreams: number;
  /** Attempts at a batch when another writer (another process) moved the stream meanwhile. */
  readonly maxAttempts: number;
  /** Commands that may wait behind one stream before new ones are refused. */
  readonly maxWaitingPerStream: number;
  /** Commands decided together and committed in one append. */
  readonly maxCommandsPerAppend: number;
}

export const DEFAULT_HANDLER_LIMITS: StreamCommandHandlerLimits = {
  cachedStreams: 100_000,
  // Several processes hammering one hot account conflict often; each retry re-reads only the new events.
  maxAttempts: 30,
  maxWaitingPerStream: 10_000,
  // A command records at most two events on one stream (a Sequence of a credit and a hold), so 50
  // commands always fit the event store's 100 events per append.
  maxCommandsPerAppend: 50,
};

/** Longest pause between two attempts after a conflict with another process. */
const MAX_CONFLICT_BACKOFF_MS = 50;

interface CachedStream<State> {
  state: State;
  /** Last revision folded into `state`; -1n for a stream with no events. */
  revision: bigint;
  /** Global position of that last event; -1n for a stream with no events. */
  position: bigint;
}

type Waiting<Command, Event, State> =
  | {
      kind: 'command';
      command: Command;
      context: CommandContext;
      resolve: (r: HandledCommand<Event, State>) => void;
      reject: (e: unknown) => void;
    }
  | { kind: 'load'; resolve: (r: LoadedStream<State>) => void; reject: (e: unknown) => void };

/**
 * Load -> decide -> append with the exact expected revision, for one stream at a time.
 *
 * - State is kept in memory per stream (an LRU cache). A command is decided on the cached state and
 *   appended with its revision: if another process wrote meanwhile, the append is refused and only the
 *   events after the cached revision are read. A command on a stream with 100,000 events costs what it
 *   costs on a new one. `load` (for checks and reads) always reads the events after the cached revision.
 * - A stream not in memory starts from its snapshot when it has one that verifies (stream-snapshots.ts):
 *   a cold service reads only the events after it, however long the stream.
 * - Commands for the same stream queue in this process; those waiting when the stream is free are
 *   decided one after another against the evolving state and committed in ONE append. A hot merchant
 *   account therefore takes many payments per disk flush instead of one, and never retries against
 *   itself.
 * - A conflict with another process re-reads the new events and decides the batch again, a bounded
 *   number of times. Refusals are answered only once the batch's events are committed, so a refusal is
 *   never based on state that turned out stale.
 * - A command decided again (a retry, a resume, a conflict) derives the same event ids, and the event
 *   store recognises them as a repeat while they are among the stream's last IDEMPOTENCY_WINDOW_EVENTS
 *   events (src/ports/event-store.ts): the handler relies on nothing further back. A batch the store
 *   refuses for its own events (a repeat beside new commands) while the stream has not moved is run one
 *   command at a time, so the repeat is answered as one and the others are recorded.
 * - An append whose outcome the store could not tell is read back before anything else (appendKnown);
 *   still unknown, it fails the batch with AppendOutcomeUnknownError and forgets the cached state.
 */
export class StreamCommandHandler<Command, Event extends LedgerEvent, State> {
  private readonly cache = new Map<string, CachedStream<State>>();
  private readonly waiting = new Map<string, Waiting<Command, Event, State>[]>();
  private readonly draining = new Set<string>();

  constructor(
    private readonly eventStore: EventStore,
    /** Also decides for the one-commit path (one-commit.ts), on the states this handler loads. */
    readonly decider: Decider<Command, Event, State>,
    private readonly limits: StreamCommandHandlerLimits = DEFAULT_HANDLER_LIMITS,
    /** A stream not in memory starts from its verified snapshot; states are offered for new ones. */
    private readonly snapshots?: StreamSnapshots<State>,
  ) {}

  handle(streamId: string, command: Command, context: CommandContext): Promise<HandledCommand<Event, State>> {
    return new Promise((resolve, reject) =>
      this.enqueue(streamId, { kind: 'command', command, context, resolve, reject }),
    );
  }

  /** The stream's current state, brought up to date from the event store, in line with queued commands. */
  load(streamId: string): Promise<LoadedStream<State>> {
    return new Promise((resolve, reject) => this.enqueue(streamId, { kind: 'load', resolve, reject }));
  }

  private enqueue(streamId: string, item: Waiting<Command, Event, State>): void {
    const queue = this.waiting.get(streamId) ?? [];
    if (queue.length >= this.limits.maxWaitingPerStream) {
      item.reject(new QueueFullError(streamId, this.limits.maxWaitingPerStream));
      return;
    }
    queue.push(item);
    this.waiting.set(streamId, queue);
    if (!this.draining.has(streamId)) {
      this.draining.add(streamId);
      void this.drain(streamId);
    }
  }

  private async drain(streamId: string): Promise<void> {
    try {
      for (;;) {
        const queue = this.waiting.get(streamId);
        if (!queue || queue.length === 0) break;
        const batch = queue.splice(0, this.limits.maxCommandsPerAppend);
        await this.runBatch(streamId, batch);
      }
    } finally {
      this.waiting.delete(streamId);
      this.draining.delete(streamId);
    }
  }

  private async runBatch(streamId: string, batch: Waiting<Command, Event, State>[]): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      let current: CachedStream<State>;
      let cachedState: CachedStream<State> | undefined;
      try {
        // Optimistic first attempt: a cached stream is decided on as it is, and the append's expected
        // revision catches any event another process wrote since; later attempts read those events first.
        // A batch with a `load` in it always reads: a load promises the store's current state.
        const optimistic = attempt === 1 && batch.every((item) => item.kind === 'command');
        cachedState = optimistic ? this.cache.get(streamId) : undefined;
        current = cachedState ?? (await this.catchUp(streamId));
      } catch (error) {
        for (const item of batch) item.reject(error);
        return;
      }
      const outcomes = this.decideAll(streamId, batch, current);
      const newEvents = outcomes.flatMap((o) => (o.ok ? o.newEvents : []));
      if (newEvents.length === 0) {
        // Nothing to append means no revision check: a refusal decided on the cache is confirmed on the
        // store's current state before it is answered (another process may have changed the stream).
        if (cachedState && outcomes.some((o) => !o.ok)) continue;
        this.settle(batch, outcomes, current.position);
        return;
      }
      try {
        const expected = current.revision < 0n ? 'no_stream' : current.revision;
        const result = await appendKnown(this.eventStore, streamId, newEvents, expected);
        if (result.nextExpectedRevision !== current.revision + BigInt(newEvents.length)) {
          // An idempotent replay: these event ids were recorded before, so nothing new was written. Answer
          // with the stream as stored, not as decided: nothing of this call's decision was recorded.
          this.cache.delete(streamId);
          const stored = await this.catchUp(streamId);
          for (const item of batch) {
            if (item.kind === 'load') item.resolve(stored);
            else
              item.resolve({ events: [], state: stored.state, revision: stored.revision, position: stored.position });
          }
          return;
        } else {
          const last = outcomes.filter((o) => o.ok).at(-1);
          const appended = {
            state: last?.ok ? last.state : current.state,
            revision: result.nextExpectedRevision,
            position: result.position,
          };
          this.remember(streamId, appended);
          this.snapshots?.offer(streamId, current.revision, appended);
        }
        this.settle(batch, outcomes, result.position, current.position);
        return;
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && batch.length > 1) {
          // Refused although no other writer may have moved the stream: the batch's own events clash with
          // stored ones (a repeat of a recorded command decided beside new ones, which the store cannot
          // take as one append). Deciding the batch again would decide the same events: run each alone,
          // so the repeat is answered as one and the others are recorded.
          let stored: CachedStream<State>;
          try {
            stored = await this.catchUp(streamId);
          } catch (readError) {
            for (const item of batch) item.reject(readError);
            return;
          }
          if (stored.revision === current.revision) {
            for (const item of batch) await this.runBatch(streamId, [item]);
            return;
          }
        }
        if (error instanceof WrongExpectedRevisionError && attempt < this.limits.maxAttempts) {
          // Another process wrote; decide again. From the second conflict on, back off a random few
          // milliseconds so two processes stop colliding in lockstep.
          if (attempt > 1)
            await new Promise((resolve) =>
              setTimeout(resolve, Math.random() * Math.min(2 ** attempt, MAX_CONFLICT_BACKOFF_MS)),
            );
          continue;
        }
        if (isOneCommandsFault(error) && batch.length > 1) {
          // One command's events could not be stored (e.g. a retried command's ids): run each alone so
          // the others are not refused for it.
          for (const item of batch) await this.runBatch(streamId, [item]);
          return;
        }
        // The batch may be in the store: what is cached may be behind it.
        if (error instanceof AppendOutcomeUnknownError) this.cache.delete(streamId);
        for (const item of batch) item.reject(error);
        return;
      }
    }
  }

  private decideAll(streamId: string, batch: readonly Waiting<Command, Event, State>[], current: CachedStream<State>) {
    let state = current.state;
    let revision = current.revision;
    let eventCount = 0;
    return batch.map((item) => {
      if (item.kind === 'load')
        return { ok: true as const, events: [] as Event[], newEvents: [] as NewEvent[], state, revision, eventCount };
      try {
        const events = this.decider.decide(item.command, state);
        if (eventCount + events.length > MAX_EVENTS_PER_APPEND)
          throw new Error(`a command may record at most ${MAX_EVENTS_PER_APPEND} events`);
        const next = events.reduce((s, e) => this.decider.evolve(s, e), state);
        const newEvents = events.map((event, index) => toNewEvent(event, index, streamId, item.context));
        state = next;
        revision += BigInt(events.length);
        eventCount += events.length;
        return { ok: true as const, events, newEvents, state, revision, eventCount };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
  }

  private settle(
    batch: readonly Waiting<Command, Event, State>[],
    outcomes: ReturnType<StreamCommandHandler<Command, Event, State>['decideAll']>,
    appendedPosition: bigint,
    positionBefore = appendedPosition,
  ): void {
    batch.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (!outcome.ok) {
        item.reject(outcome.error);
        return;
      }
      // Whatever this item saw of the stream ends at the append if an earlier item of the batch (or this
      // one) recorded events, else where the stream ended before it.
      const position = outcome.eventCount > 0 ? appendedPosition : positionBefore;
      if (item.kind === 'load') {
        item.resolve({ state: outcome.state, revision: outcome.revision, position });
      } else {
        item.resolve({ events: outcome.events, state: outcome.state, revision: outcome.revision, position });
      }
    });
  }

  private async catchUp(streamId: string): Promise<CachedStream<State>> {
    const cached = this.cache.get(streamId) ??
      (await this.snapshots?.restore(streamId)) ?? { state: this.decider.initialState(), revision: -1n, position: -1n };
    let { state, revision, position } = cached;
    for await (const recorded of this.eventStore.readStream(streamId, { fromRevision: revision + 1n })) {
      state = this.decider.evolve(state, decodeEvent(recorded.type, recorded.data) as Event);
      revision = recorded.revision;
      position = recorded.position;
    }
    const current = { state, revision, position };
    this.remember(streamId, current);
    this.snapshots?.offer(streamId, cached.revision, current);
    return current;
  }

  private remember(streamId: string, entry: CachedStream<State>): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, entry);
    evictOldest(this.cache, this.limits.cachedStreams);
  }

  /**
   * Events committed to the stream by another path of this process (one-commit.ts): the state after them,
   * at the revision and position the store answered. Kept only if it is newer than what is cached, so the
   * cache never goes back; a stale entry would be caught by the next append's expected revision anyway.
   */
  committedElsewhere(streamId: string, entry: LoadedStream<State>): void {
    const cached = this.cache.get(streamId);
    if (cached && cached.revision >= entry.revision) return;
    this.remember(streamId, { state: entry.state, revision: entry.revision, position: entry.position });
  }

  /** The cached state, without any I/O (it may be behind the store: appends check the revision). */
  cached(streamId: string): LoadedStream<State> | undefined {
    return this.cache.get(streamId);
  }

  /** Forgets the cached state (its events may have been written meanwhile, or not): the next use reads. */
  forget(streamId: string): void {
    this.cache.delete(streamId);
  }
}

/** Errors of the events themselves, not of the store: another batch without them may be stored. */
function isOneCommandsFault(error: unknown): boolean {
  return error instanceof InvalidEventError || (error instanceof AppendRefusedError && error.reason === 'too_large');
}

export function toNewEvent(event: LedgerEvent, index: number, streamId: string, context: CommandContext): NewEvent {
  const { type, data } = encodeOwnEvent(event);
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

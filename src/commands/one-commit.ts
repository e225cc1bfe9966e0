import type { LedgerEvent } from '../domain/event-catalogue.js';
import { DomainError, assert } from '../domain/shared/domain-error.js';
import {
  InvalidEventError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type StreamAppend,
} from '../ports/event-store.js';
import type { CommandContext } from './command-context.js';
import { toNewEvent, type LoadedStream, type StreamCommandHandler } from './stream-command-handler.js';

/**
 * One durable commit per operation, on engines with a multi-stream append (EventStore.appendToStreams).
 *
 * An operation names the streams it touches (each with the handler that owns its state), the coordinator
 * loads them, and the operation decides every step synchronously on those states (`OneCommitDecisions`),
 * exactly as its per-stream process would (the same commands, deciders and derived event ids), so the
 * two paths record the same events and either can resume what the other began. The decided events go to
 * the store as ONE multi-stream append, each stream at its exact expected revision.
 *
 * Operations waiting at the same time share commits: they are decided in rounds, in the order they became
 * ready, each on the states the previous ones of the round left, and the round's multi-appends are handed
 * to the store together, so the SQLite store's group commit takes them into one transaction, applied in
 * that order. A hot merchant account thus takes many payments per fsync and never conflicts with itself.
 * If an earlier operation's part is refused, the ones decided on its states are refused too (their
 * expected revisions no longer hold) and decide again in a later round.
 *
 * A conflict with another writer (another process, or this process's per-stream handlers) on a stream the
 * operation loaded reloads and decides again, at most MAX_ONE_COMMIT_ATTEMPTS times. A conflict on a
 * stream it did not load (one that must be new, such as an idempotency key's) is the caller's to handle.
 * The handlers' caches learn every committed state, so the per-stream path stays in step.
 */
export const MAX_ONE_COMMIT_ATTEMPTS = 10;
/**
 * Operations decided in one round. Below the SQLite store's appends per commit (512), so a round is one
 * transaction there: an operation decided on an earlier one's states is never committed without it.
 */
export const MAX_OPERATIONS_PER_ROUND = 256;
/** Longest pause between two attempts after a conflict with another writer. */
const MAX_CONFLICT_BACKOFF_MS = 20;

// The handlers are of many command/event/state types; the coordinator only moves their states around.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = StreamCommandHandler<any, any, any>;

/** A stream the operation decides on, and the handler whose decider and cache it shares. */
export interface TrackedStream {
  readonly handler: AnyHandler;
  readonly streamId: string;
  /**
   * The operation creates this stream (its id is new: derived from a new key or order number): the first
   * attempt decides on the empty stream without reading it. If it exists after all, the append's expected
   * revision (no stream) refuses the commit, and the retry reads it.
   */
  readonly expectNew?: boolean;
}

/** One commit of an operation done in two (a recharge, a withdrawal): the streams it decides on, and the decision. */
export interface CommitPlan<T> {
  readonly streams: readonly TrackedStream[];
  /** The operation's own stream (see OneCommitCommand.positionStream). */
  readonly positionStream: string;
  readonly decide: (decisions: OneCommitDecisions) => T;
}

/** The operation cannot be done in one commit (it was begun, or must be resumed): run its process. */
export class OneCommitUnsuitableError extends Error {
  override readonly name = 'OneCommitUnsuitableError';
}

/**
 * Decides account steps that the process, were they refused, would record as the operation's failure
 * (with a compensation): a refusal here leaves the operation to the process, which records and answers
 * it on the stored states (`what` names the part, for the error).
 */
export function decidedOrLeftToProcess<T>(what: string, decide: () => T): T {
  try {
    return decide();
  } catch (error) {
    if (error instanceof DomainError) throw new OneCommitUnsuitableError(`${what} would fail: ${error.code}`);
    throw error;
  }
}

/** A refusal was decided on cached states: the coordinator reads the streams and decides again. */
class DecidedOnCacheError extends Error {
  override readonly name = 'DecidedOnCacheError';
}

interface Written {
  readonly tracked: TrackedStream;
  readonly base: bigint;
  state: unknown;
  revision: bigint;
  readonly events: ReturnType<typeof toNewEvent>[];
}

/** What an operation decides inside one commit: steps on its loaded streams, plus untracked parts. */
export class OneCommitDecisions {
  private readonly written = new Map<string, Written>();
  private untracked: StreamAppend[] = [];

  constructor(
    private readonly loaded: ReadonlyMap<string, { tracked: TrackedStream; state: unknown; revision: bigint }>,
    private readonly onCachedStates: boolean,
  ) {}

  /**
   * Call before answering a refusal: nothing is appended to the decided streams then, so no expected
   * revision would catch a stale cache. On cached states it stops this decision; the coordinator reads
   * the streams from the store and decides again, as the handlers confirm a refusal.
   */
  confirmRefusal(): void {
    if (this.onCachedStates) throw new DecidedOnCacheError('a refusal is confirmed on the stored states');
  }

  /** The stream's state as decided so far in this commit. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  state<State>(handler: StreamCommandHandler<any, any, State>, streamId: string): State {
    return (this.written.get(streamId)?.state ?? this.entry(handler as AnyHandler, streamId).state) as State;
  }

  /**
   * Decides one command on the stream's current state, as the stream's handler would, and keeps its
   * events (ids derived from the context, as the per-stream path derives them). Returns what it recorded.
   */
  decide<Command, Event extends LedgerEvent, State>(
    handler: StreamCommandHandler<Command, Event, State>,
    streamId: string,
    command: Command,
    context: CommandContext,
  ): { events: Event[]; state: State } {
    const entry = this.entry(handler, streamId);
    const written = this.written.get(streamId) ?? {
      tracked: entry.tracked,
      base: entry.revision,
      state: entry.state,
      revision: entry.revision,
      events: [],
    };
    const events = handler.decider.decide(command, written.state as State);
    const state = events.reduce((s, e) => handler.decider.evolve(s, e), written.state as State);
    events.forEach((event, index) => written.events.push(toNewEvent(event, index, streamId, context)));
    written.state = state;
    written.revision += BigInt(events.length);
    if (events.length > 0) this.written.set(streamId, written);
    return { events, state };
  }

  /** A part on a stream no handler keeps (an idempotency key's), committed after every decided step. */
  appendUntracked(append: StreamAppend): void {
    this.untracked.push(append);
  }

  /** The stream's revision as decided so far in this commit. */
  revision(streamId: string): bigint {
    const entry = this.loaded.get(streamId);
    assert(entry !== undefined, `stream ${streamId} was named by the operation`);
    return this.written.get(streamId)?.revision ?? entry.revision;
  }

  /**
   * Commits this stream's part after the other decided ones: its last event then has the highest
   * position of the operation's events, and answers for all of them (read-your-writes).
   */
  placeLast(streamId: string): void {
    const written = this.written.get(streamId);
    if (!written) return;
    this.written.delete(streamId);
    this.written.set(streamId, written);
  }

  /** Drops every decision: the operation was refused, and only untracked parts (its answer) are kept. */
  discardDecisions(): void {
    this.written.clear();
  }

  /** The parts of the commit: decided streams first (in the order decided, see placeLast), untracked ones last. */
  parts(): { tracked: Written[]; appends: StreamAppend[] } {
    const tracked = [...this.written.values()];
    const appends: StreamAppend[] = tracked.map((w) => ({
      streamId: w.tracked.streamId,
      events: w.events,
      expectedRevision: w.base < 0n ? 'no_stream' : w.base,
    }));
    return { tracked, appends: [...appends, ...this.untracked] };
  }

  private entry(handler: AnyHandler, streamId: string) {
    const entry = this.loaded.get(streamId);
    assert(entry !== undefined, `stream ${streamId} was named by the operation before deciding on it`);
    assert(entry.tracked.handler === handler, `stream ${streamId} is decided by the handler that loaded it`);
    return entry;
  }
}

function emptyStream(handler: AnyHandler): LoadedStream<unknown> {
  return { state: handler.decider.initialState() as unknown, revision: -1n, position: -1n };
}

interface ReadyOperation {
  readonly streams: readonly TrackedStream[];
  readonly loaded: readonly LoadedStream<unknown>[];
  readonly decide: (decisions: OneCommitDecisions) => unknown;
  readonly attempt: number;
  readonly resolve: (outcome: { value: unknown; results: ReadonlyMap<string, AppendResult> }) => void;
  readonly reject: (error: unknown) => void;
}

export class OneCommitCoordinator {
  private readonly ready: ReadyOperation[] = [];
  private roundRunning = false;

  private constructor(private readonly eventStore: EventStore) {}

  /** The coordinator of this store, or null when the engine has no multi-stream append (the process path). */
  static of(eventStore: EventStore): OneCommitCoordinator | null {
    return eventStore.appendToStreams ? new OneCommitCoordinator(eventStore) : null;
  }

  private append(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    const store = this.eventStore;
    assert(typeof store.appendToStreams === 'function', 'the coordinator is made only for a multi-stream append');
    return store.appendToStreams(appends);
  }

  /**
   * Loads `streams`, lets `decide` decide on them, and commits what it decided in one multi-stream append.
   * Returns `decide`'s value with the store's answer for each stream it appended to.
   */
  commit<T>(
    streams: readonly TrackedStream[],
    decide: (decisions: OneCommitDecisions) => T,
  ): Promise<{ value: T; results: ReadonlyMap<string, AppendResult> }> {
    return new Promise((resolve, reject) => {
      void this.load(streams, decide, 1, resolve as ReadyOperation['resolve'], reject);
    });
  }

  private async load(
    streams: readonly TrackedStream[],
    decide: ReadyOperation['decide'],
    attempt: number,
    resolve: ReadyOperation['resolve'],
    reject: ReadyOperation['reject'],
  ): Promise<void> {
    let loaded: LoadedStream<unknown>[];
    try {
      // Optimistic first attempt, as the handlers': a cached stream is decided on as it is (the append's
      // expected revision catches any other writer); a retry reads what was written since.
      loaded = await Promise.all(
        streams.map((s): Promise<LoadedStream<unknown>> => {
          if (attempt > 1) return s.handler.load(s.streamId);
          const first = s.handler.cached(s.streamId) ?? (s.expectNew ? emptyStream(s.handler) : undefined);
          return first ? Promise.resolve(first) : s.handler.load(s.streamId);
        }),
      );
    } catch (error) {
      reject(error);
      return;
    }
    this.ready.push({ streams, loaded, decide, attempt, resolve, reject });
    if (!this.roundRunning) {
      this.roundRunning = true;
      void this.runRounds();
    }
  }

  /**
   * One round at a time: every operation ready is decided in order, each on the states the earlier ones of
   * the round left, and all their appends are handed to the store in the same synchronous run, so one
   * group commit takes them (an operation decided on another's states fails with it, in the same
   * transaction). The next round decides on what this one committed.
   */
  private async runRounds(): Promise<void> {
    try {
      while (this.ready.length > 0) {
        const round = this.ready.splice(0, MAX_OPERATIONS_PER_ROUND);
        await this.runRound(round);
      }
    } finally {
      this.roundRunning = false;
    }
  }

  private async runRound(round: readonly ReadyOperation[]): Promise<void> {
    const decidedInRound = new Map<string, { state: unknown; revision: bigint }>();
    const commits = round.map((op) => {
      let decided: { value: unknown; tracked: Written[]; appends: StreamAppend[] };
      try {
        const states = new Map<string, { tracked: TrackedStream; state: unknown; revision: bigint }>();
        op.streams.forEach((tracked, i) => {
          const newest = [op.loaded[i]!, tracked.handler.cached(tracked.streamId), decidedInRound.get(tracked.streamId)]
            .filter((s) => s !== undefined)
            .reduce((a, b) => (b.revision > a.revision ? b : a));
          states.set(tracked.streamId, { tracked, state: newest.state, revision: newest.revision });
        });
        const decisions = new OneCommitDecisions(states, op.attempt === 1);
        const value = op.decide(decisions);
        decided = { value, ...decisions.parts() };
      } catch (error) {
        if (error instanceof DecidedOnCacheError) this.retryOrReject(op, error);
        else op.reject(error);
        return Promise.resolve();
      }
      const { value, tracked, appends } = decided;
      if (appends.length === 0) {
        op.resolve({ value, results: new Map() });
        return Promise.resolve();
      }
      for (const w of tracked) decidedInRound.set(w.tracked.streamId, { state: w.state, revision: w.revision });
      return this.append(appends).then(
        (results) => {
          tracked.forEach((w, i) => {
            const result = results[i]!;
            if (result.nextExpectedRevision === w.revision) {
              w.tracked.handler.committedElsewhere(w.tracked.streamId, {
                state: w.state,
                revision: result.nextExpectedRevision,
                position: result.position,
              });
            } else {
              // A repeat of events already stored: what is stored, not what was decided, is the state.
              w.tracked.handler.forget(w.tracked.streamId);
            }
          });
          op.resolve({ value, results: new Map(appends.map((a, i) => [a.streamId, results[i]!])) });
        },
        (error: unknown) => this.retryOrReject(op, error),
      );
    });
    await Promise.all(commits);
  }

  private retryOrReject(op: ReadyOperation, error: unknown): void {
    // An event id the log already holds, on the first attempt, is a conflict too: that attempt decided on
    // streams it did not read (expectNew, or cached), so it may have decided afresh an operation already
    // recorded, whose derived ids then meet the recorded events (a retry by key after a restart: found by
    // the crash soak). The next attempt reads every stream and finds the record; on a read state an
    // already-recorded id is a real error, refused.
    const loadedConflict =
      (error instanceof WrongExpectedRevisionError && op.streams.some((s) => s.streamId === error.streamId)) ||
      error instanceof DecidedOnCacheError ||
      (error instanceof InvalidEventError && op.attempt === 1);
    if (!loadedConflict || op.attempt >= MAX_ONE_COMMIT_ATTEMPTS) {
      op.reject(error);
      return;
    }
    // Another writer moved a stream (or an earlier operation of the round was refused): load again and
    // decide in a later round; from the second conflict on, after a random pause, out of lockstep.
    const again = () => void this.load(op.streams, op.decide, op.attempt + 1, op.resolve, op.reject);
    if (op.attempt === 1) again();
    else setTimeout(again, Math.random() * Math.min(2 ** op.attempt, MAX_CONFLICT_BACKOFF_MS));
  }
}

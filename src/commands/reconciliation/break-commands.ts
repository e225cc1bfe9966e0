import { decodeEvent } from '../../domain/event-catalogue.js';
import {
  breakDecider,
  type BreakCommand,
  type BreakFinding,
  type BreakState,
  type ExistingBreak,
} from '../../domain/reconciliation/break-decider.js';
import type { BreakEvent } from '../../domain/reconciliation/break-events.js';
import { breakStreamId } from '../../domain/reconciliation/break-id.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore } from '../../ports/event-store.js';
import type { CommandContext } from '../command-context.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler, type HandledCommand } from '../stream-command-handler.js';

/** Events of one break's history an answer shows at most (a break lives through a handful). */
export const MAX_BREAK_HISTORY = 1_000;

export interface BreakOutcome {
  readonly state: ExistingBreak;
  readonly events: readonly BreakEvent[];
  readonly position: bigint;
}

export interface BreakHistoryEntry {
  readonly revision: bigint;
  readonly position: bigint;
  readonly event: BreakEvent;
  readonly actor: string;
  readonly occurredAt: string;
}

/**
 * The commands on reconciliation breaks (break-decider.ts), each on the break's own stream: what a run
 * records (findings, clearings), the ledger's automatic resolutions, and the review queue's operator
 * commands, each with who and why.
 */
export class ReconciliationBreaks {
  private readonly handler: StreamCommandHandler<BreakCommand, BreakEvent, BreakState>;

  constructor(private readonly eventStore: EventStore) {
    this.handler = new StreamCommandHandler(eventStore, breakDecider, DEFAULT_HANDLER_LIMITS);
  }

  recordFinding(finding: BreakFinding, context: CommandContext): Promise<HandledCommand<BreakEvent, BreakState>> {
    return this.handler.handle(
      breakStreamId(finding.breakId),
      { type: 'RecordBreakFinding', finding, at: context.occurredAt },
      context,
    );
  }

  clear(breakId: string, run: { runId: string; runDate: string }, context: CommandContext) {
    return this.handler.handle(
      breakStreamId(breakId),
      { type: 'ClearBreak', breakId, ...run, at: context.occurredAt },
      context,
    );
  }

  /** The ledger's own resolution (marked paid or refunded), once the flow it ran has finished. */
  resolveAutomatically(
    breakId: string,
    resolution: 'marked_paid' | 'marked_refunded',
    reason: string,
    context: CommandContext,
  ): Promise<BreakOutcome> {
    return this.#run(
      breakId,
      {
        type: 'ResolveBreak',
        breakId,
        resolution,
        automatic: true,
        by: 'ledger',
        reason,
        at: context.occurredAt,
      },
      context,
    );
  }

  /** An operator takes the channel's amount: the difference is booked to suspense or fee variance. */
  acceptChannelAmount(breakId: string, by: string, reason: string, context: CommandContext) {
    return this.#resolveByOperator(breakId, 'accepted_channel_amount', by, reason, context);
  }

  /** An operator closes it as it is: whatever the channel holds apart from our books goes to suspense. */
  writeOff(breakId: string, by: string, reason: string, context: CommandContext) {
    return this.#resolveByOperator(breakId, 'written_off', by, reason, context);
  }

  investigate(breakId: string, by: string, note: string, context: CommandContext) {
    return this.#run(breakId, { type: 'InvestigateBreak', breakId, by, note, at: context.occurredAt }, context);
  }

  reopen(breakId: string, by: string, reason: string, context: CommandContext) {
    return this.#run(breakId, { type: 'ReopenBreak', breakId, by, reason, at: context.occurredAt }, context);
  }

  async get(breakId: string): Promise<{ state: ExistingBreak; position: bigint }> {
    const { state, position } = await this.handler.load(breakStreamId(breakId));
    if (!state.exists) throw new DomainError('break_not_found', `break ${breakId} does not exist`, { breakId });
    return { state, position };
  }

  /** The break's events, oldest first (at most MAX_BREAK_HISTORY). */
  async history(breakId: string): Promise<BreakHistoryEntry[]> {
    const entries: BreakHistoryEntry[] = [];
    for await (const recorded of this.eventStore.readStream(breakStreamId(breakId), { fromRevision: 0n })) {
      if (entries.length >= MAX_BREAK_HISTORY) break;
      entries.push({
        revision: recorded.revision,
        position: recorded.position,
        event: decodeEvent(recorded.type, recorded.data) as BreakEvent,
        actor: recorded.metadata.actor,
        occurredAt: recorded.metadata.occurredAt,
      });
    }
    if (entries.length === 0) throw new DomainError('break_not_found', `break ${breakId} does not exist`, { breakId });
    return entries;
  }

  #resolveByOperator(
    breakId: string,
    resolution: 'accepted_channel_amount' | 'written_off',
    by: string,
    reason: string,
    context: CommandContext,
  ): Promise<BreakOutcome> {
    return this.#run(
      breakId,
      { type: 'ResolveBreak', breakId, resolution, automatic: false, by, reason, at: context.occurredAt },
      context,
    );
  }

  async #run(breakId: string, command: BreakCommand, context: CommandContext): Promise<BreakOutcome> {
    const handled = await this.handler.handle(breakStreamId(breakId), command, context);
    if (!handled.state.exists) throw new Error(`break ${breakId}: no state after a command`);
    return { state: handled.state, events: handled.events, position: handled.position };
  }
}

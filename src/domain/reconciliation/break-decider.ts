import type { CurrencyCode } from '../money/currency.js';
import { DomainError, assert } from '../shared/domain-error.js';
import type { BreakEvent, BreakResolution } from './break-events.js';
import { ACCEPTABLE_CLASSES, clearingDifferenceMinor, currencyOfSides, differenceAccountOf } from './break-postings.js';
import type { BreakClass } from './match-classes.js';
import { ourOrderJson, type OurOrder } from './our-order.js';
import { statementRecord, type StatementRecord } from './statement-record.js';

/**
 * One reconciliation break's life, in Emmett's shape (stream `reconbreak-<breakId>`, break-events.ts):
 *
 *   (none) --found--> open --investigated--> investigated (still open, noted)
 *   open | investigated --cleared (a later run matched it)--> cleared --found again--> open
 *   open | investigated --resolved (automatic or by an operator)--> resolved
 *   cleared | resolved --reopened (an operator)--> open
 *
 * A finding with nothing changed (a day run twice) records nothing. An operator's resolution books the
 * difference between what the channel's line and our order moved on the channel's clearing account
 * (break-postings.ts), less whatever an earlier resolution of the same break booked before it was
 * reopened, so a break resolved, reopened and resolved again never books its difference twice.
 */
export type BreakStatus = 'open' | 'investigated' | 'cleared' | 'resolved';
/** Statuses in which a break still waits for someone (or a later run). */
export const OPEN_BREAK_STATUSES: readonly BreakStatus[] = ['open', 'investigated'];
/** Who the ledger's own actions are recorded as (automatic resolutions, a break reopening itself). */
export const LEDGER_ACTOR = 'ledger';

export interface ExistingBreak {
  readonly exists: true;
  readonly breakId: string;
  readonly channel: string;
  readonly originDate: string;
  readonly merchantOrderNo: string;
  readonly refundNo: string | null;
  readonly occurrence: number;
  readonly matchClass: BreakClass;
  readonly ageDays: number;
  readonly statement: StatementRecord | null;
  readonly ours: OurOrder | null;
  readonly runId: string;
  readonly runDate: string;
  readonly status: BreakStatus;
  readonly resolution: BreakResolution | null;
  readonly note: string | null;
  /** What resolutions have booked so far, net (signed: positive, the channel held more than we booked). */
  readonly postedMinor: bigint;
  readonly postedCurrency: CurrencyCode | null;
}
export type BreakState = { readonly exists: false } | ExistingBreak;

/** What one run found for the break (a MatchBreak, with its id and the run). */
export interface BreakFinding {
  readonly breakId: string;
  readonly channel: string;
  readonly originDate: string;
  readonly runId: string;
  readonly runDate: string;
  readonly matchClass: BreakClass;
  readonly merchantOrderNo: string;
  readonly refundNo: string | null;
  readonly occurrence: number;
  readonly ageDays: number;
  readonly statement: StatementRecord | null;
  readonly ours: OurOrder | null;
}

export type BreakCommand =
  | { readonly type: 'RecordBreakFinding'; readonly finding: BreakFinding; readonly at: string }
  | {
      readonly type: 'ClearBreak';
      readonly breakId: string;
      readonly runId: string;
      readonly runDate: string;
      readonly at: string;
    }
  | {
      readonly type: 'ResolveBreak';
      readonly breakId: string;
      readonly resolution: BreakResolution;
      readonly automatic: boolean;
      readonly by: string;
      readonly reason: string;
      readonly at: string;
    }
  | {
      readonly type: 'InvestigateBreak';
      readonly breakId: string;
      readonly by: string;
      readonly note: string;
      readonly at: string;
    }
  | {
      readonly type: 'ReopenBreak';
      readonly breakId: string;
      readonly by: string;
      readonly reason: string;
      readonly at: string;
    };

/** The automatic resolutions, each with the one class it settles (DESIGN.md 2.6: the channel is right). */
const AUTOMATIC: ReadonlyMap<BreakResolution, BreakClass> = new Map<BreakResolution, BreakClass>([
  ['marked_paid', 'we_not_paid_channel_paid'],
  ['marked_refunded', 'we_not_refunded_channel_refunded'],
]);

export function initialBreakState(): BreakState {
  return { exists: false };
}

function requireBreak(state: BreakState, breakId: string): ExistingBreak {
  if (!state.exists) throw new DomainError('break_not_found', `break ${breakId} does not exist`, { breakId });
  assert(state.breakId === breakId, 'a command names the break of its stream');
  return state;
}

function refuse(code: 'break_not_open' | 'break_already_open' | 'break_already_resolved', state: ExistingBreak) {
  return new DomainError(code, `break ${state.breakId} is ${state.status}`, {
    breakId: state.breakId,
    status: state.status,
  });
}

function sidesJson(statement: StatementRecord | null, ours: OurOrder | null): string {
  return JSON.stringify([
    statement ? statementRecord.encode(statement) : null,
    ours ? ourOrderJson.encode(ours) : null,
  ]);
}

function changed(state: ExistingBreak, finding: BreakFinding): boolean {
  return (
    state.matchClass !== finding.matchClass ||
    state.ageDays !== finding.ageDays ||
    sidesJson(state.statement, state.ours) !== sidesJson(finding.statement, finding.ours)
  );
}

function decideFinding(state: BreakState, finding: BreakFinding, at: string): BreakEvent[] {
  assert(finding.statement !== null || finding.ours !== null, 'a break has a statement line or an order');
  const seen: BreakEvent = {
    type: 'BreakSeenAgain',
    data: {
      breakId: finding.breakId,
      runId: finding.runId,
      runDate: finding.runDate,
      matchClass: finding.matchClass,
      ageDays: finding.ageDays,
      statement: finding.statement,
      ours: finding.ours,
      at,
    },
  };
  if (!state.exists) return [{ type: 'BreakFound', data: { ...finding, at } }];
  assert(state.breakId === finding.breakId, 'a finding names the break of its stream');
  if (state.status === 'cleared') {
    // Matched by one run, a break again in a later one (a statement re-imported, an order changed back).
    const reason = `found again by run ${finding.runId} of ${finding.runDate}`;
    return [{ type: 'BreakReopened', data: { breakId: state.breakId, by: LEDGER_ACTOR, reason, at } }, seen];
  }
  // A resolved break seen again keeps its resolution: what changed is noted on its history.
  return changed(state, finding) ? [seen] : [];
}

function decideResolution(
  state: ExistingBreak,
  command: Extract<BreakCommand, { type: 'ResolveBreak' }>,
): BreakEvent[] {
  const { resolution, automatic, by, reason, at, breakId } = command;
  assert(automatic === AUTOMATIC.has(resolution), 'only the ledger marks paid or refunded, only operators accept');
  if (state.status === 'resolved') {
    // The automatic resolver running the day again: the same resolution is already recorded.
    if (automatic && state.resolution === resolution) return [];
    throw refuse('break_already_resolved', state);
  }
  if (state.status === 'cleared') throw refuse('break_not_open', state);
  const automaticClass = AUTOMATIC.get(resolution);
  const allowed =
    resolution === 'written_off' ||
    (resolution === 'accepted_channel_amount' && ACCEPTABLE_CLASSES.has(state.matchClass)) ||
    automaticClass === state.matchClass;
  if (!allowed)
    throw new DomainError(
      'resolution_not_allowed_for_class',
      `a ${state.matchClass} break cannot be resolved ${resolution}`,
      { breakId, matchClass: state.matchClass, resolution },
    );
  // Marked paid or refunded, the flow itself books the money (the payee's credit, the channel's fee).
  if (automatic)
    return [{ type: 'BreakResolved', data: { breakId, resolution, automatic, by, reason, posted: null, at } }];
  const currency = currencyOfSides(state);
  if (currency === null || (state.postedCurrency !== null && state.postedCurrency !== currency))
    throw new DomainError('break_currencies_differ', `break ${breakId} has two currencies: no one difference`, {
      breakId,
    });
  const amountMinor = clearingDifferenceMinor(state) - state.postedMinor;
  const posted =
    amountMinor === 0n
      ? null
      : {
          amountMinor,
          currency,
          account: differenceAccountOf(state.matchClass, resolution as 'accepted_channel_amount' | 'written_off'),
        };
  return [{ type: 'BreakResolved', data: { breakId, resolution, automatic, by, reason, posted, at } }];
}

export function decideBreak(command: BreakCommand, state: BreakState): BreakEvent[] {
  if (command.type === 'RecordBreakFinding') return decideFinding(state, command.finding, command.at);
  const existing = requireBreak(state, command.breakId);
  const { breakId, at } = command;
  const open = OPEN_BREAK_STATUSES.includes(existing.status);
  switch (command.type) {
    case 'ClearBreak':
      // A cleared break is cleared; a resolved one stays resolved (its resolution is why it now matches).
      if (!open) return [];
      return [{ type: 'BreakCleared', data: { breakId, runId: command.runId, runDate: command.runDate, at } }];
    case 'ResolveBreak':
      return decideResolution(existing, command);
    case 'InvestigateBreak':
      if (!open) throw refuse('break_not_open', existing);
      return [{ type: 'BreakInvestigated', data: { breakId, by: command.by, note: command.note, at } }];
    case 'ReopenBreak':
      if (open) throw refuse('break_already_open', existing);
      return [{ type: 'BreakReopened', data: { breakId, by: command.by, reason: command.reason, at } }];
  }
}

export function evolveBreak(state: BreakState, event: BreakEvent): BreakState {
  if (event.type === 'BreakFound') {
    assert(!state.exists, 'a break is found once');
    const d = event.data;
    return {
      exists: true,
      breakId: d.breakId,
      channel: d.channel,
      originDate: d.originDate,
      merchantOrderNo: d.merchantOrderNo,
      refundNo: d.refundNo,
      occurrence: d.occurrence,
      matchClass: d.matchClass,
      ageDays: d.ageDays,
      statement: d.statement,
      ours: d.ours,
      runId: d.runId,
      runDate: d.runDate,
      status: 'open',
      resolution: null,
      note: null,
      postedMinor: 0n,
      postedCurrency: null,
    };
  }
  assert(state.exists, `${event.type} follows BreakFound`);
  switch (event.type) {
    case 'BreakSeenAgain': {
      const { runId, runDate, matchClass, ageDays, statement, ours } = event.data;
      return { ...state, runId, runDate, matchClass, ageDays, statement, ours };
    }
    case 'BreakCleared':
      return { ...state, status: 'cleared', runId: event.data.runId, runDate: event.data.runDate };
    case 'BreakResolved': {
      const posted = event.data.posted;
      return {
        ...state,
        status: 'resolved',
        resolution: event.data.resolution,
        postedMinor: state.postedMinor + (posted?.amountMinor ?? 0n),
        postedCurrency: posted?.currency ?? state.postedCurrency,
      };
    }
    case 'BreakInvestigated':
      return { ...state, status: 'investigated', note: event.data.note };
    case 'BreakReopened':
      return { ...state, status: 'open', resolution: null };
  }
}

export const breakDecider = { decide: decideBreak, evolve: evolveBreak, initialState: initialBreakState };

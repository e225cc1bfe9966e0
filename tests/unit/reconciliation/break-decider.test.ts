import { describe, expect, it } from 'vitest';
import { breakDecider, type BreakFinding } from '../../../src/domain/reconciliation/break-decider.js';
import type { BreakEvent } from '../../../src/domain/reconciliation/break-events.js';
import { breakIdOf, partsOfBreakId } from '../../../src/domain/reconciliation/break-id.js';
import type { OurOrder } from '../../../src/domain/reconciliation/our-order.js';
import type { StatementRecord } from '../../../src/domain/reconciliation/statement-record.js';
import { deciderSpecification } from '../../support/decider-specification.js';
import { CNY } from '../../support/risk-fixtures.js';
import { aStatementLine, anOrder } from '../../support/reconciliation-records.js';

const spec = deciderSpecification(breakDecider);
const at = '2026-12-02T03:00:00.000Z';
const later = '2026-12-02T04:00:00.000Z';
const runId = '6f0c2b0e-4a55-4d3e-9a4b-2f6c7d1e0a01';
const rerunId = '6f0c2b0e-4a55-4d3e-9a4b-2f6c7d1e0a02';
const channel = 'sim-wallet';
const breakId = breakIdOf({ channel, originDate: '2026-12-01', merchantOrderNo: 'P-1', refundNo: null, occurrence: 0 });

const line = (more: Partial<StatementRecord> = {}) => aStatementLine({ channelTime: at, ...more });
const ours = (more: Partial<OurOrder> = {}) => anOrder({ ourTime: at, channelTime: at, ...more });

const finding = (more: Partial<BreakFinding> = {}): BreakFinding => ({
  breakId,
  channel,
  originDate: '2026-12-01',
  runId,
  runDate: '2026-12-01',
  matchClass: 'amount_differs',
  merchantOrderNo: 'P-1',
  refundNo: null,
  occurrence: 0,
  ageDays: 0,
  statement: line({ amountMinor: 9_000n }),
  ours: ours(),
  ...more,
});
const found = (more: Partial<BreakFinding> = {}): BreakEvent => ({
  type: 'BreakFound',
  data: { ...finding(more), at },
});
const seenAgain = (statement: StatementRecord): BreakEvent => ({
  type: 'BreakSeenAgain',
  data: {
    breakId,
    runId: rerunId,
    runDate: '2026-12-01',
    matchClass: 'amount_differs',
    ageDays: 0,
    statement,
    ours: ours(),
    at,
  },
});
const record = (more: Partial<BreakFinding> = {}) =>
  ({ type: 'RecordBreakFinding', finding: finding(more), at }) as const;
const operator = 'ent_operator_1';
const resolve = (resolution: 'accepted_channel_amount' | 'written_off', by = operator) =>
  ({
    type: 'ResolveBreak',
    breakId,
    resolution,
    automatic: false,
    by,
    reason: 'checked with the channel',
    at,
  }) as const;
const cleared: BreakEvent = { type: 'BreakCleared', data: { breakId, runId: rerunId, runDate: '2026-12-01', at } };

describe('break ids', () => {
  it('are the same for the same key and occurrence, another for another occurrence, and name channel and day', () => {
    const key = { channel: 'sim:x', originDate: '2026-12-01', merchantOrderNo: 'P-1', refundNo: 'R-1', occurrence: 0 };
    expect(breakIdOf(key)).toBe(breakIdOf({ ...key }));
    expect(breakIdOf({ ...key, occurrence: 1 })).not.toBe(breakIdOf(key));
    expect(breakIdOf({ ...key, refundNo: null })).not.toBe(breakIdOf(key));
    expect(partsOfBreakId(breakIdOf(key))).toEqual({ channel: 'sim:x', originDate: '2026-12-01' });
  });
});

describe('the break decider: findings', () => {
  it('a first finding is BreakFound', () => spec.given([]).when(record()).then([found()]));

  it('the same finding again (a day run twice) records nothing', () =>
    spec
      .given([found()])
      .when(record({ runId: rerunId }))
      .then([]));

  it('a finding with something changed is BreakSeenAgain', () =>
    spec
      .given([found()])
      .when(record({ runId: rerunId, statement: line({ amountMinor: 9_500n }) }))
      .then([seenAgain(line({ amountMinor: 9_500n }))]));

  it('a cleared break found again reopens itself', () =>
    spec
      .given([found(), cleared])
      .when(record({ runId: rerunId }))
      .then([
        {
          type: 'BreakReopened',
          data: { breakId, by: 'ledger', reason: `found again by run ${rerunId} of 2026-12-01`, at },
        },
        seenAgain(line({ amountMinor: 9_000n })),
      ]));

  it('a resolved break found again unchanged stays as it is', () =>
    spec
      .given([found(), ...resolvedBy(resolve('written_off'))])
      .when(record({ runId: rerunId }))
      .then([]));
});

describe('the break decider: clearing', () => {
  it('an open break a later run matched is cleared', () =>
    spec
      .given([found()])
      .when({ type: 'ClearBreak', breakId, runId: rerunId, runDate: '2026-12-01', at })
      .then([cleared]));

  it('clearing a cleared or resolved break records nothing', () => {
    const clear = { type: 'ClearBreak', breakId, runId: rerunId, runDate: '2026-12-01', at } as const;
    spec.given([found(), cleared]).when(clear).then([]);
    spec
      .given([found(), ...resolvedBy(resolve('written_off'))])
      .when(clear)
      .then([]);
  });

  it('a break never found cannot be cleared', () =>
    spec
      .given([])
      .when({ type: 'ClearBreak', breakId, runId, runDate: '2026-12-01', at })
      .thenRefuses('break_not_found'));
});

/** The events a resolution records on a found break with the default (amount_differs) finding. */
function resolvedBy(command: ReturnType<typeof resolve>): BreakEvent[] {
  return breakDecider.decide(command, breakDecider.evolve(breakDecider.initialState(), found()));
}

describe('the break decider: resolutions', () => {
  it("accepting the channel's amount books the difference of what the channel holds to suspense", () =>
    // The channel settled 90.00 less its 0.60 fee; we booked 100.00 less 0.60: it holds 10.00 less.
    spec
      .given([found()])
      .when(resolve('accepted_channel_amount'))
      .then([
        {
          type: 'BreakResolved',
          data: {
            breakId,
            resolution: 'accepted_channel_amount',
            automatic: false,
            by: operator,
            reason: 'checked with the channel',
            posted: { amountMinor: -1_000n, currency: CNY, account: '2241' },
            at,
          },
        },
      ]));

  it('a fee difference goes to fee variance', () =>
    spec
      .given([found({ matchClass: 'fee_differs_from_recorded', statement: line({ feeMinor: 80n }) })])
      .when(resolve('accepted_channel_amount'))
      .then([
        {
          type: 'BreakResolved',
          data: {
            breakId,
            resolution: 'accepted_channel_amount',
            automatic: false,
            by: operator,
            reason: 'checked with the channel',
            posted: { amountMinor: -20n, currency: CNY, account: '6604' },
            at,
          },
        },
      ]));

  it('a fee off the schedule that we booked as the channel charged it books nothing', () => {
    const events = breakDecider.decide(
      resolve('accepted_channel_amount'),
      breakDecider.evolve(
        breakDecider.initialState(),
        found({ matchClass: 'fee_differs_from_schedule', statement: line(), ours: ours({ scheduledFeeMinor: 50n }) }),
      ),
    );
    expect(events).toMatchObject([{ type: 'BreakResolved', data: { posted: null } }]);
  });

  it('writing off what the channel settled and we never had puts it in suspense', () =>
    spec
      .given([found({ matchClass: 'we_missing_channel_paid', statement: line(), ours: null })])
      .when(resolve('written_off'))
      .then([
        {
          type: 'BreakResolved',
          data: {
            breakId,
            resolution: 'written_off',
            automatic: false,
            by: operator,
            reason: 'checked with the channel',
            posted: { amountMinor: 9_940n, currency: CNY, account: '2241' },
            at,
          },
        },
      ]));

  it('resolved, reopened and resolved again books only what is left (nothing twice)', () => {
    const first = resolvedBy(resolve('accepted_channel_amount'));
    const reopened: BreakEvent = { type: 'BreakReopened', data: { breakId, by: operator, reason: 'wrong call', at } };
    spec
      .given([found(), ...first, reopened])
      .when(resolve('written_off'))
      .then([
        {
          type: 'BreakResolved',
          data: {
            breakId,
            resolution: 'written_off',
            automatic: false,
            by: operator,
            reason: 'checked with the channel',
            posted: null,
            at,
          },
        },
      ]);
  });

  it('marks paid automatically only a pay the channel settled that we did not', () => {
    const markPaid = {
      type: 'ResolveBreak',
      breakId,
      resolution: 'marked_paid',
      automatic: true,
      by: 'ledger',
      reason: 'the statement settled it',
      at,
    } as const;
    const weNotPaid = found({
      matchClass: 'we_not_paid_channel_paid',
      statement: line(),
      ours: ours({ status: 'unknown' }),
    });
    const resolved: BreakEvent = {
      type: 'BreakResolved',
      data: {
        breakId,
        resolution: 'marked_paid',
        automatic: true,
        by: 'ledger',
        reason: 'the statement settled it',
        posted: null,
        at,
      },
    };
    spec.given([weNotPaid]).when(markPaid).then([resolved]);
    // The day run again: already marked paid, nothing more.
    spec.given([weNotPaid, resolved]).when(markPaid).then([]);
    spec.given([found()]).when(markPaid).thenRefuses('resolution_not_allowed_for_class', { resolution: 'marked_paid' });
  });

  it("refuses to take the channel's amount where there is none to take", () =>
    spec
      .given([found({ matchClass: 'we_paid_channel_missing', statement: null })])
      .when(resolve('accepted_channel_amount'))
      .thenRefuses('resolution_not_allowed_for_class', { matchClass: 'we_paid_channel_missing' }));

  it('refuses a second resolution, one of a cleared break, and one across two currencies', () => {
    spec
      .given([found(), ...resolvedBy(resolve('written_off'))])
      .when(resolve('accepted_channel_amount'))
      .thenRefuses('break_already_resolved');
    spec.given([found(), cleared]).when(resolve('written_off')).thenRefuses('break_not_open', { status: 'cleared' });
    spec
      .given([found({ statement: line({ currency: 'USD' as never }) })])
      .when(resolve('accepted_channel_amount'))
      .thenRefuses('break_currencies_differ');
  });

  it('refuses to resolve a break never found', () =>
    spec.given([]).when(resolve('written_off')).thenRefuses('break_not_found'));
});

describe('the break decider: investigating and reopening', () => {
  const investigate = { type: 'InvestigateBreak', breakId, by: operator, note: 'asked the channel', at } as const;
  const reopen = { type: 'ReopenBreak', breakId, by: operator, reason: 'the channel disagrees', at: later } as const;

  it('an open break is marked investigated (still open: it can be resolved after)', () => {
    const investigated: BreakEvent = {
      type: 'BreakInvestigated',
      data: { breakId, by: operator, note: 'asked the channel', at },
    };
    spec.given([found()]).when(investigate).then([investigated]);
    spec
      .given([found(), investigated])
      .when(resolve('written_off'))
      .then(resolvedBy(resolve('written_off')));
  });

  it('only an open break is investigated', () =>
    spec.given([found(), cleared]).when(investigate).thenRefuses('break_not_open'));

  it('a resolved or cleared break is reopened by an operator; an open one is refused', () => {
    const reopened: BreakEvent = {
      type: 'BreakReopened',
      data: { breakId, by: operator, reason: 'the channel disagrees', at: later },
    };
    spec
      .given([found(), ...resolvedBy(resolve('written_off'))])
      .when(reopen)
      .then([reopened]);
    spec.given([found(), cleared]).when(reopen).then([reopened]);
    spec.given([found()]).when(reopen).thenRefuses('break_already_open');
  });
});

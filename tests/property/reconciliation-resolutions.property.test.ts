import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { journalLinesFor } from '../../src/domain/books/posting-rules.js';
import type { JournalLine } from '../../src/domain/books/journal.js';
import { breakDecider, type BreakCommand, type BreakState } from '../../src/domain/reconciliation/break-decider.js';
import { breakIdOf } from '../../src/domain/reconciliation/break-id.js';
import { clearingDifferenceMinor } from '../../src/domain/reconciliation/break-postings.js';
import { BREAK_CLASSES } from '../../src/domain/reconciliation/match-classes.js';
import { OUR_ORDER_STATUSES, type OurOrder } from '../../src/domain/reconciliation/our-order.js';
import { STATEMENT_KINDS, type StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { aStatementLine, anOrder } from '../support/reconciliation-records.js';

/**
 * Whatever a break's two sides and whatever operators do to it (accept, write off, investigate, reopen, in
 * any order, refused commands included), every entry its resolutions post balances, and what they booked
 * on the channel's clearing account (1122) is, net, exactly the break's difference once it is resolved by
 * an operator: the books end up saying what the channel holds, never a difference booked twice.
 */
const channel = 'sim-wallet';
const at = '2026-12-02T03:00:00.000Z';
const breakId = breakIdOf({ channel, originDate: '2026-12-01', merchantOrderNo: 'P-1', refundNo: null, occurrence: 0 });

const amount = fc.bigInt({ min: 1n, max: 10_000_000n });
const fee = fc.bigInt({ min: 0n, max: 50_000n });
const line = fc.record({
  kind: fc.constantFrom(...STATEMENT_KINDS),
  status: fc.constantFrom('settled' as const, 'revoked' as const),
  amountMinor: amount,
  feeMinor: fee,
});
const order = fc.record({
  status: fc.constantFrom(...OUR_ORDER_STATUSES),
  amountMinor: amount,
  feeMinor: fc.option(fee, { nil: null }),
});
const command = fc.constantFrom('accepted_channel_amount', 'written_off', 'investigate', 'reopen', 'clear');

function statementOf(l: Pick<StatementRecord, 'kind' | 'status' | 'amountMinor' | 'feeMinor'>): StatementRecord {
  return aStatementLine({ ...l, refundNo: l.kind === 'refund' ? 'R-1' : null });
}

function ourOf(kind: StatementRecord['kind'], o: Pick<OurOrder, 'status' | 'amountMinor' | 'feeMinor'>): OurOrder {
  return anOrder({ ...o, kind, refundNo: kind === 'refund' ? 'R-1' : null, scheduledFeeMinor: null });
}

/** 1122's net move of some lines: debits add to what the channel holds for us, credits take away. */
function clearingMove(lines: readonly JournalLine[]): bigint {
  return lines
    .filter((l) => l.code === '1122')
    .reduce((sum, l) => sum + (l.side === 'debit' ? l.amountMinor : -l.amountMinor), 0n);
}

describe('reconciliation resolutions keep the books balanced and book each difference once', () => {
  it('holds for any sides and any sequence of operator commands', () => {
    fc.assert(
      fc.property(
        fc.option(line, { nil: null }),
        fc.option(order, { nil: null }),
        fc.constantFrom(...BREAK_CLASSES),
        fc.array(command, { minLength: 1, maxLength: 8 }),
        (l, o, matchClass, commands) => {
          fc.pre(l !== null || o !== null);
          const kind = l?.kind ?? 'pay';
          const statement = l ? statementOf(l) : null;
          const ours = o ? ourOf(kind, o) : null;
          let state: BreakState = breakDecider.initialState();
          const found = breakDecider.decide(
            {
              type: 'RecordBreakFinding',
              finding: {
                breakId,
                channel,
                originDate: '2026-12-01',
                runId: '6f0c2b0e-4a55-4d3e-9a4b-2f6c7d1e0a01',
                runDate: '2026-12-01',
                matchClass,
                merchantOrderNo: 'P-1',
                refundNo: statement?.refundNo ?? ours?.refundNo ?? null,
                occurrence: 0,
                ageDays: 0,
                statement,
                ours,
              },
              at,
            },
            state,
          );
          state = found.reduce(breakDecider.evolve, state);
          const lines: JournalLine[] = [];
          let resolvedByOperator = false;
          for (const name of commands) {
            const next: BreakCommand =
              name === 'investigate'
                ? { type: 'InvestigateBreak', breakId, by: 'op', note: 'n', at }
                : name === 'reopen'
                  ? { type: 'ReopenBreak', breakId, by: 'op', reason: 'r', at }
                  : name === 'clear'
                    ? {
                        type: 'ClearBreak',
                        breakId,
                        runId: '6f0c2b0e-4a55-4d3e-9a4b-2f6c7d1e0a02',
                        runDate: '2026-12-01',
                        at,
                      }
                    : { type: 'ResolveBreak', breakId, resolution: name, automatic: false, by: 'op', reason: 'r', at };
            let events;
            try {
              events = breakDecider.decide(next, state);
            } catch (error) {
              expect(error).toBeInstanceOf(DomainError);
              continue;
            }
            for (const event of events) {
              state = breakDecider.evolve(state, event);
              // journalLinesFor asserts each entry balances; a trial balance of them is zero.
              const posted = journalLinesFor(event);
              if (posted) lines.push(...posted);
              if (event.type === 'BreakResolved') resolvedByOperator = true;
            }
          }
          const debits = lines.filter((x) => x.side === 'debit').reduce((s, x) => s + x.amountMinor, 0n);
          const credits = lines.filter((x) => x.side === 'credit').reduce((s, x) => s + x.amountMinor, 0n);
          expect(debits).toBe(credits);
          const difference = clearingDifferenceMinor({ statement, ours });
          expect(clearingMove(lines)).toBe(resolvedByOperator ? difference : 0n);
        },
      ),
      { numRuns: 500 },
    );
  });
});

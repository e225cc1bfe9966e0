import { describe, expect, it } from 'vitest';
import type { CurrencyCode } from '../../../src/domain/money/currency.js';
import {
  reconciliationDue,
  statementDayDecider,
  type StatementDayCommand,
  type StatementDayStreamEvent,
} from '../../../src/domain/reconciliation/statement-day-decider.js';
import { deciderSpecification } from '../../support/decider-specification.js';

const spec = deciderSpecification(statementDayDecider);
const day = { channel: 'sim-citybank', accountingDate: '2026-11-30' };
const policy = { retryIntervalMs: 300_000, maxAttempts: 2 };

const failure = (at: string): StatementDayCommand => ({
  type: 'RecordDownloadFailure',
  ...day,
  failure: 'not_ready',
  detail: 'statement not generated yet',
  policy,
  at,
});
const failed = (attempt: number, at: string, nextAttemptAt: string | null): StatementDayStreamEvent => ({
  type: 'StatementDownloadFailed',
  data: { ...day, attempt, failure: 'not_ready', detail: 'statement not generated yet', nextAttemptAt, at },
});
const file = {
  source: 'download' as const,
  format: 'sim-statement-csv/1',
  lineCount: 2,
  setAsideCount: 0,
  importedBy: null,
};
const store = (
  fileSha256: string,
  at: string,
): Extract<StatementDayCommand, { type: 'RecordStatementStored' | 'RecordStatementRejected' }> => ({
  type: 'RecordStatementStored',
  ...day,
  ...file,
  fileSha256,
  reason: null,
  detail: '',
  at,
});
const stored = (fileSha256: string, at: string): StatementDayStreamEvent => ({
  type: 'StatementStored',
  data: { ...day, ...file, fileSha256, at },
});
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

describe('a channel statement day', () => {
  it('a failed download is retried at the interval, judged from the command time', () => {
    spec
      .given([])
      .when(failure('2026-12-01T18:00:00.000Z'))
      .then([failed(1, '2026-12-01T18:00:00.000Z', '2026-12-01T18:05:00.000Z')]);
  });

  it('the last attempt schedules none: the day waits for an operator', () => {
    spec
      .given([failed(1, '2026-12-01T18:00:00.000Z', '2026-12-01T18:05:00.000Z')])
      .when(failure('2026-12-01T18:05:00.000Z'))
      .then([failed(2, '2026-12-01T18:05:00.000Z', null)]);
  });

  it('a file stored resets the attempts; the same bytes again record nothing, other bytes replace them', () => {
    spec
      .given([failed(1, '2026-12-01T18:00:00.000Z', '2026-12-01T18:05:00.000Z')])
      .when(store(SHA_A, '2026-12-01T18:06:00.000Z'))
      .then([stored(SHA_A, '2026-12-01T18:06:00.000Z')]);
    spec
      .given([stored(SHA_A, '2026-12-01T18:06:00.000Z')])
      .when(store(SHA_A, '2026-12-01T19:00:00.000Z'))
      .then([]);
    spec
      .given([stored(SHA_A, '2026-12-01T18:06:00.000Z')])
      .when(store(SHA_B, '2026-12-01T19:00:00.000Z'))
      .then([stored(SHA_B, '2026-12-01T19:00:00.000Z')]);
    spec
      .given([failed(2, '2026-12-01T18:05:00.000Z', null), stored(SHA_A, '2026-12-02T09:00:00.000Z')])
      .when(failure('2026-12-02T10:00:00.000Z'))
      .then([failed(1, '2026-12-02T10:00:00.000Z', '2026-12-02T10:05:00.000Z')]);
  });

  it('a file refused whole is recorded with its reason and leaves the day as it was', () => {
    spec
      .given([stored(SHA_A, '2026-12-01T18:06:00.000Z')])
      .when({
        ...store(SHA_B, '2026-12-01T19:00:00.000Z'),
        type: 'RecordStatementRejected',
        source: 'import',
        importedBy: 'op-1',
        reason: 'summary_mismatch',
        detail: 'the total differs',
      })
      .then([
        {
          type: 'StatementRejected',
          data: {
            ...day,
            source: 'import',
            format: file.format,
            fileSha256: SHA_B,
            reason: 'summary_mismatch',
            detail: 'the total differs',
            importedBy: 'op-1',
            at: '2026-12-01T19:00:00.000Z',
          },
        },
      ]);
  });
});

const RUN_1 = '00000000-0000-4000-8000-000000000001';
const RUN_2 = '00000000-0000-4000-8000-000000000002';
const CNY = 'CNY' as CurrencyCode;
const totals = (runId: string, statementSha256: string, carriedFromRunId: string | null) => ({
  runId,
  statementSha256,
  statementLines: 2,
  ourOrders: 2,
  carriedIn: 0,
  carriedFromRunId,
  pending: 0,
  breaks: 1,
  classes: [
    { matchClass: 'matched' as const, count: 1, amounts: [{ currency: CNY, amountMinor: 10_000n }] },
    { matchClass: 'amount_differs' as const, count: 1, amounts: [{ currency: CNY, amountMinor: 9_000n }] },
  ],
  fees: [{ currency: CNY, oursMinor: 60n, theirsMinor: 60n }],
  ranBy: 'sweep',
});
const runOf = (
  runId: string,
  sha: string,
  at: string,
  carriedFromRunId: string | null = null,
): Extract<StatementDayCommand, { type: 'RecordReconciliationRun' }> => ({
  type: 'RecordReconciliationRun',
  ...day,
  run: totals(runId, sha, carriedFromRunId),
  at,
});
const ran = (
  runId: string,
  sha: string,
  at: string,
  carriedFromRunId: string | null = null,
): StatementDayStreamEvent => ({
  type: 'ReconciliationRunCompleted',
  data: { ...day, ...totals(runId, sha, carriedFromRunId), at },
});
const stateOf = (events: readonly StatementDayStreamEvent[]) =>
  events.reduce(statementDayDecider.evolve, statementDayDecider.initialState());

describe('a reconciliation run of a statement day', () => {
  it('is recorded with its totals on the day of the file it read', () => {
    spec
      .given([stored(SHA_A, '2026-12-01T18:06:00.000Z')])
      .when(runOf(RUN_1, SHA_A, '2026-12-01T18:07:00.000Z'))
      .then([ran(RUN_1, SHA_A, '2026-12-01T18:07:00.000Z')]);
  });

  it('is refused on a day with no statement, and when the file was replaced while it ran', () => {
    spec
      .given([])
      .when(runOf(RUN_1, SHA_A, '2026-12-01T18:07:00.000Z'))
      .thenRefuses('statement_not_stored');
    spec
      .given([stored(SHA_A, '2026-12-01T18:06:00.000Z'), stored(SHA_B, '2026-12-01T18:06:30.000Z')])
      .when(runOf(RUN_1, SHA_A, '2026-12-01T18:07:00.000Z'))
      .thenRefuses('statement_replaced', { fileSha256: SHA_B });
  });

  it('a file stored after a run keeps the run in the state: the day is due again', () => {
    const runThenReplaced = stateOf([
      stored(SHA_A, '2026-12-01T18:06:00.000Z'),
      ran(RUN_1, SHA_A, '2026-12-01T18:07:00.000Z'),
      stored(SHA_B, '2026-12-01T19:00:00.000Z'),
    ]);
    expect(runThenReplaced.lastRun?.runId).toBe(RUN_1);
    expect(reconciliationDue(runThenReplaced, null)).toBe(true);
  });

  it('is due when stored and never run, or when the previous day was run after the pool it carried', () => {
    const previousRun = stateOf([
      stored(SHA_B, '2026-12-01T18:00:00.000Z'),
      ran(RUN_2, SHA_B, '2026-12-01T18:01:00.000Z'),
    ]);
    expect(reconciliationDue(stateOf([]), null)).toBe(false);
    expect(reconciliationDue(stateOf([stored(SHA_A, '2026-12-01T18:06:00.000Z')]), null)).toBe(true);
    const ranAlone = stateOf([
      stored(SHA_A, '2026-12-01T18:06:00.000Z'),
      ran(RUN_1, SHA_A, '2026-12-01T18:07:00.000Z'),
    ]);
    expect(reconciliationDue(ranAlone, null)).toBe(false);
    expect(reconciliationDue(ranAlone, stateOf([]))).toBe(false);
    // the previous day was run since (its statement came late): carry in its pool
    expect(reconciliationDue(ranAlone, previousRun)).toBe(true);
    const carried = stateOf([
      stored(SHA_A, '2026-12-01T18:06:00.000Z'),
      ran(RUN_1, SHA_A, '2026-12-01T18:07:00.000Z', RUN_2),
    ]);
    expect(reconciliationDue(carried, previousRun)).toBe(false);
  });
});

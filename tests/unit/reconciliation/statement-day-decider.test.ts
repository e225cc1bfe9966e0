import { describe, it } from 'vitest';
import {
  statementDayDecider,
  type StatementDayCommand,
} from '../../../src/domain/reconciliation/statement-day-decider.js';
import type { StatementDayEvent } from '../../../src/domain/reconciliation/statement-day-events.js';
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
const failed = (attempt: number, at: string, nextAttemptAt: string | null): StatementDayEvent => ({
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
const stored = (fileSha256: string, at: string): StatementDayEvent => ({
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

import { DateTime } from 'luxon';
import { assert, DomainError } from '../shared/domain-error.js';
import type { ReconciliationRunEvent } from './reconciliation-run-events.js';
import type { DownloadFailure, StatementDayEvent } from './statement-day-events.js';

/** Everything on a day's stream: its statement files and its reconciliation runs. */
export type StatementDayStreamEvent = StatementDayEvent | ReconciliationRunEvent;
type RunData = ReconciliationRunEvent['data'];

/**
 * One channel's statement for one day, in Emmett's shape. Downloads are retried at a fixed interval (a
 * channel's file server restarted, its statement not ready yet: every few minutes, not faster, so a
 * struggling server is not hammered) up to a bounded number of attempts; then the day waits for an
 * operator (an import by hand, or a retry). A file stored again with the same bytes records nothing.
 */
export interface DownloadPolicy {
  readonly retryIntervalMs: number;
  readonly maxAttempts: number;
}

export interface StatementDayState {
  /** Failed attempts since the last file stored (or since the start). */
  readonly failedAttempts: number;
  readonly nextAttemptAt: string | null;
  readonly stored: { readonly fileSha256: string; readonly lineCount: number; readonly at: string } | null;
  readonly givenUp: boolean;
  /** The day's last reconciliation run: the file it read and the previous day's run it carried from. */
  readonly lastRun: {
    readonly runId: string;
    readonly statementSha256: string | null;
    readonly carriedFromRunId: string | null;
    readonly at: string;
  } | null;
}

export type StatementDayCommand =
  | {
      readonly type: 'RecordDownloadFailure';
      readonly channel: string;
      readonly accountingDate: string;
      readonly failure: DownloadFailure;
      readonly detail: string;
      readonly policy: DownloadPolicy;
      readonly at: string;
    }
  | {
      readonly type: 'RecordStatementStored' | 'RecordStatementRejected';
      readonly channel: string;
      readonly accountingDate: string;
      readonly source: 'download' | 'import';
      readonly format: string;
      readonly fileSha256: string;
      readonly lineCount: number;
      readonly setAsideCount: number;
      readonly reason: string | null;
      readonly detail: string;
      readonly importedBy: string | null;
      readonly at: string;
    }
  | {
      /** A run of matchDay over the stored statement, with its totals (runId derived by the caller). */
      readonly type: 'RecordReconciliationRun';
      readonly channel: string;
      readonly accountingDate: string;
      readonly run: Omit<RunData, 'channel' | 'accountingDate' | 'at'>;
      readonly at: string;
    };

export const MAX_DOWNLOAD_ATTEMPTS_LIMIT = 1_000;

export function initialStatementDayState(): StatementDayState {
  return { failedAttempts: 0, nextAttemptAt: null, stored: null, givenUp: false, lastRun: null };
}

export function decideStatementDay(command: StatementDayCommand, state: StatementDayState): StatementDayStreamEvent[] {
  const { channel, accountingDate, at } = command;
  switch (command.type) {
    case 'RecordDownloadFailure': {
      const { maxAttempts, retryIntervalMs } = command.policy;
      assert(maxAttempts >= 1 && maxAttempts <= MAX_DOWNLOAD_ATTEMPTS_LIMIT, 'download attempts are bounded');
      assert(retryIntervalMs > 0, 'a retry interval is positive');
      const attempt = state.failedAttempts + 1;
      // Past the last attempt (an operator's retry of a given-up day) nothing more is scheduled either.
      const nextAttemptAt =
        attempt >= maxAttempts
          ? null
          : DateTime.fromISO(at, { zone: 'utc' }).plus({ milliseconds: retryIntervalMs }).toISO()!;
      return [
        {
          type: 'StatementDownloadFailed',
          data: {
            channel,
            accountingDate,
            attempt,
            failure: command.failure,
            detail: command.detail,
            nextAttemptAt,
            at,
          },
        },
      ];
    }
    case 'RecordStatementStored': {
      if (state.stored?.fileSha256 === command.fileSha256) return [];
      const { source, format, fileSha256, lineCount, setAsideCount, importedBy } = command;
      return [
        {
          type: 'StatementStored',
          data: { channel, accountingDate, source, format, fileSha256, lineCount, setAsideCount, importedBy, at },
        },
      ];
    }
    case 'RecordStatementRejected': {
      const { source, format, fileSha256, importedBy, detail } = command;
      assert(command.reason !== null, 'a rejection has its reason');
      return [
        {
          type: 'StatementRejected',
          data: { channel, accountingDate, source, format, fileSha256, reason: command.reason, detail, importedBy, at },
        },
      ];
    }
    case 'RecordReconciliationRun': {
      // A run is of the file stored now: one that read another (replaced while it ran) is refused, and
      // the day is run again on the file that replaced it.
      if (state.stored === null)
        throw new DomainError('statement_not_stored', `no statement of ${channel} ${accountingDate} is stored`);
      if (command.run.statementSha256 !== state.stored.fileSha256)
        throw new DomainError(
          'statement_replaced',
          `the statement of ${channel} ${accountingDate} was replaced while the run read it: run it again`,
          { fileSha256: state.stored.fileSha256 },
        );
      assert(
        command.run.breaks <= command.run.statementLines + command.run.ourOrders + command.run.carriedIn,
        'a run finds no more breaks than the items it read',
      );
      return [{ type: 'ReconciliationRunCompleted', data: { ...command.run, channel, accountingDate, at } }];
    }
  }
}

/**
 * Whether a day is to be (re)run: its statement is stored and it was never run, or its last run read
 * another file, or carried in another pool than the previous day's last run left (the previous day was
 * run, or run again, after it). `previous` null: the previous day has no run (its pool is empty).
 */
export function reconciliationDue(day: StatementDayState, previous: StatementDayState | null): boolean {
  if (day.stored === null) return false;
  if (day.lastRun === null) return true;
  if (day.lastRun.statementSha256 !== day.stored.fileSha256) return true;
  return day.lastRun.carriedFromRunId !== (previous?.lastRun?.runId ?? null);
}

export function evolveStatementDay(state: StatementDayState, event: StatementDayStreamEvent): StatementDayState {
  switch (event.type) {
    case 'StatementDownloadFailed':
      return {
        ...state,
        failedAttempts: event.data.attempt,
        nextAttemptAt: event.data.nextAttemptAt,
        givenUp: event.data.nextAttemptAt === null,
      };
    case 'StatementStored':
      return {
        ...state,
        failedAttempts: 0,
        nextAttemptAt: null,
        stored: { fileSha256: event.data.fileSha256, lineCount: event.data.lineCount, at: event.data.at },
        givenUp: false,
      };
    case 'StatementRejected':
      return state;
    case 'ReconciliationRunCompleted': {
      const { runId, statementSha256, carriedFromRunId, at } = event.data;
      return { ...state, lastRun: { runId, statementSha256, carriedFromRunId, at } };
    }
  }
}

export const statementDayDecider = {
  decide: decideStatementDay,
  evolve: evolveStatementDay,
  initialState: initialStatementDayState,
};

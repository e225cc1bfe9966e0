import { DateTime } from 'luxon';
import { assert } from '../shared/domain-error.js';
import type { DownloadFailure, StatementDayEvent } from './statement-day-events.js';

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
  readonly stored: { readonly fileSha256: string; readonly at: string } | null;
  readonly givenUp: boolean;
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
    };

export const MAX_DOWNLOAD_ATTEMPTS_LIMIT = 1_000;

export function initialStatementDayState(): StatementDayState {
  return { failedAttempts: 0, nextAttemptAt: null, stored: null, givenUp: false };
}

export function decideStatementDay(command: StatementDayCommand, state: StatementDayState): StatementDayEvent[] {
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
  }
}

export function evolveStatementDay(state: StatementDayState, event: StatementDayEvent): StatementDayState {
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
        failedAttempts: 0,
        nextAttemptAt: null,
        stored: { fileSha256: event.data.fileSha256, at: event.data.at },
        givenUp: false,
      };
    case 'StatementRejected':
      return state;
  }
}

export const statementDayDecider = {
  decide: decideStatementDay,
  evolve: evolveStatementDay,
  initialState: initialStatementDayState,
};

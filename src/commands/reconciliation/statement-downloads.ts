import { DateTime } from 'luxon';
import { assert } from '../../domain/shared/domain-error.js';
import type { DownloadPolicy } from '../../domain/reconciliation/statement-day-decider.js';
import type { DownloadFailure } from '../../domain/reconciliation/statement-day-events.js';
import type { StatementOutcome } from '../../ports/channel-port.js';
import type { StatementParser } from '../../ports/statement-parser.js';
import type { ChannelGateway } from '../channels/channel-gateway.js';
import { deriveId, type CommandContext } from '../command-context.js';
import type { StatementImportOutcome, StatementImports } from './statement-imports.js';

export interface DownloadSchedule extends DownloadPolicy {
  /** The local hour (accounting time zone) from which a day's statement is asked for, the next day. */
  readonly availableFromHour: number;
  /** How many past days a sweep looks at: a day missed while the service was down is fetched later. */
  readonly daysBack: number;
}

export const MAX_DAYS_BACK = 31;

export interface StatementDownloadDeps {
  readonly gateway: ChannelGateway;
  readonly imports: StatementImports;
  readonly parserFor: (format: string) => StatementParser | undefined;
  readonly schedule: DownloadSchedule;
  readonly timeZone: string;
}

export interface DownloadResult {
  readonly channel: string;
  readonly accountingDate: string;
  readonly outcome: StatementImportOutcome | { readonly status: 'failed'; readonly failure: DownloadFailure };
}

function failureOf(outcome: Exclude<StatementOutcome, { status: 'succeeded' }>): DownloadFailure {
  if (outcome.status === 'unknown') return 'timeout';
  if (outcome.status === 'unavailable') return 'unavailable';
  return outcome.code === 'statement_not_ready' ? 'not_ready' : 'declined';
}

/**
 * Downloads one channel's statement of one day and stores it (or records why not), whatever its day's
 * state: the sweep's step, and an operator's "download now".
 */
export async function downloadStatement(
  deps: StatementDownloadDeps,
  channel: string,
  accountingDate: string,
  nowIso: string,
): Promise<DownloadResult> {
  const context = downloadContext(channel, accountingDate, nowIso);
  const answer = await deps.gateway.call(channel, (port, options) => port.statement(accountingDate, options));
  const fail = async (failure: DownloadFailure, detail: string): Promise<DownloadResult> => {
    await deps.imports.recordDownloadFailure({ channel, accountingDate }, failure, detail, deps.schedule, context);
    return { channel, accountingDate, outcome: { status: 'failed', failure } };
  };
  if (answer.status !== 'succeeded')
    return fail(failureOf(answer), 'message' in answer ? answer.message : answer.detail);
  const { statement } = answer;
  const parser = deps.parserFor(statement.format);
  if (!parser) return fail('unknown_format', `no parser for the format ${statement.format}`);
  const merchantId = deps.gateway.merchantIdOf(channel);
  const outcome = await deps.imports.importFile(
    {
      channel,
      accountingDate,
      merchantIds: [merchantId],
      appIds: [],
      format: statement.format,
      parser,
      bytes: [Buffer.from(statement.content, 'utf8')],
      source: 'download',
      importedBy: null,
    },
    context,
  );
  return { channel, accountingDate, outcome };
}

/**
 * The download sweep: for every channel that makes statements, each of the last `daysBack` days whose
 * statement is due (the day over and the local hour past `availableFromHour`), not stored yet, not given
 * up, and whose next attempt (after a failure) is due, downloads it. Bounded: channels x days per sweep,
 * one download at a time (statements are large; the channels' file servers are not to be hammered).
 */
export async function sweepStatementDownloads(deps: StatementDownloadDeps, nowIso: string): Promise<DownloadResult[]> {
  const { availableFromHour, daysBack } = deps.schedule;
  assert(daysBack >= 1 && daysBack <= MAX_DAYS_BACK, 'a sweep looks back a bounded number of days');
  assert(availableFromHour >= 0 && availableFromHour <= 23, 'an hour of the day');
  const now = DateTime.fromISO(nowIso, { zone: deps.timeZone });
  const results: DownloadResult[] = [];
  for (const channel of deps.gateway.statementChannels()) {
    for (let back = daysBack; back >= 1; back--) {
      const day = now.startOf('day').minus({ days: back });
      const dueAt = day.plus({ days: 1 }).set({ hour: availableFromHour });
      if (now < dueAt) continue;
      const accountingDate = day.toISODate()!;
      const { state } = await deps.imports.load(channel, accountingDate);
      if (state.stored !== null || state.givenUp) continue;
      if (state.nextAttemptAt !== null && DateTime.fromISO(state.nextAttemptAt) > now) continue;
      results.push(await downloadStatement(deps, channel, accountingDate, nowIso));
    }
  }
  return results;
}

function downloadContext(channel: string, accountingDate: string, nowIso: string): CommandContext {
  const day = `${channel}|${accountingDate}`;
  return {
    actor: 'statement-downloads',
    correlationId: day,
    causationId: null,
    idempotencyKey: null,
    operationKey: deriveId(day, `statement-download\u0000${nowIso}`),
    occurredAt: nowIso,
  };
}

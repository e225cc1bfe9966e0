import { createHash } from 'node:crypto';
import {
  statementDayDecider,
  type DownloadPolicy,
  type StatementDayCommand,
  type StatementDayStreamEvent,
  type StatementDayState,
} from '../../domain/reconciliation/statement-day-decider.js';
import type { DownloadFailure } from '../../domain/reconciliation/statement-day-events.js';
import type { StatementRecord } from '../../domain/reconciliation/statement-record.js';
import type { EventStore } from '../../ports/event-store.js';
import {
  StatementRejectedError,
  type StatementContext,
  type StatementItem,
  type StatementParser,
} from '../../ports/statement-parser.js';
import type { StatementStore } from '../../ports/statement-store.js';
import type { CommandContext } from '../command-context.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler, type LoadedStream } from '../stream-command-handler.js';

/** Lines set aside that an answer lists (the count is always whole). */
export const MAX_SET_ASIDE_SHOWN = 100;

export function statementDayStreamId(channel: string, accountingDate: string): string {
  return `reconday-${channel}:${accountingDate}`;
}

export interface StatementFile extends StatementContext {
  readonly format: string;
  readonly parser: StatementParser;
  readonly bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  readonly source: 'download' | 'import';
  /** The operator who imported it by hand; null for a download. */
  readonly importedBy: string | null;
}

export type StatementImportOutcome =
  | {
      readonly status: 'stored';
      readonly fileSha256: string;
      readonly lineCount: number;
      readonly setAsideCount: number;
      /** The first MAX_SET_ASIDE_SHOWN lines set aside. */
      readonly setAside: readonly Extract<StatementItem, { type: 'set_aside' }>[];
    }
  | { readonly status: 'rejected'; readonly fileSha256: string; readonly reason: string; readonly detail: string };

/** Hashes what passes through it; `finish` reads whatever the parser left unread, so the hash is the file's. */
function hashing(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
  const hash = createHash('sha256');
  const iterator = Symbol.asyncIterator in bytes ? bytes[Symbol.asyncIterator]() : bytes[Symbol.iterator]();
  const through: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        const step = await iterator.next();
        if (!step.done) hash.update(step.value);
        return step;
      },
    }),
  };
  return {
    through,
    async finish(): Promise<string> {
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) hash.update(step.value);
      return hash.digest('hex');
    },
  };
}

/**
 * Channel statements into the statement store, each file's outcome recorded on its day's stream: stored
 * (the day's lines replaced by the file's) or refused whole (not ours, not the format, its summary
 * disagrees with its lines: the day's lines stay as they were). Downloads and imports by hand go the same
 * way. The store is written before the event: a crash between them leaves the new lines unrecorded, and
 * the next download or import of the day replaces them again and records it (the same bytes record once).
 */
export class StatementImports {
  private readonly handler: StreamCommandHandler<StatementDayCommand, StatementDayStreamEvent, StatementDayState>;

  constructor(
    private readonly store: StatementStore,
    eventStore: EventStore,
  ) {
    this.handler = new StreamCommandHandler(eventStore, statementDayDecider, DEFAULT_HANDLER_LIMITS);
  }

  async importFile(file: StatementFile, context: CommandContext): Promise<StatementImportOutcome> {
    const { channel, accountingDate } = file;
    const hashed = hashing(file.bytes);
    const setAside: Extract<StatementItem, { type: 'set_aside' }>[] = [];
    let setAsideCount = 0;
    async function* records(): AsyncIterable<StatementRecord> {
      for await (const item of file.parser.parse(hashed.through, file)) {
        if (item.type === 'record') yield item.record;
        else {
          setAsideCount += 1;
          if (setAside.length < MAX_SET_ASIDE_SHOWN) setAside.push(item);
        }
      }
    }
    const base = { channel, accountingDate, source: file.source, format: file.format, importedBy: file.importedBy };
    try {
      const stored = await this.store.replaceDay({ channel, accountingDate, format: file.format }, records());
      const fileSha256 = await hashed.finish();
      await this.#record(
        {
          type: 'RecordStatementStored',
          ...base,
          fileSha256,
          lineCount: stored.lineCount,
          setAsideCount,
          reason: null,
          detail: '',
          at: context.occurredAt,
        },
        context,
      );
      return { status: 'stored', fileSha256, lineCount: stored.lineCount, setAsideCount, setAside };
    } catch (error) {
      if (!(error instanceof StatementRejectedError)) throw error;
      const fileSha256 = await hashed.finish();
      const detail = error.message.slice(0, 500);
      await this.#record(
        {
          type: 'RecordStatementRejected',
          ...base,
          fileSha256,
          lineCount: 0,
          setAsideCount,
          reason: error.reason,
          detail,
          at: context.occurredAt,
        },
        context,
      );
      return { status: 'rejected', fileSha256, reason: error.reason, detail };
    }
  }

  /** A download that did not give a file: recorded with when the next one is due (or none). */
  async recordDownloadFailure(
    day: { readonly channel: string; readonly accountingDate: string },
    failure: DownloadFailure,
    detail: string,
    policy: DownloadPolicy,
    context: CommandContext,
  ): Promise<StatementDayState> {
    return (
      await this.#record(
        {
          type: 'RecordDownloadFailure',
          ...day,
          failure,
          detail: detail.slice(0, 500),
          policy,
          at: context.occurredAt,
        },
        context,
      )
    ).state;
  }

  /** A reconciliation run of the day (reconcile-day.ts), on the same stream as its files. */
  recordRun(command: Extract<StatementDayCommand, { type: 'RecordReconciliationRun' }>, context: CommandContext) {
    return this.#record(command, context);
  }

  load(channel: string, accountingDate: string): Promise<LoadedStream<StatementDayState>> {
    return this.handler.load(statementDayStreamId(channel, accountingDate));
  }

  #record(command: StatementDayCommand, context: CommandContext) {
    return this.handler.handle(statementDayStreamId(command.channel, command.accountingDate), command, context);
  }
}

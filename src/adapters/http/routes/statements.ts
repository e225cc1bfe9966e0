import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { isValidAccountNumber } from '../../../domain/accounts/account-number.js';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { formatAmount } from '../../../domain/money/money.js';
import { MAX_FIND_LIMIT, type FindPage, type FindQuery } from '../../../ports/read-model-store.js';
import { KEY_GROUP_END, compositeKey, utcInstantKey } from '../../../projections/read-model-keys.js';
import {
  STATEMENTS_PROJECTION,
  STATEMENT_DIRECTIONS,
  STATEMENT_HEADS_COLLECTION,
  STATEMENT_LINES_COLLECTION,
  type StatementHeadDocument,
  type StatementLineDocument,
} from '../../../projections/statements.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, positionString } from '../api-schemas.js';
import { accountNotFound, requireAccountOwner } from '../authorization.js';
import { csvDocument, inertText } from '../csv.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import {
  awaitReadModel,
  boundCursor,
  cursorAfter,
  cursorString,
  minPositionParam,
  pageLimit,
} from '../read-model-queries.js';

/** Lines per page of a statement: the default, and the most a client may ask for. */
export const STATEMENT_PAGE_SIZE_DEFAULT = 100;
export const STATEMENT_PAGE_SIZE_MAX = 500;
/** Most lines one CSV export carries; a longer statement is exported in several date ranges. */
export const STATEMENT_CSV_MAX_LINES = 50_000;

const rangeQuery = {
  from: z.iso.datetime({ offset: true }).optional().describe('Lines that occurred at or after this instant (ISO-8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('Lines that occurred before this instant (exclusive)'),
  fromDate: z.iso
    .date()
    .optional()
    .describe('First accounting date (inclusive), in the accounting time zone; not with from/to'),
  toDate: z.iso.date().optional().describe('Last accounting date (inclusive); not with from/to'),
  minPosition: minPositionParam,
};

export const statementQuery = z.strictObject({
  ...rangeQuery,
  limit: pageLimit(STATEMENT_PAGE_SIZE_DEFAULT, STATEMENT_PAGE_SIZE_MAX),
  cursor: cursorString.optional(),
});

export const statementCsvQuery = z.strictObject(rangeQuery);

export const statementLineView = z
  .object({
    sequence: z.int().describe('1, 2, 3... per account, in log order'),
    eventId: z.uuid(),
    position: positionString,
    operationId: z.string(),
    operationKind: z
      .string()
      .describe('payment, refund, transfer, withdrawal, recharge, freeze, preauth_hold, release, ...'),
    direction: z
      .enum(STATEMENT_DIRECTIONS)
      .describe(
        'credit / debit change the balance; freeze / release move available <-> frozen; deduct takes frozen funds',
      ),
    amount: amountString,
    balanceAfter: z.string(),
    availableAfter: z.string(),
    frozenAfter: z.string(),
    counterparty: z.object({
      accountId: z.string().nullable(),
      ownerId: z.string().nullable(),
      name: z.string().nullable(),
      channel: z.string().nullable(),
    }),
    merchantOrderNo: z.string().nullable(),
    channelOrderNo: z.string().nullable(),
    freezeId: z.string().nullable(),
    memo: z.string(),
    occurredAt: z.string().describe('UTC'),
    accountingDate: z.string().describe('Date of occurredAt in the accounting time zone'),
  })
  .meta({ id: 'StatementLine' });

export const statementView = z
  .object({
    accountId: accountIdString,
    currency: currencyString,
    lines: z.array(statementLineView),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'Statement' });

type RangeQuery = {
  from?: string | undefined;
  to?: string | undefined;
  fromDate?: string | undefined;
  toDate?: string | undefined;
};

function invalidRange(detail: string): HttpProblem {
  return new HttpProblem(400, 'invalid_query', 'Invalid query', detail);
}

/**
 * The lines a range selects, as a range over one composite key that also orders them: without a range,
 * in sequence order; with one, in order of occurrence (then sequence).
 */
export function statementRange(accountId: string, query: RangeQuery): NonNullable<FindQuery['range']> {
  const byTime = query.from !== undefined || query.to !== undefined;
  const byDate = query.fromDate !== undefined || query.toDate !== undefined;
  if (byTime && byDate)
    throw invalidRange('give either from/to (instants) or fromDate/toDate (accounting dates), not both');
  const start = compositeKey(accountId, '');
  const end = `${accountId}${KEY_GROUP_END}`;
  if (byDate) {
    if (query.fromDate !== undefined && query.toDate !== undefined && query.fromDate > query.toDate)
      throw invalidRange('fromDate is after toDate');
    const dayAfter =
      query.toDate === undefined
        ? undefined
        : DateTime.fromISO(query.toDate, { zone: 'utc' }).plus({ days: 1 }).toISODate()!;
    return {
      field: 'accountDateKey',
      gte: query.fromDate === undefined ? start : compositeKey(accountId, query.fromDate),
      lt: dayAfter === undefined ? end : compositeKey(accountId, dayAfter),
    };
  }
  if (!byTime) return { field: 'accountSequenceKey', gte: start, lt: end };
  const from = query.from === undefined ? undefined : utcInstantKey(query.from);
  const to = query.to === undefined ? undefined : utcInstantKey(query.to);
  if (from !== undefined && to !== undefined && from > to) throw invalidRange('from is after to');
  return {
    field: 'accountTimeKey',
    gte: from === undefined ? start : compositeKey(accountId, from),
    lt: to === undefined ? end : compositeKey(accountId, to),
  };
}

function toLineView(line: StatementLineDocument): z.output<typeof statementLineView> {
  const currency = line.currency as CurrencyCode;
  return {
    sequence: line.sequence,
    eventId: line.eventId,
    position: line.position,
    operationId: line.operationId,
    operationKind: line.operationKind,
    direction: line.direction,
    amount: formatAmount(BigInt(line.amountMinor), currency),
    balanceAfter: formatAmount(BigInt(line.balanceAfterMinor), currency),
    availableAfter: formatAmount(BigInt(line.availableAfterMinor), currency),
    frozenAfter: formatAmount(BigInt(line.frozenAfterMinor), currency),
    counterparty: line.counterparty,
    merchantOrderNo: line.merchantOrderNo,
    channelOrderNo: line.channelOrderNo,
    freezeId: line.freezeId,
    memo: line.memo,
    occurredAt: line.occurredAt,
    accountingDate: line.accountingDate,
  };
}

export const STATEMENT_CSV_HEADER = [
  'sequence',
  'occurred_at',
  'accounting_date',
  'direction',
  'operation_kind',
  'operation_id',
  'amount',
  'balance_after',
  'available_after',
  'frozen_after',
  'currency',
  'counterparty_account_id',
  'counterparty_owner_id',
  'counterparty_name',
  'counterparty_channel',
  'merchant_order_no',
  'channel_order_no',
  'freeze_id',
  'memo',
  'event_id',
  'position',
] as const;

function toCsvRow(line: StatementLineDocument): string[] {
  const view = toLineView(line);
  const text = (value: string | null) => inertText(value ?? '');
  return [
    String(view.sequence),
    view.occurredAt,
    view.accountingDate,
    view.direction,
    view.operationKind,
    view.operationId,
    view.amount,
    view.balanceAfter,
    view.availableAfter,
    view.frozenAfter,
    line.currency,
    view.counterparty.accountId ?? '',
    text(view.counterparty.ownerId),
    text(view.counterparty.name),
    text(view.counterparty.channel),
    text(view.merchantOrderNo),
    text(view.channelOrderNo),
    view.freezeId ?? '',
    text(view.memo),
    view.eventId,
    view.position,
  ];
}

export function statementRoutes(service: LedgerService): FastifyPluginAsyncZod {
  /** The account's statement head, visible to its owner and operators; 404 for an unknown account. */
  async function visibleHead(request: FastifyRequest, accountId: string): Promise<StatementHeadDocument> {
    const head = isValidAccountNumber(accountId)
      ? await service.readModels.get<StatementHeadDocument>(STATEMENT_HEADS_COLLECTION, accountId)
      : null;
    if (!head) throw accountNotFound(accountId);
    requireAccountOwner(request, accountId, head.data.ownerId);
    return head.data;
  }

  return async (app) => {
    app.get(
      '/v1/accounts/:accountId/statement',
      {
        schema: {
          tags: ['statements'],
          summary: 'Get an account statement',
          description:
            "The external ledger: one line per movement on the account (recharges, debits, credits, freezes, releases, deductions) with the balance, available and frozen funds after it, in sequence (log) order, a page at a time. Filter by occurrence time (`from`/`to`, instants, half-open) or by accounting date (`fromDate`/`toDate`, inclusive); filtered lines come in order of occurrence, then sequence. The account's owner or an operator.",
          params: z.object({ accountId: accountIdString }),
          querystring: statementQuery,
          response: {
            200: statementView,
            ...problemResponses('forbidden', 'invalid_query', 'cursor_mismatch', 'account_not_found'),
          },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        await awaitReadModel(service, STATEMENTS_PROJECTION, request.query.minPosition);
        const head = await visibleHead(request, accountId);
        const range = statementRange(accountId, request.query);
        const page = await service.readModels.find<StatementLineDocument>(STATEMENT_LINES_COLLECTION, {
          range,
          orderBy: range.field,
          limit: request.query.limit,
          ...cursorAfter(request.query, accountId),
        });
        return {
          accountId,
          currency: head.currency,
          lines: page.items.map((doc) => toLineView(doc.data)),
          nextCursor: boundCursor(request.query, accountId, page.nextCursor),
        };
      },
    );

    app.get(
      '/v1/accounts/:accountId/statement.csv',
      {
        schema: {
          tags: ['statements'],
          summary: 'Export an account statement as CSV',
          description: `The statement's lines in a range, as RFC 4180 CSV (UTF-8, CRLF, a header row; amounts as decimal strings in major units; free-text cells that a spreadsheet would run as a formula start with an apostrophe). At most ${STATEMENT_CSV_MAX_LINES} lines: export a longer statement in several date ranges. The account's owner or an operator.`,
          params: z.object({ accountId: accountIdString }),
          querystring: statementCsvQuery,
          response: {
            200: { description: 'The statement as CSV', content: { 'text/csv': { schema: z.string() } } },
            ...problemResponses('forbidden', 'invalid_query', 'account_not_found', 'export_too_large'),
          },
        },
      },
      async (request, reply) => {
        const { accountId } = request.params;
        await awaitReadModel(service, STATEMENTS_PROJECTION, request.query.minPosition);
        await visibleHead(request, accountId);
        const range = statementRange(accountId, request.query);
        const rows: string[][] = [];
        let after: string | null = null;
        do {
          const page: FindPage<StatementLineDocument> = await service.readModels.find<StatementLineDocument>(
            STATEMENT_LINES_COLLECTION,
            { range, orderBy: range.field, limit: MAX_FIND_LIMIT, ...(after ? { after } : {}) },
          );
          for (const doc of page.items) rows.push(toCsvRow(doc.data));
          if (rows.length > STATEMENT_CSV_MAX_LINES) {
            throw new HttpProblem(
              422,
              'export_too_large',
              'Export too large',
              `the range holds more than ${STATEMENT_CSV_MAX_LINES} lines; export it in smaller date ranges`,
            );
          }
          after = page.nextCursor;
        } while (after !== null);
        return reply
          .type('text/csv; charset=utf-8; header=present')
          .header('content-disposition', `attachment; filename="statement-${accountId}.csv"`)
          .send(csvDocument(STATEMENT_CSV_HEADER, rows));
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ACCOUNTING_DATES_COLLECTION,
  BOOKS_PROJECTION,
  type AccountingDateDocument,
} from '../../../projections/books.js';
import type { LedgerService } from '../../ledger-service.js';
import { currencyString, positionString } from '../api-schemas.js';
import { principalOf, requireOperator } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import { awaitReadModel, listPageView, listQueryFields, pageOf } from '../read-model-queries.js';

/** Where the log is, and which accounting days have entries: for reporting tools. */

export const logHeadView = z
  .object({
    position: positionString.describe(
      'Position of the last event in the global log ("0" when empty): pass as minPosition to read everything recorded so far',
    ),
  })
  .meta({ id: 'LogHead' });

export const accountingDateView = z
  .object({
    accountingDate: z.string().describe('YYYY-MM-DD in the accounting time zone'),
    entryCount: z.int().describe('Journal entries that day'),
    currencies: z.array(currencyString).describe('Currencies with entries that day'),
  })
  .meta({ id: 'AccountingDate' });

export const accountingDatePageView = listPageView(accountingDateView).meta({ id: 'AccountingDatePage' });

export const accountingDateListQuery = z.strictObject({
  ...listQueryFields,
  fromDate: z.iso.date().optional().describe('First accounting date (inclusive)'),
  toDate: z.iso.date().optional().describe('Last accounting date (inclusive)'),
});

export function logQueryRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/log/head',
      {
        schema: {
          tags: ['log'],
          summary: 'The head of the global log',
          description:
            'The position of the last event recorded. Reading with `minPosition` set to it sees everything recorded until now, including what the service did by itself. Any signed caller.',
          response: { 200: logHeadView, ...problemResponses() },
        },
      },
      async (request) => {
        principalOf(request);
        const head = await service.eventStore.headPosition();
        return { position: head === 'start' ? '0' : head.toString() };
      },
    );

    app.get(
      '/v1/books/accounting-dates',
      {
        schema: {
          tags: ['books'],
          summary: 'Accounting dates with journal entries',
          description:
            'The days a trial balance or journal report has something for, newest first by default, with their entry counts and currencies. Operators only.',
          querystring: accountingDateListQuery,
          response: {
            200: accountingDatePageView,
            ...problemResponses('forbidden', 'invalid_query', 'cursor_mismatch'),
          },
        },
      },
      async (request) => {
        requireOperator(request);
        const q = request.query;
        if (q.fromDate !== undefined && q.toDate !== undefined && q.fromDate > q.toDate)
          throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'fromDate is after toDate');
        await awaitReadModel(service, BOOKS_PROJECTION, q.minPosition);
        const range =
          q.fromDate === undefined && q.toDate === undefined
            ? undefined
            : {
                field: 'accountingDate',
                ...(q.fromDate !== undefined ? { gte: q.fromDate } : {}),
                // Dates are YYYY-MM-DD: every date up to toDate sorts below toDate followed by anything.
                ...(q.toDate !== undefined ? { lt: `${q.toDate}~` } : {}),
              };
        const paging = pageOf(q, 'accountingDate');
        const page = await service.readModels.find<AccountingDateDocument>(ACCOUNTING_DATES_COLLECTION, {
          ...(range ? { range } : {}),
          ...paging.find,
        });
        return {
          items: page.items.map(({ data }) => ({
            accountingDate: data.accountingDate,
            entryCount: data.entryCount,
            currencies: data.currencies,
          })),
          nextCursor: paging.next(page.nextCursor),
        };
      },
    );
  };
}

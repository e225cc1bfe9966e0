import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { commandContextOf } from '../idempotent-command.js';
import { reconcileDay, type ReconciliationRun } from '../../../commands/reconciliation/reconcile-day.js';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { formatAmount } from '../../../domain/money/money.js';
import { MATCH_CLASSES } from '../../../domain/reconciliation/match-classes.js';
import { MAX_FIND_LIMIT, type FindQuery } from '../../../ports/read-model-store.js';
import { KEY_GROUP_END, compositeKey } from '../../../projections/read-model-keys.js';
import {
  DOWNLOAD_STATUSES,
  RECON_DAYS_COLLECTION,
  RECON_DAYS_PROJECTION,
  RECON_DAY_STATUSES,
  reconDayId,
  type AmountMinor,
  type ReconDayDocument,
} from '../../../projections/recon-days.js';
import type { LedgerService } from '../../ledger-service.js';
import { amountString, currencyString } from '../api-schemas.js';
import { requireOperator } from '../authorization.js';
import { inertText } from '../csv.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import { awaitReadModel, listPageView, listQueryFields, minPositionParam, pageOf } from '../read-model-queries.js';

/** The reconciliation days (the recon_days read model) and an operator's re-run of a day. Operators only. */

const channelParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a channel id')
  .describe('Channel id, e.g. sim-citybank');
const dateParam = z.iso.date().describe('Accounting date (YYYY-MM-DD, accounting time zone)');
export const reconDayParams = z.object({ channel: channelParam, date: dateParam });

const filterFields = {
  channel: channelParam.optional().describe('One channel; all channels without it'),
  from: z.iso.date().optional().describe('First accounting date (inclusive)'),
  to: z.iso.date().optional().describe('Last accounting date (inclusive)'),
  minPosition: minPositionParam,
};
export const reconDayListQuery = z.strictObject({ ...listQueryFields, ...filterFields });
export const reconDayCsvQuery = z.strictObject(filterFields);

const amountView = z.object({ currency: currencyString, amount: amountString });
const classTotalView = z.object({
  matchClass: z.enum(MATCH_CLASSES),
  count: z.int(),
  amounts: z.array(amountView).describe('Per currency: the statement amount where it has the line, else ours'),
});

const EXAMPLE_DAY = {
  channel: 'sim-citybank',
  accountingDate: '2026-12-01',
  status: 'reconciled_with_breaks',
  download: { status: 'stored', attempts: 0, nextAttemptAt: null, lastProblem: null },
  statement: {
    fileSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    source: 'download',
    format: 'sim-statement-csv/1',
    lineCount: 1204,
    setAsideCount: 0,
    storedAt: '2026-12-01T18:02:11.000Z',
  },
  run: {
    runId: '0c8e1f52-3a4b-5c6d-8e7f-9a0b1c2d3e4f',
    statementSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ranBy: 'sweep',
    ranAt: '2026-12-01T18:02:15.000Z',
    statementLines: 1204,
    ourOrders: 1205,
    matched: { count: 1202, amounts: [{ currency: 'CNY', amount: '120200.00' }] },
    breakCount: 1,
    breaks: [{ matchClass: 'amount_differs', count: 1, amounts: [{ currency: 'CNY', amount: '90.00' }] }],
    pending: 2,
    carriedIn: 1,
    previousDayRun: true,
    carriedFromRunId: '5d1e2f30-4a5b-5c6d-9e7f-0a1b2c3d4e5f',
    fees: [{ currency: 'CNY', ours: '721.20', theirs: '721.20' }],
  },
  openBreaks: 1,
  updatedAt: '2026-12-01T18:02:15.000Z',
};

export const reconDayView = z
  .object({
    channel: z.string(),
    accountingDate: z.string(),
    status: z
      .enum(RECON_DAY_STATUSES)
      .describe('open: the current statement not run yet; reconciled: run, no break; reconciled_with_breaks'),
    download: z.object({
      status: z
        .enum(DOWNLOAD_STATUSES)
        .describe('waiting: no file yet (not due, or retrying); failed: attempts used up; stored'),
      attempts: z.int().describe('Failed attempts since the last file stored'),
      nextAttemptAt: z.string().nullable(),
      lastProblem: z
        .object({
          kind: z.enum(['download_failed', 'file_refused']),
          reason: z.string().describe('A download failure (not_ready, timeout...) or why a file was refused'),
          detail: z.string(),
          at: z.string(),
        })
        .nullable(),
    }),
    statement: z
      .object({
        fileSha256: z.string(),
        source: z.string().describe('download or import'),
        format: z.string(),
        lineCount: z.int(),
        setAsideCount: z.int(),
        storedAt: z.string(),
      })
      .nullable()
      .describe('The file stored now; null until one is'),
    run: z
      .object({
        runId: z.uuid(),
        statementSha256: z.string().nullable().describe('The file it read: not the stored one when status is open'),
        ranBy: z.string().describe('sweep, cli:<os user>, or an operator entity id'),
        ranAt: z.string(),
        statementLines: z.int(),
        ourOrders: z.int(),
        matched: z.object({ count: z.int(), amounts: z.array(amountView) }),
        breakCount: z.int(),
        breaks: z.array(classTotalView).describe('Per break class found by the run'),
        pending: z.int().describe('Items left in the pending pool for the next day (cut-off window)'),
        carriedIn: z.int().describe("Items carried in from the previous day's pool"),
        previousDayRun: z
          .boolean()
          .describe(
            'False: the previous day was never run, so nothing could be carried in (it is run again once it is)',
          ),
        carriedFromRunId: z.uuid().nullable(),
        fees: z
          .array(z.object({ currency: currencyString, ours: amountString, theirs: amountString }))
          .describe('Fees of the pairs both sides settled, net of fees given back on refunds'),
      })
      .nullable()
      .describe('The last run; null until the day is run'),
    openBreaks: z.int().describe("The day's breaks not cleared or resolved (also those found by later days' runs)"),
    updatedAt: z.string(),
  })
  .meta({ id: 'ReconciliationDay', example: EXAMPLE_DAY });

export const reconDayPageView = listPageView(reconDayView).meta({ id: 'ReconciliationDayPage' });

export const reconRunView = z
  .object({
    runId: z.uuid(),
    channel: z.string(),
    accountingDate: z.string(),
    statementSha256: z.string().nullable(),
    statementLines: z.int(),
    ourOrders: z.int(),
    carriedIn: z.int(),
    carriedFromRunId: z.uuid().nullable(),
    pending: z.int(),
    breaks: z.int(),
    classes: z.array(classTotalView).describe('Per class, matched and unsettled included'),
    fees: z.array(z.object({ currency: currencyString, ours: amountString, theirs: amountString })),
    ranBy: z.string(),
    at: z.string(),
  })
  .meta({ id: 'ReconciliationRun' });

export const reconRunsView = z
  .object({
    runs: z
      .array(reconRunView)
      .describe('Every run made, oldest first: earlier days that were due (never run, file replaced), then the day'),
  })
  .meta({ id: 'ReconciliationRuns' });

const amountOf = ({ currency, amountMinor }: AmountMinor) => ({
  currency,
  amount: formatAmount(BigInt(amountMinor), currency as CurrencyCode),
});

export function toReconDayView(doc: ReconDayDocument): z.output<typeof reconDayView> {
  const run = doc.run;
  return {
    channel: doc.channel,
    accountingDate: doc.accountingDate,
    status: doc.status,
    download: doc.download,
    statement: doc.statement,
    run:
      run === null
        ? null
        : {
            runId: run.runId,
            statementSha256: run.statementSha256,
            ranBy: run.ranBy,
            ranAt: run.ranAt,
            statementLines: run.statementLines,
            ourOrders: run.ourOrders,
            matched: { count: run.matchedCount, amounts: run.matchedAmounts.map(amountOf) },
            breakCount: run.breakCount,
            breaks: run.breaks.map((b) => ({
              matchClass: b.matchClass as (typeof MATCH_CLASSES)[number],
              count: b.count,
              amounts: b.amounts.map(amountOf),
            })),
            pending: run.pending,
            carriedIn: run.carriedIn,
            previousDayRun: run.carriedFromRunId !== null,
            carriedFromRunId: run.carriedFromRunId,
            fees: run.fees.map((f) => ({
              currency: f.currency,
              ours: formatAmount(BigInt(f.oursMinor), f.currency as CurrencyCode),
              theirs: formatAmount(BigInt(f.theirsMinor), f.currency as CurrencyCode),
            })),
          },
    openBreaks: doc.openBreaks,
    updatedAt: doc.updatedAt,
  };
}

function toRunView(run: ReconciliationRun): z.output<typeof reconRunView> {
  const money = (currency: CurrencyCode, amountMinor: bigint) => formatAmount(amountMinor, currency);
  return {
    runId: run.runId,
    channel: run.channel,
    accountingDate: run.accountingDate,
    statementSha256: run.statementSha256,
    statementLines: run.statementLines,
    ourOrders: run.ourOrders,
    carriedIn: run.carriedIn,
    carriedFromRunId: run.carriedFromRunId,
    pending: run.pending,
    breaks: run.breaks,
    classes: run.classes.map((c) => ({
      matchClass: c.matchClass,
      count: c.count,
      amounts: c.amounts.map((a) => ({ currency: a.currency, amount: money(a.currency, a.amountMinor) })),
    })),
    fees: run.fees.map((f) => ({
      currency: f.currency,
      ours: money(f.currency, f.oursMinor),
      theirs: money(f.currency, f.theirsMinor),
    })),
    ranBy: run.ranBy,
    at: run.at,
  };
}

function dayAfter(date: string): string {
  return DateTime.fromISO(date, { zone: 'utc' }).plus({ days: 1 }).toISODate()!;
}

/** The days the filters select, as one index range: one channel's by date, else every channel's by date. */
export function reconDayRange(query: {
  channel?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}): NonNullable<FindQuery['range']> {
  const { channel, from, to } = query;
  if (from !== undefined && to !== undefined && from > to)
    throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'from is after to');
  if (channel === undefined)
    return {
      field: 'dateChannelKey',
      ...(from !== undefined ? { gte: from } : {}),
      ...(to !== undefined ? { lt: dayAfter(to) } : {}),
    };
  return {
    field: 'channelDateKey',
    gte: compositeKey(channel, from ?? ''),
    lt: to === undefined ? `${channel}${KEY_GROUP_END}` : compositeKey(channel, dayAfter(to)),
  };
}

export const RECON_DAYS_CSV_HEADER = [
  'channel',
  'accounting_date',
  'status',
  'download_status',
  'download_problem',
  'statement_lines',
  'our_orders',
  'matched_count',
  'matched_amounts',
  'break_count',
  'breaks_by_class',
  'open_breaks',
  'pending',
  'carried_in',
  'previous_day_run',
  'fees_ours',
  'fees_theirs',
  'ran_at',
  'ran_by',
] as const;

/** Several currencies in one cell: `CNY 12.34; USD 1.00`. */
const amountsCell = (amounts: readonly { currency: string; amount: string }[]) =>
  amounts.map((a) => `${a.currency} ${a.amount}`).join('; ');

function toCsvRow(doc: ReconDayDocument): string[] {
  const view = toReconDayView(doc);
  const run = view.run;
  const problem = view.download.lastProblem;
  return [
    view.channel,
    view.accountingDate,
    view.status,
    view.download.status,
    problem === null ? '' : inertText(`${problem.kind}: ${problem.reason}: ${problem.detail}`),
    String(run?.statementLines ?? ''),
    String(run?.ourOrders ?? ''),
    String(run?.matched.count ?? ''),
    run ? amountsCell(run.matched.amounts) : '',
    String(run?.breakCount ?? ''),
    run ? run.breaks.map((b) => `${b.matchClass} ${b.count} (${amountsCell(b.amounts)})`).join('; ') : '',
    String(view.openBreaks),
    String(run?.pending ?? ''),
    String(run?.carriedIn ?? ''),
    run ? String(run.previousDayRun) : '',
    run ? amountsCell(run.fees.map((f) => ({ currency: f.currency, amount: f.ours }))) : '',
    run ? amountsCell(run.fees.map((f) => ({ currency: f.currency, amount: f.theirs }))) : '',
    run?.ranAt ?? '',
    run ? inertText(run.ranBy) : '',
  ];
}

export function reconciliationRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const readModels = service.readModels;

  /** Every selected day, a page at a time from the store, as CSV rows. */
  async function* csvRows(range: NonNullable<FindQuery['range']>): AsyncIterable<string[]> {
    let after: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof readModels.find<ReconDayDocument>>> =
        await readModels.find<ReconDayDocument>(RECON_DAYS_COLLECTION, {
          range,
          orderBy: range.field,
          limit: MAX_FIND_LIMIT,
          ...(after ? { after } : {}),
        });
      for (const doc of page.items) yield toCsvRow(doc.data);
      after = page.nextCursor;
    } while (after !== null);
  }

  return async (app) => {
    app.get(
      '/v1/reconciliation/days',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'List reconciliation days',
          description:
            'Per channel per accounting day: whether its statement came, what the last run found (matched, breaks by class, pending pool, fees ours vs theirs), how many of its breaks are open, and its status. One channel or all, between two dates (inclusive); newest first by default. Operators only.',
          querystring: reconDayListQuery,
          response: {
            200: reconDayPageView,
            ...problemResponses('forbidden', 'invalid_query', 'cursor_mismatch'),
          },
        },
      },
      async (request) => {
        requireOperator(request);
        const q = request.query;
        await awaitReadModel(service, RECON_DAYS_PROJECTION, q.minPosition);
        const range = reconDayRange(q);
        const paging = pageOf(q, range.field);
        const page = await readModels.find<ReconDayDocument>(RECON_DAYS_COLLECTION, { range, ...paging.find });
        return { items: page.items.map((doc) => toReconDayView(doc.data)), nextCursor: paging.next(page.nextCursor) };
      },
    );

    app.get(
      '/v1/reconciliation/days.csv',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'Export reconciliation days as CSV',
          description:
            'The days the filters select (as GET /v1/reconciliation/days), oldest first, as RFC 4180 CSV (UTF-8, CRLF, a header row), streamed a page at a time: amounts as decimal strings in major units, several currencies in one cell as `CNY 12.34; USD 1.00`. Operators only.',
          querystring: reconDayCsvQuery,
          response: {
            200: { description: 'The days as CSV', content: { 'text/csv': { schema: z.string() } } },
            ...problemResponses('forbidden', 'invalid_query'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        await awaitReadModel(service, RECON_DAYS_PROJECTION, request.query.minPosition);
        const range = reconDayRange(request.query);
        const csv = Readable.from(csvRows(range)).pipe(
          stringify({ header: true, columns: [...RECON_DAYS_CSV_HEADER], record_delimiter: 'windows' }),
        );
        return (
          reply
            .type('text/csv; charset=utf-8; header=present')
            .header('content-disposition', 'attachment; filename="reconciliation-days.csv"')
            // A stream is piped as it is, never serialised: the schema's string documents what it carries.
            .send(csv as unknown as string)
        );
      },
    );

    app.get(
      '/v1/reconciliation/days/:channel/:date',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'Get a reconciliation day',
          description:
            "One channel's accounting day: its download, the statement stored, the last run's totals, open breaks, status. 404 when nothing is known of the day yet (no download tried, no file, no run). Operators only.",
          params: reconDayParams,
          querystring: z.strictObject({ minPosition: minPositionParam }),
          response: { 200: reconDayView, ...problemResponses('forbidden', 'recon_day_not_found') },
        },
      },
      async (request) => {
        requireOperator(request);
        const { channel, date } = request.params;
        await awaitReadModel(service, RECON_DAYS_PROJECTION, request.query.minPosition);
        const doc = await readModels.get<ReconDayDocument>(RECON_DAYS_COLLECTION, reconDayId(channel, date));
        if (!doc)
          throw new HttpProblem(
            404,
            'recon_day_not_found',
            'Reconciliation day not found',
            `nothing is known of ${channel} ${date} yet: no download tried, no statement stored, no run`,
          );
        return toReconDayView(doc.data);
      },
    );

    app.post(
      '/v1/reconciliation/days/:channel/:date/run',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'Run a reconciliation day again',
          description:
            "Matches the day's stored statement against our orders now and records the run; earlier days that are due (stored and never run, or their file replaced since their run) are run first, oldest first, since each day carries in the previous day's pending pool. 404 `statement_not_stored` when no statement of the day is stored, 409 `statement_replaced` when a new file replaced it during the run (run it again). Without Idempotency-Key (each request is one more run). Operators only.",
          params: reconDayParams,
          response: {
            200: reconRunsView,
            ...problemResponses('forbidden', 'statement_not_stored', 'statement_replaced'),
          },
        },
      },
      async (request) => {
        const principal = requireOperator(request);
        const { channel, date } = request.params;
        const runs = await reconcileDay(
          service.reconciliation,
          { channel, accountingDate: date, ranBy: principal.entityId },
          commandContextOf(request, service.clock),
        );
        return { runs: runs.map((r) => toRunView(r.run)) };
      },
    );
  };
}

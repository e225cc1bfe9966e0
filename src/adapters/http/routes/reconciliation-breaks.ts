import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BreakOutcome } from '../../../commands/reconciliation/break-commands.js';
import type { CommandContext } from '../../../commands/command-context.js';
import { encodeOwnEvent } from '../../../domain/event-catalogue.js';
import { BREAK_RESOLUTIONS } from '../../../domain/reconciliation/break-events.js';
import { breakStreamId } from '../../../domain/reconciliation/break-id.js';
import { BREAK_CLASSES } from '../../../domain/reconciliation/match-classes.js';
import { parseCurrency, formatAmount } from '../../../domain/money/money.js';
import type { FindPage, FindQuery } from '../../../ports/read-model-store.js';
import {
  RECON_BREAKS_COLLECTION,
  RECON_BREAKS_PROJECTION,
  type ReconBreakDocument,
} from '../../../projections/recon-breaks.js';
import type { LedgerService } from '../../ledger-service.js';
import { currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { requireOperator } from '../authorization.js';
import { inertText } from '../csv.js';
import { runCommand } from '../idempotent-command.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses, type ProblemCode } from '../problem-responses.js';
import {
  awaitReadModel,
  listPageView,
  listQueryFields,
  pageOf,
  streamPosition,
  whereOf,
} from '../read-model-queries.js';

/**
 * The review queue of reconciliation breaks (docs/reconciliation.md, "Resolutions"): the breaks with
 * their class, status, age and resolution, one break with its history, the operator's commands on it
 * (accept the channel's amount, write off, mark investigated, reopen: each with a reason, recorded with
 * the operator as `by`), and the list as CSV. Operators only: breaks span merchants.
 */
const BREAK_STATUSES = ['open', 'investigated', 'cleared', 'resolved'] as const;
/** Rows of one CSV export at most: a longer list is exported in several date ranges. */
export const BREAKS_CSV_MAX_ROWS = 100_000;
const CSV_PAGE = 1_000;

const breakIdParam = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s/]+:\d{4}-\d{2}-\d{2}:[0-9a-f]{32}$/, '<channel>:<originDate>:<digest>')
  .describe('The break id: `<channel>:<originDate>:<digest>`');
const reasonField = z.string().trim().min(1).max(500).describe('Why: kept on the break for ever');

const sideView = z.object({
  amount: z.string().describe('Major units'),
  fee: z.string().nullable().describe('Major units; ours: null until it succeeded'),
  currency: currencyString,
  status: z.string().describe('The statement line: settled or revoked; ours: the order status'),
});

export const reconciliationBreakView = z
  .object({
    breakId: z.string(),
    channel: z.string(),
    originDate: z.iso.date().describe('The accounting day the item belongs to'),
    runDate: z.iso.date().describe('The day of the last run that found or cleared it'),
    matchClass: z.enum(BREAK_CLASSES),
    status: z
      .enum(BREAK_STATUSES)
      .describe('open, investigated (still open, noted), cleared (a later run matched it), resolved'),
    ageDays: z.int().describe('Days from originDate to the last run that saw it (0, 1 = T+1, ...)'),
    merchantOrderNo: z.string().describe('Our order number (the operation id we sent the channel)'),
    refundNo: z.string().nullable(),
    occurrence: z.int().describe('0: the pair; 1, 2...: a further line or order of the same key'),
    channelOrderNo: z.string().nullable(),
    statement: sideView.nullable().describe("The channel's statement line; null when the channel has none"),
    ours: sideView.nullable().describe('Our order; null when we have none'),
    resolution: z.enum(BREAK_RESOLUTIONS).nullable(),
    automatic: z.boolean().nullable().describe('Resolved by the ledger itself (marked paid or refunded)'),
    resolvedBy: z.string().nullable(),
    note: z.string().nullable().describe("The last operator's note or reason"),
    posted: z
      .object({
        amount: z.string().describe('Signed major units: positive, the channel held more than we had booked'),
        currency: currencyString,
        account: z.string().describe('Book account: 2241 suspense or 6604 channel fee variance'),
      })
      .nullable()
      .describe('What its resolutions booked, net'),
    foundAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ReconciliationBreak' });

export const reconciliationBreakPageView = listPageView(reconciliationBreakView).meta({
  id: 'ReconciliationBreakPage',
});

const historyEntryView = z.object({
  type: z
    .string()
    .describe('BreakFound, BreakSeenAgain, BreakCleared, BreakResolved, BreakInvestigated, BreakReopened'),
  actor: z.string(),
  occurredAt: z.string(),
  position: positionString,
  data: z.record(z.string(), z.unknown()).describe('The event as recorded (amounts in minor units, strings)'),
});

export const reconciliationBreakDetailView = z
  .object({
    break: reconciliationBreakView,
    history: z.array(historyEntryView),
    position: positionString,
  })
  .meta({ id: 'ReconciliationBreakDetail' });

const breakFilters = {
  channel: z.string().min(1).max(64).optional(),
  fromDate: z.iso.date().optional().describe('First origin date (inclusive)'),
  toDate: z.iso.date().optional().describe('Last origin date (inclusive)'),
  matchClass: z.enum(BREAK_CLASSES).optional(),
  status: z.enum(BREAK_STATUSES).optional(),
};
export const breakListQuery = z.strictObject({ ...listQueryFields, ...breakFilters });
export const breakCsvQuery = z.strictObject({ ...breakFilters, minPosition: listQueryFields.minPosition });
export const breakReasonBody = z.strictObject({ reason: reasonField });
export const breakNoteBody = z.strictObject({ note: reasonField });

function side(
  amountMinor: string | null,
  feeMinor: string | null,
  currency: string | null,
  status: string | null,
): z.output<typeof sideView> | null {
  if (amountMinor === null || currency === null || status === null) return null;
  const code = parseCurrency(currency);
  return {
    amount: formatAmount(BigInt(amountMinor), code),
    fee: feeMinor === null ? null : formatAmount(BigInt(feeMinor), code),
    currency,
    status,
  };
}

export function breakViewOf(doc: ReconBreakDocument): z.output<typeof reconciliationBreakView> {
  return {
    breakId: doc.breakId,
    channel: doc.channel,
    originDate: doc.originDate,
    runDate: doc.runDate,
    matchClass: doc.matchClass as (typeof BREAK_CLASSES)[number],
    status: doc.status,
    ageDays: doc.ageDays,
    merchantOrderNo: doc.merchantOrderNo,
    refundNo: doc.refundNo,
    occurrence: doc.occurrence,
    channelOrderNo: doc.channelOrderNo,
    statement: side(doc.statementAmountMinor, doc.statementFeeMinor, doc.statementCurrency, doc.statementStatus),
    ours: side(doc.oursAmountMinor, doc.oursFeeMinor, doc.oursCurrency, doc.oursStatus),
    resolution: doc.resolution as (typeof BREAK_RESOLUTIONS)[number] | null,
    automatic: doc.automatic,
    resolvedBy: doc.resolvedBy,
    note: doc.note,
    posted:
      doc.postedCurrency === null || doc.postedAccount === null
        ? null
        : {
            amount: formatAmount(BigInt(doc.postedMinor), parseCurrency(doc.postedCurrency)),
            currency: doc.postedCurrency,
            account: doc.postedAccount,
          },
    foundAt: doc.foundAt,
    updatedAt: doc.updatedAt,
  };
}

/** The filters as a read-model query: equality on channel, class and status, a range of origin dates. */
function findOf(q: {
  channel?: string | undefined;
  fromDate?: string | undefined;
  toDate?: string | undefined;
  matchClass?: string | undefined;
  status?: string | undefined;
}): Pick<FindQuery, 'where' | 'range'> {
  if (q.fromDate !== undefined && q.toDate !== undefined && q.fromDate > q.toDate)
    throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'fromDate is after toDate');
  const range =
    q.fromDate === undefined && q.toDate === undefined
      ? undefined
      : {
          field: 'originDate',
          ...(q.fromDate !== undefined ? { gte: q.fromDate } : {}),
          // Dates are YYYY-MM-DD: every date up to toDate sorts below toDate followed by anything.
          ...(q.toDate !== undefined ? { lt: `${q.toDate}~` } : {}),
        };
  return {
    where: whereOf({ channel: q.channel, matchClass: q.matchClass, status: q.status }),
    ...(range ? { range } : {}),
  };
}

const CSV_COLUMNS = [
  'breakId',
  'channel',
  'originDate',
  'runDate',
  'matchClass',
  'status',
  'ageDays',
  'merchantOrderNo',
  'refundNo',
  'channelOrderNo',
  'statementAmount',
  'statementFee',
  'oursAmount',
  'oursFee',
  'currency',
  'resolution',
  'resolvedBy',
  'postedAmount',
  'postedAccount',
  'note',
] as const;

function csvRowOf(doc: ReconBreakDocument): string[] {
  const view = breakViewOf(doc);
  return [
    view.breakId,
    view.channel,
    view.originDate,
    view.runDate,
    view.matchClass,
    view.status,
    String(view.ageDays),
    view.merchantOrderNo,
    view.refundNo ?? '',
    inertText(view.channelOrderNo ?? ''),
    view.statement?.amount ?? '',
    view.statement?.fee ?? '',
    view.ours?.amount ?? '',
    view.ours?.fee ?? '',
    view.statement?.currency ?? view.ours?.currency ?? '',
    view.resolution ?? '',
    inertText(view.resolvedBy ?? ''),
    view.posted?.amount ?? '',
    view.posted?.account ?? '',
    inertText(view.note ?? ''),
  ];
}

export function reconciliationBreakRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const breaks = service.reconciliationBreaks;

  async function detail(breakId: string, atLeast: bigint) {
    const position = atLeast > 0n ? atLeast : await streamPosition(service, breakStreamId(breakId));
    const history = await breaks.history(breakId);
    await service.projections.waitForPosition(
      RECON_BREAKS_PROJECTION,
      position,
      service.config.readYourWritesTimeoutMs,
    );
    const doc = await service.readModels.get<ReconBreakDocument>(RECON_BREAKS_COLLECTION, breakId);
    if (doc === null) throw new Error(`recon-breaks: break ${breakId} is on its stream but not in the read model`);
    return {
      break: breakViewOf(doc.data),
      history: history.map((entry) => ({
        type: entry.event.type,
        actor: entry.actor,
        occurredAt: entry.occurredAt,
        position: entry.position.toString(),
        data: encodeOwnEvent(entry.event).data,
      })),
      position: position.toString(),
    };
  }

  return async (app) => {
    app.get(
      '/v1/reconciliation/breaks',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'Reconciliation breaks (the review queue)',
          description:
            'Breaks by channel, origin date range, class and status, newest origin date first by default. Operators only.',
          querystring: breakListQuery,
          response: {
            200: reconciliationBreakPageView,
            ...problemResponses('forbidden', 'invalid_query', 'cursor_mismatch'),
          },
        },
      },
      async (request) => {
        requireOperator(request);
        const q = request.query;
        await awaitReadModel(service, RECON_BREAKS_PROJECTION, q.minPosition);
        const paging = pageOf(q, 'originDate');
        const page = await service.readModels.find<ReconBreakDocument>(RECON_BREAKS_COLLECTION, {
          ...findOf(q),
          ...paging.find,
        });
        return { items: page.items.map((item) => breakViewOf(item.data)), nextCursor: paging.next(page.nextCursor) };
      },
    );

    app.get(
      '/v1/reconciliation/breaks.csv',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'Export reconciliation breaks as CSV',
          description: `The same filters as the list, as RFC 4180 CSV (UTF-8, CRLF, a header row; amounts in major units; free text that a spreadsheet would run as a formula starts with an apostrophe), streamed in origin date order. At most ${BREAKS_CSV_MAX_ROWS} rows (the export ends with a problem line past it: export in date ranges). Operators only.`,
          querystring: breakCsvQuery,
          response: {
            200: { description: 'The breaks as CSV', content: { 'text/csv': { schema: z.string() } } },
            ...problemResponses('forbidden', 'invalid_query'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const q = request.query;
        await awaitReadModel(service, RECON_BREAKS_PROJECTION, q.minPosition);
        const find = findOf(q);
        async function* rows(): AsyncIterable<string[]> {
          let after: string | null = null;
          let count = 0;
          do {
            const page: FindPage<ReconBreakDocument> = await service.readModels.find<ReconBreakDocument>(
              RECON_BREAKS_COLLECTION,
              {
                ...find,
                orderBy: 'originDate',
                limit: CSV_PAGE,
                ...(after ? { after } : {}),
              },
            );
            for (const item of page.items) {
              // Past the limit the export stops: a client sees the last row is not a break.
              if (count >= BREAKS_CSV_MAX_ROWS) {
                yield [`export stopped after ${BREAKS_CSV_MAX_ROWS} rows: export in smaller date ranges`];
                return;
              }
              count += 1;
              yield csvRowOf(item.data);
            }
            after = page.nextCursor;
          } while (after !== null);
        }
        const csv = Readable.from(rows()).pipe(
          stringify({ header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows' }),
        );
        return (
          reply
            .type('text/csv; charset=utf-8; header=present')
            .header('content-disposition', 'attachment; filename="reconciliation-breaks.csv"')
            // A stream of the text the schema describes: Fastify sends it as it is made, page by page.
            .send(csv as unknown as string)
        );
      },
    );

    app.get(
      '/v1/reconciliation/breaks/:breakId',
      {
        schema: {
          tags: ['reconciliation'],
          summary: 'One reconciliation break, with its history',
          description: 'The break as it stands and every event of its life, oldest first. Operators only.',
          params: z.object({ breakId: breakIdParam }),
          response: { 200: reconciliationBreakDetailView, ...problemResponses('forbidden', 'break_not_found') },
        },
      },
      async (request) => {
        requireOperator(request);
        return detail(request.params.breakId, 0n);
      },
    );

    const command = (
      path: string,
      summary: string,
      description: string,
      body: typeof breakReasonBody | typeof breakNoteBody,
      codes: readonly ProblemCode[],
      run: (breakId: string, by: string, text: string, context: CommandContext) => Promise<BreakOutcome>,
    ) =>
      app.post(
        `/v1/reconciliation/breaks/:breakId/${path}`,
        {
          schema: {
            tags: ['reconciliation'],
            summary,
            description: `${description} Operators only; recorded with the operator as \`by\`.`,
            headers: idempotencyHeaders,
            params: z.object({ breakId: breakIdParam }),
            body,
            response: {
              200: reconciliationBreakDetailView,
              ...problemResponses('forbidden', 'break_not_found', ...codes),
            },
          },
        },
        async (request, reply) => {
          const operator = requireOperator(request);
          const text = 'reason' in request.body ? request.body.reason : request.body.note;
          await runCommand(request, reply, service, async (context) => {
            const outcome = await run(request.params.breakId, operator.entityId, text, context);
            return { statusCode: 200, body: await detail(request.params.breakId, outcome.position) };
          });
        },
      );

    command(
      'resolve',
      "Accept the channel's amount",
      "Resolves the break with the channel's statement taken as right: the difference between what the channel's line and our order moved on the channel's clearing account (1122) is booked to 6604 channel fee variance for a fee class, to 2241 suspense for an amount class. Only amount_differs, refund_amount_differs, fee_differs_from_recorded and fee_differs_from_schedule.",
      breakReasonBody,
      ['break_not_open', 'break_already_resolved', 'resolution_not_allowed_for_class', 'break_currencies_differ'],
      (breakId, by, reason, context) => breaks.acceptChannelAmount(breakId, by, reason, context),
    );
    command(
      'write-off',
      'Write the break off',
      "Resolves the break as it is: whatever the channel's line and our order leave apart on the channel's clearing account goes to 2241 suspense. Any class.",
      breakReasonBody,
      ['break_not_open', 'break_already_resolved', 'break_currencies_differ'],
      (breakId, by, reason, context) => breaks.writeOff(breakId, by, reason, context),
    );
    command(
      'investigate',
      'Mark the break investigated',
      'Notes that someone is on it (the break stays open, to be resolved or cleared later).',
      breakNoteBody,
      ['break_not_open'],
      (breakId, by, note, context) => breaks.investigate(breakId, by, note, context),
    );
    command(
      'reopen',
      'Reopen a resolved or cleared break',
      'Opens it again (its history keeps the resolution; a later resolution books only what is left of its difference).',
      breakReasonBody,
      ['break_already_open'],
      (breakId, by, reason, context) => breaks.reopen(breakId, by, reason, context),
    );
  };
}

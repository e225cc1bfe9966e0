import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { formatAmount } from '../../../domain/money/money.js';
import type { StoredDocument } from '../../../ports/read-model-store.js';
import {
  OPERATIONS_COLLECTION,
  REFUNDS_COLLECTION,
  operationsProjection,
  type OperationDocument,
  type RefundDocument,
} from '../../../projections/operations.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, positionString } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { HttpProblem, problemResponses } from '../problem-details.js';
import {
  awaitReadModel,
  instantRange,
  instantRangeFields,
  listPageView,
  listQueryFields,
  minPositionParam,
  pageOf,
  whereOf,
} from '../read-model-queries.js';

/**
 * Lists of operations (payments, recharges, withdrawals, transfers, freezes, pre-authorisations), refunds,
 * and recharges by id, from the operations read model: filtered, cursor-paginated, scoped by who asks.
 * A merchant sees only its own; what is not its own answers exactly like what does not exist.
 */

export const OPERATION_KINDS = ['payment', 'recharge', 'withdrawal', 'transfer', 'freeze', 'preauth'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Every status an operation of each kind can be in (src/projections/operations.ts). */
export const OPERATION_STATUSES = {
  payment: ['initiated', 'completed', 'failed', 'cancelling', 'cancelled'],
  recharge: ['requested', 'completed', 'failed'],
  withdrawal: ['requested', 'completed', 'failed'],
  transfer: ['requested', 'completed', 'failed'],
  freeze: ['requested', 'placed', 'refused'],
  preauth: ['requested', 'authorised', 'declined', 'cancelled', 'completing', 'completed', 'cancelling_completion'],
} as const satisfies Record<OperationKind, readonly string[]>;

export const operationSummaryView = z
  .object({
    operationId: z.uuid().describe('The payment, recharge, withdrawal, transfer, freeze or pre-authorisation id'),
    kind: z.enum(OPERATION_KINDS),
    status: z.string().describe("One of the kind's statuses (see the list route's `status` filter)"),
    amount: amountString,
    currency: currencyString,
    sourceAccountId: accountIdString.describe('Payer, sender, or the account recharged, withdrawn from or frozen'),
    targetAccountId: accountIdString
      .nullable()
      .describe('Payee or receiver; null when money enters or leaves the ledger'),
    merchantId: z.string().nullable().describe('Payments and pre-authorisations'),
    merchantOrderNo: z.string().nullable(),
    ownerId: z
      .string()
      .nullable()
      .describe('The merchant (payments, pre-authorisations), who placed it (freezes), the sender (transfers)'),
    counterpartyOwnerId: z.string().nullable().describe("Transfers: the receiving account's owner"),
    channel: z.string().nullable().describe('Recharges and withdrawals'),
    channelOrderNo: z.string().nullable().describe("Recharges and withdrawals: the channel's reference once completed"),
    reasonCode: z
      .string()
      .nullable()
      .describe(
        'Why it failed, was refused or declined (an error code); `merchant` or `expired` for a cancelled pre-authorisation',
      ),
    settledBack: amountString.describe(
      'Refunded (payments), captured (pre-authorisations), deducted (freezes): completed parts',
    ),
    pending: amountString.describe('Refunds, deductions, releases or a capture requested and not yet finished'),
    inFlight: z.boolean().describe('Steps remain: the service finishes them (after a crash, by its recovery sweep)'),
    expiresAt: z.string().nullable().describe('Pre-authorisations: when the hold lapses'),
    createdAt: z.string().describe('UTC'),
    updatedAt: z.string().describe('UTC'),
    position: positionString.describe(
      'Global position of the last event applied to it: pass as minPosition to see everything it did, including what the service did by itself (a lapsed hold, a recovered operation)',
    ),
  })
  .meta({ id: 'OperationSummary' });
export type OperationSummaryView = z.output<typeof operationSummaryView>;

export const operationPageView = listPageView(operationSummaryView).meta({ id: 'OperationPage' });

export const refundSummaryView = z
  .object({
    refundId: z.uuid(),
    paymentId: z.uuid(),
    refundNo: z.string(),
    status: z.enum(['requested', 'completed', 'failed']),
    amount: amountString,
    currency: currencyString,
    reason: z.string(),
    reasonCode: z.string().nullable().describe('Why a failed refund failed (an error code)'),
    createdAt: z.string(),
    updatedAt: z.string(),
    position: positionString.describe('Global position of the last event applied to the refund'),
  })
  .meta({ id: 'RefundSummary' });
export type RefundSummaryView = z.output<typeof refundSummaryView>;

export const refundPageView = listPageView(refundSummaryView).meta({ id: 'RefundPage' });

const entityIdFilter = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);
const orderNoFilter = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/);

function statusFilter(kind: OperationKind) {
  return z.enum(OPERATION_STATUSES[kind]).optional();
}

const commonFilters = {
  ...listQueryFields,
  ...instantRangeFields,
  accountId: accountIdString.optional(),
};

/** Payments and pre-authorisations: a merchant's own, by payer account and order number. */
function merchantOperationQuery(kind: 'payment' | 'preauth') {
  return z.strictObject({
    ...commonFilters,
    accountId: accountIdString.optional().describe("The payer's account"),
    status: statusFilter(kind),
    merchantId: entityIdFilter.optional().describe("Operators: one merchant's (a merchant sees its own)"),
    merchantOrderNo: orderNoFilter.optional().describe("The merchant's order number"),
  });
}
export const paymentListQuery = merchantOperationQuery('payment');
export const preauthListQuery = merchantOperationQuery('preauth');
export const freezeListQuery = z.strictObject({
  ...commonFilters,
  accountId: accountIdString.optional().describe('The frozen account'),
  status: statusFilter('freeze'),
  placedBy: entityIdFilter.optional().describe('Operators: freezes placed by this entity (a merchant sees its own)'),
});
export const transferListQuery = z.strictObject({
  ...commonFilters,
  accountId: accountIdString.optional().describe("The sender's account"),
  toAccountId: accountIdString.optional().describe("The receiver's account"),
  status: statusFilter('transfer'),
  side: z
    .enum(['sent', 'received'])
    .default('sent')
    .describe("A merchant's transfers from its accounts (sent, the default) or to them (received); operators: ignored"),
});
/** Recharges and withdrawals: through a channel, found by their account. */
function channelOperationQuery(kind: 'recharge' | 'withdrawal', account: string) {
  return z.strictObject({
    ...commonFilters,
    accountId: accountIdString.optional().describe(`${account}: required for a merchant (one of its own)`),
    status: statusFilter(kind),
    channel: z.string().min(1).max(40).optional(),
  });
}
export const rechargeListQuery = channelOperationQuery('recharge', 'The account recharged');
export const withdrawalListQuery = channelOperationQuery('withdrawal', 'The account withdrawn from');
export const refundListQuery = z.strictObject({
  ...listQueryFields,
  ...instantRangeFields,
  paymentId: z.uuid().optional().describe('Refunds of this payment: required for a merchant (one of its own)'),
  refundNo: orderNoFilter.optional().describe('The refund number'),
  status: z.enum(['requested', 'completed', 'failed']).optional(),
});

export function toOperationSummary(
  doc: StoredDocument<OperationDocument & Record<string, never>>,
): OperationSummaryView {
  const d = doc.data as OperationDocument;
  const currency = d.currency as CurrencyCode;
  const pendingMinor = Object.values(d.pendingParts).reduce((sum, part) => sum + BigInt(part), 0n);
  return {
    operationId: d.operationId,
    kind: d.kind,
    status: d.status,
    amount: formatAmount(BigInt(d.amountMinor), currency),
    currency: d.currency,
    sourceAccountId: d.sourceAccountId,
    targetAccountId: d.targetAccountId,
    merchantId: d.merchantId,
    merchantOrderNo: d.merchantOrderNo,
    ownerId: d.ownerId,
    counterpartyOwnerId: d.counterpartyOwnerId,
    channel: d.channel,
    channelOrderNo: d.channelOrderNo,
    reasonCode: d.reasonCode,
    settledBack: formatAmount(BigInt(d.settledBackMinor), currency),
    pending: formatAmount(pendingMinor, currency),
    inFlight: d.inFlight,
    expiresAt: d.expiresAt === '' ? null : d.expiresAt,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    position: doc.position.toString(),
  };
}

export function toRefundSummary(doc: StoredDocument<RefundDocument & Record<string, never>>): RefundSummaryView {
  const d = doc.data as RefundDocument;
  return {
    refundId: d.refundId,
    paymentId: d.paymentId,
    refundNo: d.refundNo,
    status: d.status,
    amount: formatAmount(BigInt(d.amountMinor), d.currency as CurrencyCode),
    currency: d.currency,
    reason: d.reason,
    reasonCode: d.reasonCode,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    position: doc.position.toString(),
  };
}

type OperationDoc = OperationDocument & Record<string, never>;

interface PageQuery {
  limit: number;
  order: 'asc' | 'desc';
  cursor?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** Nothing matches: a merchant asking for another's resources gets an empty page, as for none at all. */
const NOTHING = Symbol('nothing');

export function operationQueryRoutes(service: LedgerService): FastifyPluginAsyncZod {
  const notFound = (what: string, id: string) =>
    new HttpProblem(404, 'operation_not_found', 'Not found', `${what} ${id} does not exist`);

  /**
   * For kinds whose events name only the account (recharges, withdrawals): a merchant lists those of one
   * of its own accounts. Another's account answers like an unknown one (404), from the event store, so an
   * account opened a moment ago counts.
   */
  async function requireOwnAccount(request: FastifyRequest, accountId: string | undefined): Promise<void> {
    const principal = principalOf(request);
    if (principal.kind === 'operator') return;
    if (accountId === undefined)
      throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'a merchant names one of its accounts: accountId');
    if ((await service.accountOwners.ownerOf(accountId)) !== principal.entityId)
      throw new HttpProblem(404, 'account_not_found', 'Account not found', `account ${accountId} does not exist`);
  }

  /** A merchant's own operations only: `ownerField` must be the merchant; an operator's `asked` filter, if any. */
  function ownerScope(
    request: FastifyRequest,
    ownerField: 'ownerId' | 'counterpartyOwnerId',
    asked: string | undefined,
  ): Record<string, string> | typeof NOTHING {
    const principal = principalOf(request);
    if (principal.kind === 'operator') return asked === undefined ? {} : { [ownerField]: asked };
    if (asked !== undefined && asked !== principal.entityId) return NOTHING;
    return { [ownerField]: principal.entityId };
  }

  async function listOperations(
    kind: OperationKind,
    q: PageQuery,
    scope: Record<string, string> | typeof NOTHING,
    filters: Record<string, string | undefined>,
  ): Promise<z.output<typeof operationPageView>> {
    const range = instantRange('createdAt', q.from, q.to);
    if (scope === NOTHING) return { items: [], nextCursor: null };
    const page = await service.readModels.find<OperationDoc>(OPERATIONS_COLLECTION, {
      where: whereOf({ ...filters, ...scope, kind }),
      ...(range ? { range } : {}),
      ...pageOf(q, 'createdAt'),
    });
    return { items: page.items.map(toOperationSummary), nextCursor: page.nextCursor };
  }

  const scoping =
    " Newest first by default; `from`/`to` bound the creation instant. Pass `minPosition` (a command's `position`) to read your own writes.";

  /** One list route per kind: what it is called, which query it takes, and how a query selects. */
  function listRoute<Q extends z.ZodType<PageQuery & { minPosition?: string | undefined }>>(route: {
    path: string;
    kind: OperationKind;
    tag: string;
    summary: string;
    description: string;
    query: Q;
    select(
      request: FastifyRequest,
      q: z.output<Q>,
    ): Promise<{ scope: Record<string, string> | typeof NOTHING; filters: Record<string, string | undefined> }>;
  }): FastifyPluginAsyncZod {
    return async (app) => {
      app.get(
        route.path,
        {
          schema: {
            tags: [route.tag],
            summary: route.summary,
            description: `${route.description}${scoping}`,
            querystring: route.query,
            response: { 200: operationPageView, ...problemResponses(400, 401, 404, 503) },
          },
        },
        async (request) => {
          const q = request.query as z.output<Q>;
          const { scope, filters } = await route.select(request, q);
          await awaitReadModel(service, operationsProjection.name, q.minPosition);
          return listOperations(route.kind, q, scope, filters);
        },
      );
    };
  }

  return async (app) => {
    for (const [kind, path, tag, summary, query, what] of [
      [
        'payment',
        '/v1/payments',
        'payments',
        'List payments',
        paymentListQuery,
        'Payments by merchant, status, payer account, creation instant and merchant order number (the order-status lookup: `?merchantOrderNo=`).',
      ],
      [
        'preauth',
        '/v1/preauths',
        'pre-authorisations',
        'List pre-authorisations',
        preauthListQuery,
        'Pre-authorisations by merchant, status, payer account, creation instant and merchant order number. A lapsed hold shows as `cancelled` with reasonCode `expired`.',
      ],
    ] as const) {
      await app.register(
        listRoute({
          path,
          kind,
          tag,
          summary,
          description: `${what} A merchant sees its own; an operator all, or one merchant's with \`merchantId\`.`,
          query,
          select: async (request, q) => ({
            scope: ownerScope(request, 'ownerId', q.merchantId),
            filters: { status: q.status, sourceAccountId: q.accountId, merchantOrderNo: q.merchantOrderNo },
          }),
        }),
      );
    }
    await app.register(
      listRoute({
        path: '/v1/freezes',
        kind: 'freeze',
        tag: 'freezes',
        summary: 'List freezes',
        description:
          'Freezes by account, status and creation instant. A merchant sees those it placed; an operator all, or those one entity placed with `placedBy`.',
        query: freezeListQuery,
        select: async (request, q) => ({
          scope: ownerScope(request, 'ownerId', q.placedBy),
          filters: { status: q.status, sourceAccountId: q.accountId },
        }),
      }),
    );
    await app.register(
      listRoute({
        path: '/v1/transfers',
        kind: 'transfer',
        tag: 'transfers',
        summary: 'List transfers',
        description:
          'Transfers by sending or receiving account, status and creation instant. A merchant sees those from its accounts (`side=sent`) or to them (`side=received`); an operator all.',
        query: transferListQuery,
        select: async (request, q) => ({
          scope: ownerScope(request, q.side === 'received' ? 'counterpartyOwnerId' : 'ownerId', undefined),
          filters: { status: q.status, sourceAccountId: q.accountId, targetAccountId: q.toAccountId },
        }),
      }),
    );
    for (const [kind, path, tag, query] of [
      ['recharge', '/v1/recharges', 'recharges', rechargeListQuery],
      ['withdrawal', '/v1/withdrawals', 'withdrawals', withdrawalListQuery],
    ] as const) {
      await app.register(
        listRoute({
          path,
          kind,
          tag,
          summary: `List ${tag}`,
          description: `${tag[0]!.toUpperCase()}${tag.slice(1)} by account, status, channel and creation instant. A merchant lists those of one of its own accounts (\`accountId\` required; another's answers 404 account_not_found); an operator all.`,
          query,
          select: async (request, q) => {
            await requireOwnAccount(request, q.accountId);
            return { scope: {}, filters: { status: q.status, sourceAccountId: q.accountId, channel: q.channel } };
          },
        }),
      );
    }

    app.get(
      '/v1/recharges/:rechargeId',
      {
        schema: {
          tags: ['recharges'],
          summary: 'Get a recharge',
          description:
            "A recharge's status, channel reference and position, from the operations read model: also one completed by the recovery sweep after a crash. With `minPosition`, waits (bounded) until the read model has applied it. The account's owner or an operator; another's recharge answers 404 like an unknown one.",
          params: z.object({ rechargeId: z.uuid() }),
          querystring: z.strictObject({ minPosition: minPositionParam }),
          response: { 200: operationSummaryView, ...problemResponses(400, 401, 404, 503) },
        },
      },
      async (request) => {
        const { rechargeId } = request.params;
        await awaitReadModel(service, operationsProjection.name, request.query.minPosition);
        const doc = await service.readModels.get<OperationDoc>(OPERATIONS_COLLECTION, rechargeId);
        if (!doc || (doc.data as OperationDocument).kind !== 'recharge') throw notFound('recharge', rechargeId);
        const principal = principalOf(request);
        if (
          principal.kind !== 'operator' &&
          (await service.accountOwners.ownerOf((doc.data as OperationDocument).sourceAccountId)) !== principal.entityId
        )
          throw notFound('recharge', rechargeId);
        return toOperationSummary(doc);
      },
    );

    app.get(
      '/v1/refunds',
      {
        schema: {
          tags: ['payments'],
          summary: 'List refunds',
          description: `Refunds by payment, refund number, status and creation instant. A merchant lists the refunds of one of its own payments (\`paymentId\` required; another's answers 404 operation_not_found); an operator all, or by refund number across payments.${scoping}`,
          querystring: refundListQuery,
          response: { 200: refundPageView, ...problemResponses(400, 401, 404, 503) },
        },
      },
      async (request) => {
        const q = request.query;
        const principal = principalOf(request);
        await awaitReadModel(service, operationsProjection.name, q.minPosition);
        if (principal.kind !== 'operator') {
          if (q.paymentId === undefined)
            throw new HttpProblem(
              400,
              'invalid_query',
              'Invalid query',
              'a merchant names one of its payments: paymentId',
            );
          const payment = await service.readModels.get<OperationDoc>(OPERATIONS_COLLECTION, q.paymentId);
          const data = payment?.data as OperationDocument | undefined;
          if (data?.kind !== 'payment' || data.ownerId !== principal.entityId) throw notFound('payment', q.paymentId);
        }
        const range = instantRange('createdAt', q.from, q.to);
        const page = await service.readModels.find<RefundDocument & Record<string, never>>(REFUNDS_COLLECTION, {
          where: whereOf({ paymentId: q.paymentId, refundNo: q.refundNo, status: q.status }),
          ...(range ? { range } : {}),
          ...pageOf(q, 'createdAt'),
        });
        return { items: page.items.map(toRefundSummary), nextCursor: page.nextCursor };
      },
    );
  };
}

import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  OPERATIONS_COLLECTION,
  REFUNDS_COLLECTION,
  operationsProjection,
  type OperationDocument,
  type RefundDocument,
} from '../../../projections/operations.js';
import type { LedgerService } from '../../ledger-service.js';
import { principalOf } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import { compositeKey } from '../../../projections/read-model-keys.js';
import { awaitReadModel, groupInstantRange, instantRange, pageOf, whereOf } from '../read-model-queries.js';
import {
  channelPaymentListQuery,
  freezeListQuery,
  operationPageView,
  paymentListQuery,
  preauthListQuery,
  rechargeListQuery,
  refundListQuery,
  refundPageView,
  toOperationSummary,
  toRefundSummary,
  transferListQuery,
  withdrawalListQuery,
  type OperationKind,
} from './operation-views.js';

/**
 * Lists of operations (payments, recharges, withdrawals, transfers, freezes, pre-authorisations), refunds,
 * and recharges by id, from the operations read model: filtered, cursor-paginated, scoped by who asks.
 * A merchant sees only its own; what is not its own answers exactly like what does not exist.
 */

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
    if (scope === NOTHING) return { items: [], nextCursor: null };
    // The narrowest group a composite key gives (an account's, an owner's, the kind's), read as one index
    // range in creation order; the other filters narrow it further.
    const account = filters['sourceAccountId'];
    const [field, group] =
      account !== undefined
        ? ['accountTimeKey', compositeKey(kind, account)]
        : scope['ownerId'] !== undefined
          ? ['ownerTimeKey', compositeKey(kind, scope['ownerId'])]
          : scope['counterpartyOwnerId'] !== undefined
            ? ['counterpartyTimeKey', compositeKey(kind, scope['counterpartyOwnerId'])]
            : ['kindTimeKey', kind];
    // The scope is bound too: a merchant's cursor does not page an operator's list.
    const paging = pageOf(q, field, JSON.stringify([kind, group, scope]));
    const page = await service.readModels.find<OperationDoc>(OPERATIONS_COLLECTION, {
      where: whereOf({ ...filters, ...scope, kind }),
      range: groupInstantRange(field, group, q.from, q.to),
      ...paging.find,
    });
    return { items: page.items.map(toOperationSummary), nextCursor: paging.next(page.nextCursor) };
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
            response: {
              200: operationPageView,
              ...problemResponses('invalid_query', 'cursor_mismatch', 'account_not_found'),
            },
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
        'channel_payment',
        '/v1/channel-payments',
        'channel payments',
        'List channel payments',
        channelPaymentListQuery,
        'Channel payments by merchant, status, payee account (`accountId`), creation instant and merchant order number (the order-status lookup: `?merchantOrderNo=`).',
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
      '/v1/refunds',
      {
        schema: {
          tags: ['payments'],
          summary: 'List refunds',
          description: `Refunds by payment, refund number, status and creation instant. A merchant lists the refunds of one of its own payments (\`paymentId\` required; another's answers 404 operation_not_found); an operator all, or by refund number across payments.${scoping}`,
          querystring: refundListQuery,
          response: {
            200: refundPageView,
            ...problemResponses('invalid_query', 'cursor_mismatch', 'operation_not_found'),
          },
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
        const paging = pageOf(q, 'createdAt');
        const page = await service.readModels.find<RefundDocument & Record<string, never>>(REFUNDS_COLLECTION, {
          where: whereOf({ paymentId: q.paymentId, refundNo: q.refundNo, status: q.status }),
          ...(range ? { range } : {}),
          ...paging.find,
        });
        return { items: page.items.map(toRefundSummary), nextCursor: paging.next(page.nextCursor) };
      },
    );
  };
}

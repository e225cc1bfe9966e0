import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ENTITY_KINDS } from '../../../domain/entities/entity-id.js';
import { SECURITY_LEVELS } from '../../../domain/entities/entity-events.js';
import type { StoredDocument } from '../../../ports/read-model-store.js';
import { BALANCES_COLLECTION, type BalanceDocument } from '../../../projections/balances.js';
import { ENTITIES_COLLECTION, ENTITIES_PROJECTION, type EntityDocument } from '../../../projections/entities.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, currencyString, positionString } from '../api-schemas.js';
import { principalOf } from '../authorization.js';
import { problemResponses } from '../problem-responses.js';
import {
  awaitReadModel,
  groupInstantRange,
  instantRange,
  listPageView,
  listQueryFields,
  pageOf,
} from '../read-model-queries.js';

/** Entities to be found again, and the accounts an entity owns. */

/** Most accounts an entity view lists; the rest through GET /v1/accounts?ownerId=. */
export const ENTITY_VIEW_MAX_ACCOUNTS = 100;

export const entityAccountView = z
  .object({
    accountId: accountIdString,
    type: z.string(),
    currency: currencyString,
    status: z.string(),
    displayName: z.string(),
  })
  .meta({ id: 'EntityAccount' });

export const entityAccountsView = z.object({
  accounts: z.array(entityAccountView).describe(`Its accounts, oldest first: at most ${ENTITY_VIEW_MAX_ACCOUNTS}`),
  moreAccounts: z.boolean().describe('True when it owns more: list them with GET /v1/accounts?ownerId='),
});

export const entitySummaryView = z
  .object({
    entityId: z.string(),
    kind: z.enum(ENTITY_KINDS),
    displayName: z.string(),
    mayPay: z.boolean(),
    securityLevel: z.enum(SECURITY_LEVELS),
    paymentPasswordSet: z.boolean(),
    activeKeyCount: z.int().describe('API keys registered and not revoked'),
    registeredAt: z.string().describe('UTC'),
    position: positionString.describe('Global position of the last event applied to it'),
  })
  .meta({ id: 'EntitySummary' });

export const entityPageView = listPageView(entitySummaryView).meta({ id: 'EntityPage' });

export const entityListQuery = z.strictObject({
  ...listQueryFields,
  kind: z.enum(ENTITY_KINDS).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('Registered at or after this instant'),
  to: z.iso.datetime({ offset: true }).optional().describe('Registered before this instant (exclusive)'),
});

function toEntitySummary(doc: StoredDocument<EntityDocument>): z.output<typeof entitySummaryView> {
  const d = doc.data;
  return {
    entityId: d.entityId,
    kind: d.kind as z.output<typeof entitySummaryView>['kind'],
    displayName: d.displayName,
    mayPay: d.mayPay,
    securityLevel: d.securityLevel as z.output<typeof entitySummaryView>['securityLevel'],
    paymentPasswordSet: d.paymentPasswordSet,
    activeKeyCount: d.activeKeyCount,
    registeredAt: d.registeredAt,
    position: doc.position.toString(),
  };
}

/** An entity's accounts, as the balances read model has them. */
export async function accountsOf(
  service: LedgerService,
  ownerId: string,
): Promise<z.output<typeof entityAccountsView>> {
  const page = await service.readModels.find<BalanceDocument>(BALANCES_COLLECTION, {
    where: { ownerId },
    orderBy: 'openedAt',
    direction: 'asc',
    limit: ENTITY_VIEW_MAX_ACCOUNTS,
  });
  return {
    accounts: page.items.map(({ data }) => ({
      accountId: data.accountId,
      type: data.accountType,
      currency: data.currency,
      status: data.status,
      displayName: data.displayName,
    })),
    moreAccounts: page.nextCursor !== null,
  };
}

export function entityQueryRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/entities',
      {
        schema: {
          tags: ['entities'],
          summary: 'List entities',
          description:
            'Users, merchants and operators by kind and registration instant (no contact details: GET /v1/entities/{id} has them). An operator sees all; a merchant only itself. Newest first by default. Pass `minPosition` to read your own writes.',
          querystring: entityListQuery,
          response: { 200: entityPageView, ...problemResponses('invalid_query', 'cursor_mismatch') },
        },
      },
      async (request) => {
        const q = request.query;
        const principal = principalOf(request);
        const range = instantRange('registeredAt', q.from, q.to);
        await awaitReadModel(service, ENTITIES_PROJECTION, q.minPosition);
        if (principal.kind !== 'operator') {
          // A merchant's list is itself: one page, filtered like any other.
          const self = await service.readModels.get<EntityDocument>(ENTITIES_COLLECTION, principal.entityId);
          const matches =
            self !== null &&
            q.cursor === undefined &&
            (q.kind === undefined || q.kind === self.data.kind) &&
            (range?.gte === undefined || self.data.registeredAt >= range.gte) &&
            (range?.lt === undefined || self.data.registeredAt < range.lt);
          return { items: matches ? [toEntitySummary(self)] : [], nextCursor: null };
        }
        const byKind = q.kind === undefined ? null : groupInstantRange('kindTimeKey', q.kind, q.from, q.to);
        const paging = pageOf(q, byKind ? 'kindTimeKey' : 'registeredAt');
        const page = await service.readModels.find<EntityDocument>(ENTITIES_COLLECTION, {
          ...(byKind ? { range: byKind } : range ? { range } : {}),
          ...paging.find,
        });
        return { items: page.items.map(toEntitySummary), nextCursor: paging.next(page.nextCursor) };
      },
    );
  };
}

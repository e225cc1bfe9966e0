import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { bindingFailureReason } from '../../../domain/contracts/contract-events.js';
import {
  CARD_CONTRACTS_COLLECTION,
  CARD_CONTRACTS_PROJECTION,
  type CardContractDocument,
} from '../../../projections/card-contracts.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import { principalOf } from '../authorization.js';
import { problemResponses } from '../problem-responses.js';
import { awaitReadModel, listPageView, listQueryFields, pageOf, whereOf } from '../read-model-queries.js';

/**
 * A user's card contracts, from the card_contracts read model: masked (first 6, last 4), bank, kind,
 * channel, status and times, newest first, paged. Least privilege: an operator sees all of the user's; a
 * merchant only those it started (another merchant's contracts of the same user are not in its list,
 * nor is their existence).
 */
const userParams = z.object({ userId: z.string().min(1).max(64).describe('The user entity id') });

export const cardContractListQuery = z.strictObject({ ...listQueryFields });

export const cardContractSummaryView = z
  .object({
    contractId: z.uuid(),
    userId: z.string(),
    requestedBy: z.string(),
    maskedCard: z.string().describe('First 6, last 4'),
    bankCode: z.string().nullable(),
    cardKind: z.enum(['debit', 'credit', 'prepaid']),
    channelId: z.string(),
    signing: z.enum(['verify_then_sign', 'sign_at_verify']),
    status: z.enum(['verifying', 'awaiting_bank_code', 'pre_bound', 'bound', 'failed', 'terminated']),
    failure: bindingFailureReason.nullable(),
    startedAt: z.string(),
    expiresAt: z.string(),
    boundAt: z.string().nullable(),
    endedAt: z.string().nullable().describe('Failed or terminated'),
  })
  .meta({ id: 'CardContractSummary' });

export const cardContractPageView = listPageView(cardContractSummaryView).meta({
  id: 'CardContractPage',
  example: {
    items: [
      {
        contractId: '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01',
        userId: 'u-4f1c2d3e-4b5a-4c6d-8e9f-a0b1c2d3e4f5',
        requestedBy: 'm-2b3c4d5e-6f70-4a1b-8c2d-3e4f5a6b7c8d',
        maskedCard: '000000******0004',
        bankCode: 'CITY',
        cardKind: 'debit',
        channelId: 'sim-citybank',
        signing: 'verify_then_sign',
        status: 'bound',
        failure: null,
        startedAt: '2026-12-01T02:00:00.000Z',
        expiresAt: '2026-12-01T02:15:00.000Z',
        boundAt: '2026-12-01T02:01:10.000Z',
        endedAt: null,
      },
    ],
    nextCursor: null,
  },
});

function summaryOf(doc: CardContractDocument): z.output<typeof cardContractSummaryView> {
  return {
    contractId: doc.contractId,
    userId: doc.userId,
    requestedBy: doc.requestedBy,
    maskedCard: doc.maskedCard,
    bankCode: doc.bankCode,
    cardKind: doc.cardKind as z.output<typeof cardContractSummaryView>['cardKind'],
    channelId: doc.channelId,
    signing: doc.signing as z.output<typeof cardContractSummaryView>['signing'],
    status: doc.status,
    failure: doc.failure as z.output<typeof cardContractSummaryView>['failure'],
    startedAt: doc.startedAt,
    expiresAt: doc.expiresAt,
    boundAt: doc.boundAt,
    endedAt: doc.endedAt,
  };
}

export function userCardContractRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/users/:userId/card-contracts',
      {
        schema: {
          tags: ['cards'],
          summary: "A user's card contracts (masked), newest first",
          description:
            'Every contract of the user, in progress, bound or ended: masked card, bank, kind, channel, status, times. Operators see all; a merchant those it started. Paged (`cursor`); `minPosition` reads your own write.',
          params: userParams,
          querystring: cardContractListQuery,
          response: {
            200: cardContractPageView,
            ...problemResponses('entity_not_found', 'invalid_query', 'cursor_mismatch', 'position_beyond_head'),
          },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const query = request.query;
        const user = await service.entities.get(request.params.userId);
        if (!user || user.kind !== 'user')
          throw new DomainError('entity_not_found', `user ${request.params.userId} not found`, {
            entityId: request.params.userId,
          });
        await awaitReadModel(service, CARD_CONTRACTS_PROJECTION, query.minPosition);
        const requestedBy = principal.kind === 'operator' ? undefined : principal.entityId;
        const paging = pageOf(query, 'startedAt', `${request.params.userId}|${requestedBy ?? ''}`);
        const page = await service.readModels.find<CardContractDocument>(CARD_CONTRACTS_COLLECTION, {
          where: whereOf({ userId: request.params.userId, requestedBy }),
          ...paging.find,
        });
        return { items: page.items.map(({ data }) => summaryOf(data)), nextCursor: paging.next(page.nextCursor) };
      },
    );
  };
}

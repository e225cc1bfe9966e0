import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IDENTITY_ELEMENTS } from '../../../domain/identity/identity-elements.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import type { LedgerService } from '../../ledger-service.js';
import { idempotencyHeaders, optionalIdempotencyHeaders } from '../api-schemas.js';
import { principalOf, requireOperator } from '../authorization.js';
import { commandContextOf } from '../idempotent-command.js';
import { problemResponses } from '../problem-responses.js';

/**
 * A user's real-name verifications and erasure. Who may call what (least privilege):
 *   - a verification: the merchant acting for its user (the user's payment password is the user's
 *     consent, as for a binding) or an operator; only that merchant (or an operator) reads it afterwards,
 *     another merchant is answered 404;
 *   - erasure: operators only (it destroys data for good).
 * The name, ID number, phone and card travel in the body only, and never through the recorded answers
 * (whose request fingerprints would hash them): a verification is idempotent by its Idempotency-Key (its
 * id derives from it), an erasure by the user's erasure stream.
 */
const userId = z.string().min(1).max(64).describe('The user entity id');
const userParams = z.object({ userId });
const verificationParams = z.object({ userId, verificationId: z.uuid().describe('Verification id') });

export const verifyIdentityBody = z
  .strictObject({
    paymentPassword: z.string().min(1).max(64).describe("The user's payment password (the user's consent)"),
    name: z.string().min(1).max(64).describe('Real name, as on the ID card; never logged'),
    idNumber: z.string().min(1).max(32).describe('ID number; never logged'),
    phone: z.string().min(5).max(20).nullable().describe('Three and four elements: the phone registered to the person'),
    cardNumber: z
      .string()
      .min(1)
      .max(38)
      .nullable()
      .describe('Four elements: a card of the person (spaces and dashes ignored)'),
  })
  .meta({
    example: {
      paymentPassword: '583920',
      name: '张三',
      idNumber: 'TEST00000000000099',
      phone: '10000000099',
      cardNumber: null,
    },
  });

export const identityVerificationView = z
  .object({
    verificationId: z.uuid(),
    userId: z.string(),
    requestedBy: z.string(),
    status: z.enum(['pending', 'unknown', 'verified', 'mismatched', 'no_record']),
    elements: z.array(z.enum(IDENTITY_ELEMENTS)),
    maskedName: z.string().describe('Every character but the last masked: `*三`'),
    maskedIdNumber: z.string(),
    maskedPhone: z.string().nullable(),
    maskedCard: z.string().nullable().describe('First 6, last 4'),
    mismatched: z.array(z.enum(IDENTITY_ELEMENTS)).describe('Status `mismatched`: which elements'),
    requestedAt: z.string(),
    answeredAt: z.string().nullable(),
  })
  .meta({
    id: 'IdentityVerification',
    example: {
      verificationId: '0b8f2c1e-7a64-4c55-9d0a-0c6f1b1a9e02',
      userId: 'u-4f1c2d3e-4b5a-4c6d-8e9f-a0b1c2d3e4f5',
      requestedBy: 'm-2b3c4d5e-6f70-4a1b-8c2d-3e4f5a6b7c8d',
      status: 'verified',
      elements: ['name', 'id_number', 'phone'],
      maskedName: '*三',
      maskedIdNumber: 'T****************9',
      maskedPhone: '100****0099',
      maskedCard: null,
      mismatched: [],
      requestedAt: '2026-12-01T02:00:00.000Z',
      answeredAt: '2026-12-01T02:00:00.000Z',
    },
  });

export const userIdentityView = z
  .object({
    verified: z.boolean(),
    maskedName: z.string().nullable(),
    maskedIdNumber: z.string().nullable(),
    elements: z.array(z.enum(IDENTITY_ELEMENTS)),
    source: z
      .enum(['identity_service', 'card_binding'])
      .nullable()
      .describe('Asked of the identity service, or a bound card'),
    verifiedAt: z.string().nullable(),
  })
  .meta({ id: 'UserIdentity' });

export const erasureBody = z
  .strictObject({ reason: z.string().min(1).max(500).describe('Why (recorded with the erasure; required)') })
  .meta({ example: { reason: 'user request under PIPL art. 47, ticket 4411' } });

export const erasureView = z
  .object({
    userId: z.string(),
    status: z.enum(['requested', 'erased']).describe('`requested`: waiting for a channel to confirm an unsign'),
    requestedBy: z.string(),
    reason: z.string(),
    requestedAt: z.string(),
    erasedAt: z.string().nullable(),
    forgotten: z
      .object({
        vaultSubjects: z.array(z.string()),
        contracts: z.array(z.string()),
        paymentCodeSeeds: z.array(z.string()),
      })
      .nullable(),
  })
  .meta({
    id: 'UserErasure',
    example: {
      userId: 'u-4f1c2d3e-4b5a-4c6d-8e9f-a0b1c2d3e4f5',
      status: 'erased',
      requestedBy: 'op-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      reason: 'user request under PIPL art. 47, ticket 4411',
      requestedAt: '2026-12-01T02:00:00.000Z',
      erasedAt: '2026-12-01T02:00:01.000Z',
      forgotten: {
        vaultSubjects: ['u-4f1c2d3e-4b5a-4c6d-8e9f-a0b1c2d3e4f5'],
        contracts: ['3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01'],
        paymentCodeSeeds: [],
      },
    },
  });

export function userIdentityRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/users/:userId/identity-verifications',
      {
        schema: {
          tags: ['identity'],
          summary: "Verify a user's real name (2, 3 or 4 elements)",
          description:
            'Name and ID number, with the registered phone (three elements) and a card (four). The elements are sealed in the vault, the request recorded, then the identity service asked (bounded retries of the query). Verified: 201. Distinct refusals: `identity_mismatch` (details.mismatched names the elements), `identity_no_record`, `identity_service_unavailable` (no verdict: the same request again, with its Idempotency-Key, asks again). Merchants (for their user) and operators.',
          headers: idempotencyHeaders,
          params: userParams,
          body: verifyIdentityBody,
          response: {
            201: identityVerificationView,
            ...problemResponses(
              'entity_not_found',
              'entity_kind_denies',
              'payment_password_mismatch',
              'card_invalid',
              'identity_mismatch',
              'identity_no_record',
              'identity_service_unavailable',
              'identity_verification_limit',
              'user_erased',
            ),
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const verified = await service.identity.verify(
          { ...request.body, userId: request.params.userId, requestedBy: principal.entityId },
          commandContextOf(request, service.clock),
        );
        return reply.status(201).send(verified);
      },
    );

    app.get(
      '/v1/users/:userId/identity-verifications/:verificationId',
      {
        schema: {
          tags: ['identity'],
          summary: 'A verification and its verdict',
          description: 'Masked elements and the verdict. The merchant that asked, or an operator.',
          params: verificationParams,
          response: { 200: identityVerificationView, ...problemResponses('operation_not_found') },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const { userId: user, verificationId } = request.params;
        const found = await service.identity.get(user, verificationId);
        if (!found || (principal.kind !== 'operator' && found.requestedBy !== principal.entityId))
          throw new DomainError('operation_not_found', `verification ${verificationId} not found`, { verificationId });
        return found;
      },
    );

    app.post(
      '/v1/users/:userId/erasure',
      {
        schema: {
          tags: ['identity'],
          summary: 'Erase a user (crypto-shredding)',
          description:
            "Unsigns the user's live contracts at their channels, revokes the user's payment-code seeds, destroys the user's vault data key, and records the erasure (who, why, when, what was forgotten). Events stay and the audit chain still verifies; sealed fields open to `erased` for ever. A channel that cannot confirm an unsign makes the erasure wait: 503 `channel_unavailable` (details.contractIds), nothing destroyed yet; ask again to resume. Idempotent: an erased user answers the erasure. Operators only.",
          headers: optionalIdempotencyHeaders,
          params: userParams,
          body: erasureBody,
          response: {
            200: erasureView,
            ...problemResponses(
              'forbidden',
              'entity_not_found',
              'entity_kind_denies',
              'erasure_reason_required',
              'channel_unavailable',
            ),
          },
        },
      },
      async (request) => {
        const operator = requireOperator(request);
        return service.erasures.erase(
          { userId: request.params.userId, requestedBy: operator.entityId, reason: request.body.reason },
          commandContextOf(request, service.clock),
        );
      },
    );

    app.get(
      '/v1/users/:userId/erasure',
      {
        schema: {
          tags: ['identity'],
          summary: "A user's erasure",
          description: 'Requested (waiting for a channel) or erased, with what was forgotten. Operators only.',
          params: userParams,
          response: { 200: erasureView, ...problemResponses('forbidden', 'operation_not_found') },
        },
      },
      async (request) => {
        requireOperator(request);
        const erasure = await service.erasures.get(request.params.userId);
        if (!erasure)
          throw new DomainError('operation_not_found', `no erasure of ${request.params.userId}`, {
            userId: request.params.userId,
          });
        return erasure;
      },
    );
  };
}

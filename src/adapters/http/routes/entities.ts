import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { emailAddress, phoneNumber, SECURITY_LEVELS } from '../../../domain/entities/entity-events.js';
import { ENTITY_ID_PATTERN, ENTITY_KINDS } from '../../../domain/entities/entity-id.js';
import { keyIdOf, type ApiKey, type RegisteredEntity } from '../../../domain/entities/entity-state.js';
import { MAX_PAYMENT_PASSWORD_LENGTH } from '../../../domain/entities/password-policy.js';
import { MAX_PUBLIC_KEY_TEXT_LENGTH, parseEd25519PublicKey, publicKeyFingerprint } from '../../crypto/ed25519-keys.js';
import type { LedgerService } from '../../ledger-service.js';
import { idempotencyHeaders, optionalIdempotencyHeaders } from '../api-schemas.js';
import { requireOperator, requireOwnerOrOperator } from '../authorization.js';
import { runCommand } from '../idempotent-command.js';
import { accountsOf, entityAccountsView } from './entity-queries.js';
import { userIdentityView } from './user-identity.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';

const entityIdString = z
  .string()
  .regex(ENTITY_ID_PATTERN, 'u-, m- or op- followed by a UUID')
  .describe('Entity id: kind prefix (u-, m-, op-) and a UUID');
const entityParams = z.object({ entityId: entityIdString });
const keyParams = z.object({
  entityId: entityIdString,
  keyNo: z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, 'a key number: 1, 2, 3...')
    .describe('Key number within the entity'),
});

export const registerEntityBody = z
  .strictObject({
    kind: z
      .enum(['user', 'merchant'])
      .describe('Operators are created with the CLI only (ledger admin create-operator)'),
    displayName: z.string().min(1).max(100),
    mayPay: z.boolean().optional().describe('Whether the entity may pay (default true)'),
    phone: phoneNumber.optional().describe('E.164 ("+8613800138000"), for payment password resets'),
    email: emailAddress.optional().describe('For payment password resets'),
    securityLevel: z.enum(SECURITY_LEVELS).optional().describe('How much proof its payments need (default "standard")'),
  })
  .meta({
    example: {
      kind: 'merchant',
      displayName: 'Blue Lantern Tea House',
      phone: '+8613800138000',
      email: 'accounts@bluelantern.example',
    },
  });

export const keyView = z
  .object({
    keyId: z.string().describe('Send as X-Ledger-Key-Id'),
    keyNo: z.int(),
    algorithm: z.literal('ed25519'),
    publicKey: z.string().describe('base64 DER SubjectPublicKeyInfo'),
    fingerprint: z.string().describe('SHA-256 of the DER, hex'),
    status: z.enum(['active', 'revoked']),
  })
  .meta({ id: 'ApiKey' });

export const entityView = z
  .object({
    entityId: z.string(),
    kind: z.enum(ENTITY_KINDS),
    displayName: z.string(),
    mayPay: z.boolean(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    securityLevel: z.enum(SECURITY_LEVELS),
    paymentPasswordSet: z
      .boolean()
      .describe('Whether a payment password is set (the password and its hash are never returned)'),
    keys: z.array(keyView),
  })
  .meta({ id: 'Entity' });

/** GET /v1/entities/{id}: the entity and the accounts it owns. */
export const entityWithAccountsView = entityView
  .extend(entityAccountsView.shape)
  .extend({
    identity: userIdentityView
      .nullable()
      .describe("A user's real-name verification (masked name, e.g. `*三`); null for merchants and operators"),
  })
  .meta({ id: 'EntityWithAccounts' });

export const addKeyBody = z
  .strictObject({
    publicKey: z
      .string()
      .min(1)
      .max(MAX_PUBLIC_KEY_TEXT_LENGTH)
      .describe('Ed25519 public key: PEM, or base64 of the DER SubjectPublicKeyInfo'),
  })
  .meta({
    example: {
      publicKey:
        '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n',
    },
  });

export const revokeKeyBody = z
  .strictObject({ reason: z.string().min(1).max(200) })
  .meta({ example: { reason: 'rotated' } });

const passwordText = z.string().min(1).max(MAX_PAYMENT_PASSWORD_LENGTH);
export const paymentPasswordBody = z
  .strictObject({
    newPassword: passwordText.describe('At least 6 characters; not one repeated character or a run of digits'),
    currentPassword: passwordText.optional().describe('Required to change an existing password'),
    reset: z
      .strictObject({ verifiedVia: z.enum(['phone', 'email']) })
      .optional()
      .describe(
        'Reset a forgotten password after verifying the entity through its phone or e-mail (instead of currentPassword)',
      ),
  })
  .refine(
    (body) => !(body.currentPassword !== undefined && body.reset !== undefined),
    'send currentPassword or reset, not both',
  )
  .meta({ example: { newPassword: '583920', currentPassword: '194857' } });

export const paymentPasswordView = z
  .object({ entityId: z.string(), paymentPasswordSet: z.literal(true), reason: z.enum(['initial', 'change', 'reset']) })
  .meta({ id: 'PaymentPasswordSet' });

export const paymentSettingsBody = z
  .strictObject({ mayPay: z.boolean().optional(), securityLevel: z.enum(SECURITY_LEVELS).optional() })
  .refine((body) => body.mayPay !== undefined || body.securityLevel !== undefined, 'send mayPay, securityLevel or both')
  .meta({ example: { mayPay: false } });

function toKeyView(entityId: string, key: ApiKey): z.output<typeof keyView> {
  return {
    keyId: keyIdOf(entityId, key.keyNo),
    keyNo: key.keyNo,
    algorithm: key.algorithm,
    publicKey: key.publicKey,
    fingerprint: publicKeyFingerprint(key.publicKey),
    status: key.status,
  };
}

/** Never the password hash: it stays inside the ledger. */
function toEntityView(entity: RegisteredEntity): z.output<typeof entityView> {
  return {
    entityId: entity.entityId,
    kind: entity.kind,
    displayName: entity.displayName,
    mayPay: entity.mayPay,
    phone: entity.phone,
    email: entity.email,
    securityLevel: entity.securityLevel,
    paymentPasswordSet: entity.paymentPasswordHash !== null,
    keys: entity.keys.map((key) => toKeyView(entity.entityId, key)),
  };
}

/** The one view of an entity, wherever it is answered (registration, settings, GET by id). */
async function toEntityWithAccounts(
  service: LedgerService,
  entity: RegisteredEntity,
): Promise<z.output<typeof entityWithAccountsView>> {
  return {
    ...toEntityView(entity),
    ...(await accountsOf(service, entity.entityId)),
    identity: entity.kind === 'user' ? await service.identity.identityOf(entity.entityId) : null,
  };
}

export function entityRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/entities',
      {
        schema: {
          tags: ['entities'],
          summary: 'Register a user or a merchant',
          description:
            'Registers a payment entity under a new id (u-... or m-...). Requires an Idempotency-Key: the id is derived from it, so a retry registers no second entity. Operators only.',
          headers: idempotencyHeaders,
          body: registerEntityBody,
          response: {
            201: entityWithAccountsView,
            ...problemResponses('forbidden', 'entity_exists', 'entity_kind_denies'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        await runCommand(request, reply, service, async (context) => {
          const { state } = await service.entities.register(request.body, context);
          return { statusCode: 201, body: await toEntityWithAccounts(service, state) };
        });
      },
    );

    app.get(
      '/v1/entities/:entityId',
      {
        schema: {
          tags: ['entities'],
          summary: 'Get an entity',
          description:
            'The entity, its settings, its API keys (public halves) and its accounts (from the balances read model). An operator, or the merchant itself.',
          params: entityParams,
          response: {
            200: entityWithAccountsView,
            ...problemResponses('forbidden', 'entity_not_found'),
          },
        },
      },
      async (request) => {
        // Before the lookup: a merchant learns nothing about other ids, not even whether they exist.
        requireOwnerOrOperator(request, request.params.entityId);
        const entity = await service.entities.get(request.params.entityId);
        if (!entity)
          throw new HttpProblem(
            404,
            'entity_not_found',
            'Entity not found',
            `entity ${request.params.entityId} does not exist`,
          );
        return toEntityWithAccounts(service, entity);
      },
    );

    app.post(
      '/v1/entities/:entityId/keys',
      {
        schema: {
          tags: ['entities'],
          summary: 'Add an API signing key',
          description:
            'Registers the public half of an Ed25519 key pair for a merchant or operator; the holder signs requests with the private half (see docs/authentication.md). Up to 5 active keys, so keys rotate without downtime. Requires an Idempotency-Key. Operators only.',
          headers: idempotencyHeaders,
          params: entityParams,
          body: addKeyBody,
          response: {
            201: keyView,
            ...problemResponses(
              'forbidden',
              'invalid_public_key',
              'entity_not_found',
              'api_key_exists',
              'entity_kind_denies',
              'api_key_limit',
            ),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const publicKey = parseEd25519PublicKey(request.body.publicKey);
        await runCommand(request, reply, service, async (context, attempt) => {
          const { key } = await service.entities.registerApiKey(request.params.entityId, publicKey, context, attempt);
          return { statusCode: 201, body: toKeyView(request.params.entityId, key) };
        });
      },
    );

    app.post(
      '/v1/entities/:entityId/keys/:keyNo/revoke',
      {
        schema: {
          tags: ['entities'],
          summary: 'Revoke an API signing key',
          description:
            'The key stops authenticating at once on this instance, and within AUTH_ENTITY_REFRESH_MS (default 5 s) on every other instance. Revoking a revoked key changes nothing. Operators only.',
          headers: optionalIdempotencyHeaders,
          params: keyParams,
          body: revokeKeyBody,
          response: { 200: keyView, ...problemResponses('forbidden', 'entity_not_found', 'api_key_not_found') },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const { entityId, keyNo } = request.params;
        await runCommand(request, reply, service, async (context, attempt) => {
          const { key } = await service.entities.revokeApiKey(
            entityId,
            Number(keyNo),
            request.body.reason,
            context,
            attempt,
          );
          return { statusCode: 200, body: toKeyView(entityId, key) };
        });
      },
    );

    app.post(
      '/v1/entities/:entityId/payment-password',
      {
        schema: {
          tags: ['entities'],
          summary: 'Set, change or reset the payment password',
          description:
            'Sets the first payment password; changes it (with currentPassword); or resets it after the operator verified the entity through its phone or e-mail. Stored only as a salted scrypt hash. Passwords are not part of the Idempotency-Key fingerprint (a fast hash of them would be guessable), so use a new key for every attempt. Operators only.',
          headers: optionalIdempotencyHeaders,
          params: entityParams,
          body: paymentPasswordBody,
          response: {
            200: paymentPasswordView,
            ...problemResponses(
              'forbidden',
              'payment_password_weak',
              'entity_not_found',
              'payment_password_mismatch',
              'entity_contact_missing',
              'entity_kind_denies',
            ),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const { newPassword, currentPassword, reset } = request.body;
        // Scrub the secrets from the request at once: nothing after this (the idempotency fingerprint,
        // error logging) can see them.
        request.body = {
          newPassword: '[redacted]',
          ...(currentPassword !== undefined ? { currentPassword: '[redacted]' } : {}),
          ...(reset ? { reset } : {}),
        };
        const passwords = reset
          ? { newPassword, resetVerifiedVia: reset.verifiedVia }
          : { newPassword, currentPassword: currentPassword ?? null };
        await runCommand(request, reply, service, async (context, attempt) => {
          const { entityId, events } = await service.entities.setPaymentPassword(
            request.params.entityId,
            passwords,
            context,
            attempt,
          );
          const set = events.find((event) => event.type === 'PaymentPasswordSet');
          if (!set) throw new Error('setting a payment password records PaymentPasswordSet');
          return { statusCode: 200, body: { entityId, paymentPasswordSet: true, reason: set.data.reason } };
        });
      },
    );

    app.post(
      '/v1/entities/:entityId/payment-settings',
      {
        schema: {
          tags: ['entities'],
          summary: 'Change whether an entity may pay, and its security level',
          description: 'Unchanged values record nothing. Operators only.',
          headers: optionalIdempotencyHeaders,
          params: entityParams,
          body: paymentSettingsBody,
          response: {
            200: entityWithAccountsView,
            ...problemResponses('forbidden', 'entity_not_found', 'entity_kind_denies'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        await runCommand(request, reply, service, async (context, attempt) => {
          const { state } = await service.entities.changePaymentSettings(
            request.params.entityId,
            request.body,
            context,
            attempt,
          );
          return { statusCode: 200, body: await toEntityWithAccounts(service, state) };
        });
      },
    );
  };
}

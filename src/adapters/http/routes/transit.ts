import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OFFLINE_REFUSALS, rawEd25519PublicKey, rawPublicKeyOf, TERMINAL_ID_PATTERN } from '../../../client/transit.js';
import { LEDGER_SCAN_REFUSALS, type LedgerScanRefusal } from '../../../domain/transit/scan-refusals.js';
import { MAX_SCANS_PER_BATCH } from '../../../commands/transit/transit-commands.js';
import { canonicalJson } from '../../../domain/audit/canonical-json.js';
import { formatAmount, parseAmount, parseCurrency } from '../../../domain/money/money.js';
import { DomainError } from '../../../domain/shared/domain-error.js';
import { isLive, type TransitCredentialRecord, type TransitState } from '../../../domain/transit/transit-decider.js';
import { REVOKED_BY, SCAN_RESULT_STATUSES } from '../../../domain/transit/transit-events.js';
import {
  TRANSIT_PROJECTION,
  TRANSIT_SCANS_COLLECTION,
  type TransitScanDocument,
} from '../../../projections/transit.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, amountString, currencyString, idempotencyHeaders, positionString } from '../api-schemas.js';
import { principalOf, requireOperator } from '../authorization.js';
import { runCommand } from '../idempotent-command.js';
import { HttpProblem } from '../problem-details.js';
import { MONEY_MOVEMENT_CODES, problemResponses } from '../problem-responses.js';
import {
  awaitReadModel,
  groupInstantRange,
  instantRangeFields,
  listPageView,
  listQueryFields,
  pageOf,
} from '../read-model-queries.js';
import { entityIdFilter } from './operation-views.js';

/**
 * Transit with both sides offline (docs/transit.md). Operators (the platform's app back end) issue, list
 * and revoke a payer's credentials and read its debt and history; a transit operator (a merchant) uploads
 * the scans its terminals collected, crediting its own settlement account.
 */
const userParams = z.object({ userId: entityIdFilter.describe('The payer (a user entity id)') });
const credentialParams = userParams.extend({ credentialId: z.uuid() });
const base64urlKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, "the device's raw 32-byte Ed25519 public key, base64url")
  .describe("The device's raw 32-byte Ed25519 public key, base64url (the app keeps the private key)");

export const issueTransitCredentialBody = z
  .strictObject({
    walletAccountId: accountIdString.describe("The payer's wallet the fares are charged to"),
    devicePublicKey: base64urlKey,
    fareCap: amountString.describe('Largest fare one ride may cost'),
    debtLimit: amountString.describe('Largest unpaid total the platform guarantees operators on this credential'),
    currency: currencyString,
  })
  .meta({
    example: {
      walletAccountId: '1015550123456782',
      devicePublicKey: 'gTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5Q',
      fareCap: '6.00',
      debtLimit: '12.00',
      currency: 'CNY',
    },
  });

export const transitCredentialView = z
  .object({
    credentialId: z.uuid(),
    userId: z.string(),
    walletAccountId: accountIdString,
    keyId: z.int().describe('The platform transit key that signed it'),
    devicePublicKey: z.string(),
    currency: currencyString,
    fareCap: amountString,
    debtLimit: amountString,
    issuedAt: z.string(),
    expiresAt: z.string(),
    status: z.enum(['live', 'expired', 'revoked']),
    revoked: z.object({ at: z.string(), by: z.enum(REVOKED_BY), reason: z.string() }).nullable(),
    payload: z.string().describe('The QR payload (base64url; layout in docs/transit.md)'),
    position: positionString.optional(),
  })
  .meta({ id: 'TransitCredential' });

export const transitCredentialListView = z
  .object({ items: z.array(transitCredentialView) })
  .meta({ id: 'TransitCredentialList' });

export const revokeTransitCredentialBody = z
  .strictObject({
    by: z.enum(REVOKED_BY).describe('Who asked: the user (a lost phone), an operator, or risk control'),
    reason: z.string().max(200).default(''),
  })
  .meta({ example: { by: 'user', reason: 'phone lost' } });

const scanBody = z.strictObject({
  credential: z.string().min(1).max(300).describe('The QR payload the terminal read'),
  deviceSignature: z
    .string()
    .regex(/^[A-Za-z0-9_-]{86}$/)
    .describe("The device's Ed25519 signature over the scan, base64url"),
  terminalId: z.string().regex(TERMINAL_ID_PATTERN),
  nonce: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .describe("The terminal's challenge: 16 random bytes, lower-case hex"),
  scannedAt: z.iso
    .datetime({ offset: false, precision: 3 })
    .describe("The terminal's clock at the scan, UTC with milliseconds (signed as Unix milliseconds)"),
  fare: amountString,
  currency: currencyString,
});

export const transitScanBatchBody = z
  .strictObject({
    batchId: z.uuid().describe("The operator's own id for this batch: the same batch again gets the same answer"),
    operatorAccountId: accountIdString.describe("The transit operator's settlement account the fares are credited to"),
    scans: z.array(scanBody).min(1).max(MAX_SCANS_PER_BATCH).describe(`1 to ${MAX_SCANS_PER_BATCH} scans`),
  })
  .meta({
    example: {
      batchId: '3f0c8a52-6f1e-4c1d-9d5e-0a6b8f1e2c3d',
      operatorAccountId: '2015550123456789',
      scans: [
        {
          // The test vectors of docs/transit.md.
          credential:
            'AQENfGtuHX5MWY9xDhssPU5fgTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5RrDmJgaxec4ENOWQAAAAAAAAH0AAAAAAAAA-gmdS01YjBmMWYwZS0yZjZlLTRkN2EtOWE1NS0yYzFkOWU0YjdhMTAibxH2eZG4kXJmnHQRBn1kkvfGKkBDZa_J6y9nicy1dNV8CBCJCyTVxR_6EqViP-owiwCGPCSVVvv3EpVKKgMB',
          deviceSignature: 'Uc4vHuPUj8y63ksixRqZodSoHMY47JgPyjuZvKz4BTWmowakUi81U_wponQ8_IWkgHnkyoIHfgS1-u-iAKwzDg',
          terminalId: 'bus-42-front',
          nonce: '00112233445566778899aabbccddeeff',
          scannedAt: '2026-12-01T07:45:12.345Z',
          fare: '2.00',
          currency: 'CNY',
        },
      ],
    },
  });

export const transitScanBatchView = z
  .object({
    batchId: z.uuid(),
    operatorAccountId: accountIdString,
    accepted: z.int(),
    refused: z.int(),
    results: z.array(
      z.object({
        index: z.int(),
        scanId: z.uuid().nullable().describe('null when the credential could not be read'),
        status: z
          .enum(SCAN_RESULT_STATUSES)
          .describe('charged: accepted and paid; debt: accepted, booked, the payer owes it; refused: see code'),
        code: z
          .enum([...OFFLINE_REFUSALS, ...LEDGER_SCAN_REFUSALS])
          .nullable()
          .describe('Why a scan was refused (docs/transit.md); null for an accepted one'),
      }),
    ),
    position: positionString.optional(),
  })
  .meta({ id: 'TransitScanBatch' });

export const transitDebtView = z
  .object({
    userId: z.string(),
    outstanding: amountString.describe('Fares accepted and not yet charged'),
    currency: currencyString.nullable(),
    issuanceBlocked: z.boolean().describe('True while the debt refuses new credentials'),
    unpaid: z.array(
      z.object({
        scanId: z.uuid(),
        credentialId: z.uuid(),
        operatorAccountId: accountIdString,
        terminalId: z.string(),
        scannedAt: z.string(),
        fare: amountString,
        status: z.enum(['accepted', 'booked']),
      }),
    ),
    position: positionString.optional(),
  })
  .meta({ id: 'TransitDebt' });

export const transitScanView = z
  .object({
    scanId: z.uuid(),
    credentialId: z.uuid(),
    batchId: z.uuid(),
    operatorId: z.string(),
    operatorAccountId: accountIdString,
    walletAccountId: accountIdString,
    terminalId: z.string(),
    scannedAt: z.string(),
    fare: amountString,
    currency: currencyString,
    status: z.enum(['accepted', 'booked', 'charged']),
    position: positionString,
  })
  .meta({ id: 'TransitScan' });
export const transitScanPageView = listPageView(transitScanView).meta({ id: 'TransitScanPage' });
export const transitScanListQuery = z.strictObject({ ...listQueryFields, ...instantRangeFields });

export const transitKeysView = z
  .object({ keys: z.array(z.object({ keyId: z.int(), publicKey: z.string().describe('Raw Ed25519, base64url') })) })
  .meta({ id: 'TransitKeys' });

function credentialView(
  userId: string,
  credential: TransitCredentialRecord,
  nowMs: number,
  position?: bigint,
): z.output<typeof transitCredentialView> {
  return {
    credentialId: credential.credentialId,
    userId,
    walletAccountId: credential.walletAccountId,
    keyId: credential.keyId,
    devicePublicKey: credential.devicePublicKey,
    currency: credential.currency,
    fareCap: formatAmount(credential.fareCapMinor, credential.currency),
    debtLimit: formatAmount(credential.debtLimitMinor, credential.currency),
    issuedAt: credential.issuedAt,
    expiresAt: credential.expiresAt,
    status: credential.revoked ? 'revoked' : isLive(credential, nowMs) ? 'live' : 'expired',
    revoked: credential.revoked,
    payload: credential.payload,
    ...(position !== undefined && position >= 0n ? { position: position.toString() } : {}),
  };
}

function debtView(
  service: LedgerService,
  userId: string,
  state: TransitState,
  position: bigint,
): z.output<typeof transitDebtView> {
  const unpaid = [...state.scans.values()].filter((scan) => scan.stage !== 'charged');
  const currency = unpaid[0]?.fare.currency ?? null;
  return {
    userId,
    outstanding: currency ? formatAmount(state.outstandingMinor, currency) : '0',
    currency,
    issuanceBlocked: state.outstandingMinor > service.config.transit.issueDebtAllowanceMinor,
    unpaid: unpaid.map(({ fare, stage }) => ({
      scanId: fare.scanId,
      credentialId: fare.credentialId,
      operatorAccountId: fare.operatorAccountId,
      terminalId: fare.terminalId,
      scannedAt: fare.scannedAt,
      fare: formatAmount(fare.fareMinor, fare.currency),
      status: stage as 'accepted' | 'booked',
    })),
    ...(position >= 0n ? { position: position.toString() } : {}),
  };
}

/** The payer named in the path: an unknown entity, or one that is not a user, is 404 entity_not_found. */
async function requireUser(service: LedgerService, userId: string): Promise<void> {
  const entity = await service.entities.get(userId);
  if (!entity || entity.kind !== 'user')
    throw new DomainError('entity_not_found', `user ${userId} does not exist`, { entityId: userId });
}

/** Amounts are refused before anything runs, naming the scan. */
function parseScans(scans: z.output<typeof transitScanBatchBody>['scans']) {
  return scans.map((scan, index) => {
    try {
      return {
        credential: scan.credential,
        deviceSignature: scan.deviceSignature,
        terminalId: scan.terminalId,
        nonceHex: scan.nonce,
        scannedAt: scan.scannedAt,
        fare: parseAmount(scan.fare, parseCurrency(scan.currency)),
      };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw new DomainError(error.code, `scan ${index}: ${error.message}`, { ...error.details, scan: String(index) });
    }
  });
}

export function transitRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/transit/keys',
      {
        schema: {
          tags: ['transit'],
          summary: 'Platform transit keys',
          description: 'The public keys a terminal is provisioned with, by key id (current and retired).',
          response: { 200: transitKeysView },
        },
      },
      async () => ({
        keys: [...service.transitKeys.verificationKeys].map(([keyId, key]) => ({
          keyId,
          publicKey: rawPublicKeyOf(key),
        })),
      }),
    );

    app.post(
      '/v1/transit/users/:userId/credentials',
      {
        schema: {
          tags: ['transit'],
          summary: 'Issue a transit credential',
          description:
            "Operators (the platform's app back end): a credential for the payer's device key, with its limits, signed by the platform transit key. Refused while the payer owes fares beyond TRANSIT_ISSUE_DEBT_ALLOWANCE_MINOR.",
          headers: idempotencyHeaders,
          params: userParams,
          body: issueTransitCredentialBody,
          response: {
            201: transitCredentialView,
            ...problemResponses(
              ...MONEY_MOVEMENT_CODES,
              'entity_not_found',
              'invalid_public_key',
              'transit_debt_outstanding',
              'transit_credential_limit',
            ),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const { userId } = request.params;
        await requireUser(service, userId);
        const body = request.body;
        try {
          rawEd25519PublicKey(body.devicePublicKey);
        } catch {
          throw new DomainError('invalid_public_key', 'the device key is not a raw Ed25519 public key');
        }
        const currency = parseCurrency(body.currency);
        const issue = {
          userId,
          walletAccountId: body.walletAccountId,
          devicePublicKey: body.devicePublicKey,
          fareCap: parseAmount(body.fareCap, currency),
          debtLimit: parseAmount(body.debtLimit, currency),
        };
        await runCommand(request, reply, service, async (context) => {
          const { credential, position } = await service.transit.issueCredential(issue, context);
          return {
            statusCode: 201,
            body: credentialView(userId, credential, service.clock.now().toMillis(), position),
          };
        });
      },
    );

    app.get(
      '/v1/transit/users/:userId/credentials',
      {
        schema: {
          tags: ['transit'],
          summary: "A payer's transit credentials",
          description: "Operators: every credential on the payer's stream (expired and revoked ones for 31 days).",
          params: userParams,
          response: { 200: transitCredentialListView, ...problemResponses('forbidden', 'entity_not_found') },
        },
      },
      async (request) => {
        requireOperator(request);
        const { userId } = request.params;
        await requireUser(service, userId);
        const { state } = await service.transit.load(userId);
        const nowMs = service.clock.now().toMillis();
        return { items: [...state.credentials.values()].map((c) => credentialView(userId, c, nowMs)) };
      },
    );

    app.post(
      '/v1/transit/users/:userId/credentials/:credentialId/revoke',
      {
        schema: {
          tags: ['transit'],
          summary: 'Revoke a transit credential',
          description:
            'Operators: scans made at or after the revocation are refused when uploaded (terminals offline accept it until then: docs/transit.md).',
          headers: idempotencyHeaders,
          params: credentialParams,
          body: revokeTransitCredentialBody,
          response: {
            200: transitCredentialView,
            ...problemResponses('forbidden', 'entity_not_found', 'transit_credential_not_found'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const { userId, credentialId } = request.params;
        await requireUser(service, userId);
        const { by, reason } = request.body;
        await runCommand(request, reply, service, async (context) => {
          const { credential, position } = await service.transit.revokeCredential(
            userId,
            credentialId,
            by,
            reason,
            context,
          );
          return {
            statusCode: 200,
            body: credentialView(userId, credential, service.clock.now().toMillis(), position),
          };
        });
      },
    );

    app.get(
      '/v1/transit/users/:userId/debt',
      {
        schema: {
          tags: ['transit'],
          summary: "A payer's transit debt",
          description:
            "Operators: fares accepted and not yet charged, from the payer's stream (strongly consistent). The debt sweep charges them when the wallet can pay.",
          params: userParams,
          response: { 200: transitDebtView, ...problemResponses('forbidden', 'entity_not_found') },
        },
      },
      async (request) => {
        requireOperator(request);
        const { userId } = request.params;
        await requireUser(service, userId);
        const { state, position } = await service.transit.load(userId);
        return debtView(service, userId, state, position);
      },
    );

    app.get(
      '/v1/transit/users/:userId/scans',
      {
        schema: {
          tags: ['transit'],
          summary: "A payer's transit history",
          description:
            'Operators: every accepted scan by scan time, with its status (booked: unpaid; charged: paid). Pass `minPosition` to read your own writes.',
          params: userParams,
          querystring: transitScanListQuery,
          response: {
            200: transitScanPageView,
            ...problemResponses('forbidden', 'entity_not_found', 'invalid_query', 'cursor_mismatch'),
          },
        },
      },
      async (request) => {
        requireOperator(request);
        const { userId } = request.params;
        await requireUser(service, userId);
        const q = request.query;
        await awaitReadModel(service, TRANSIT_PROJECTION, q.minPosition);
        const paging = pageOf(q, 'userTimeKey', JSON.stringify([userId]));
        const page = await service.readModels.find<TransitScanDocument>(TRANSIT_SCANS_COLLECTION, {
          range: groupInstantRange('userTimeKey', userId, q.from, q.to),
          ...paging.find,
        });
        return {
          items: page.items.map(({ data: d, position }) => ({
            scanId: d.scanId,
            credentialId: d.credentialId,
            batchId: d.batchId,
            operatorId: d.operatorId,
            operatorAccountId: d.operatorAccountId,
            walletAccountId: d.walletAccountId,
            terminalId: d.terminalId,
            scannedAt: d.scannedAt,
            fare: formatAmount(BigInt(d.fareMinor), parseCurrency(d.currency)),
            currency: d.currency,
            status: d.status as 'accepted' | 'booked' | 'charged',
            position: position.toString(),
          })),
          nextCursor: paging.next(page.nextCursor),
        };
      },
    );

    app.post(
      '/v1/transit/scan-batches',
      {
        bodyLimit: 1024 * 1024,
        schema: {
          tags: ['transit'],
          summary: 'Upload a batch of transit scans',
          description: `A transit operator (a merchant) uploads up to ${MAX_SCANS_PER_BATCH} scans its terminals collected offline, crediting its own settlement account. Each scan is verified at its scan time (platform and device signatures, validity, cap), judged for age (TRANSIT_MAX_SCAN_AGE_SECONDS), duplicates, revocation and the payer's debt limit; an accepted fare is booked at once and charged when the wallet can pay. The answer gives each scan's result; a refused scan does not fail the request. The same batchId again gets the same answer.`,
          headers: idempotencyHeaders,
          body: transitScanBatchBody,
          response: {
            200: transitScanBatchView,
            ...problemResponses(...MONEY_MOVEMENT_CODES, 'transit_batch_conflict'),
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.kind !== 'merchant')
          throw new HttpProblem(403, 'forbidden', 'Forbidden', 'scan batches are uploaded by the transit operator');
        const body = request.body;
        const upload = {
          batchId: body.batchId,
          operatorId: principal.entityId,
          operatorAccountId: body.operatorAccountId,
          bodySha256: createHash('sha256').update(canonicalJson(body)).digest('hex'),
          scans: parseScans(body.scans),
        };
        await runCommand(request, reply, service, async (context) => {
          const { record, position } = await service.transit.uploadBatch(upload, context);
          const accepted = record.results.filter((result) => result.status !== 'refused').length;
          return {
            statusCode: 200,
            body: {
              batchId: record.batchId,
              operatorAccountId: record.operatorAccountId,
              accepted,
              refused: record.results.length - accepted,
              results: record.results.map((result, index) => ({
                index,
                ...result,
                code: result.code as LedgerScanRefusal | (typeof OFFLINE_REFUSALS)[number] | null,
              })),
              ...(position >= 0n ? { position: position.toString() } : {}),
            },
          };
        });
      },
    );
  };
}

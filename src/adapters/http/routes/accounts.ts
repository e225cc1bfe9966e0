import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isValidAccountNumber } from '../../../domain/accounts/account-number.js';
import { PLATFORM_OWNER_ID, requireFittingOwner } from '../../../domain/accounts/account-owner.js';
import { ACCOUNT_TYPE_NAMES } from '../../../domain/accounts/account-type.js';
import type { AccountFlags } from '../../../domain/accounts/account-flags.js';
import type { AccountState } from '../../../domain/accounts/account-state.js';
import { formatAmount, parseCurrency } from '../../../domain/money/money.js';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import type { StoredDocument } from '../../../ports/read-model-store.js';
import { BALANCES_COLLECTION, balancesProjection, type BalanceDocument } from '../../../projections/balances.js';
import type { LedgerService } from '../../ledger-service.js';
import {
  accountFlagsView,
  accountIdString,
  currencyString,
  idempotencyHeaders,
  positionString,
} from '../api-schemas.js';
import { accountNotFound, requireAccountOwner, requireOperator } from '../authorization.js';
import { runCommand } from '../idempotent-command.js';
import { awaitReadModel, minPositionParam } from '../read-model-queries.js';
import { problemResponses } from '../problem-responses.js';

export const openAccountBody = z
  .strictObject({
    ownerId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.:-]+$/)
      .describe(
        'Who owns the account: a registered user for a wallet, a registered merchant for a settlement account, "platform" for the platform\'s own kinds (channel_clearing, fee_income, suspense, platform)',
      ),
    type: z
      .enum(ACCOUNT_TYPE_NAMES)
      .describe('Account kind; decides the number prefix, default flags and subject code'),
    currency: currencyString,
    displayName: z.string().max(100).optional().describe('Name shown on statements'),
  })
  .meta({ example: { ownerId: 'u-1001', type: 'wallet', currency: 'CNY' } });

export const openedAccountView = z
  .object({
    accountId: accountIdString,
    type: z.enum(ACCOUNT_TYPE_NAMES),
    ownerId: z.string(),
    currency: currencyString,
    displayName: z.string(),
    status: z.enum(['active', 'frozen', 'closed']),
    subjectCode: z.string(),
    flags: accountFlagsView,
    position: positionString.describe('Position of the AccountOpened event: pass as minPosition to read it back'),
  })
  .meta({ id: 'OpenedAccount' });

export const accountView = z
  .object({
    accountId: accountIdString,
    type: z.string(),
    ownerId: z.string(),
    currency: currencyString,
    displayName: z.string(),
    status: z.string(),
    subjectCode: z.string(),
    balance: z.string().describe('available + frozen, major units'),
    available: z.string(),
    frozen: z.string(),
    balanceMinor: z.string().describe('Balance in minor units (exact integer as a string)'),
    flags: accountFlagsView.describe('What money may do on it; overdraftLimit in major units'),
    openedAt: z.string(),
    lastMovementAt: z.string().nullable(),
    position: positionString.describe('Global position of the last event applied to this view of the account'),
  })
  .meta({ id: 'Account' });

export const accountQuery = z.strictObject({ minPosition: minPositionParam });

export function flagsViewOf(flags: AccountFlags, currency: CurrencyCode): z.output<typeof accountFlagsView> {
  const { overdraftLimitMinor, ...switches } = flags;
  return { ...switches, overdraftLimit: formatAmount(overdraftLimitMinor, currency) };
}

function toOpenedView(state: AccountState, position: bigint): z.output<typeof openedAccountView> {
  if (!state.exists) throw new Error('account state after opening must exist');
  return {
    accountId: state.accountId,
    type: state.accountType,
    ownerId: state.ownerId,
    currency: state.currency,
    displayName: state.displayName,
    status: state.status,
    subjectCode: state.subjectCode,
    flags: flagsViewOf(state.flags, state.currency),
    position: position.toString(),
  };
}

export function toAccountView(stored: StoredDocument<BalanceDocument>): z.output<typeof accountView> {
  const doc = stored.data;
  const currency = doc.currency as CurrencyCode;
  const { overdraftLimitMinor, ...switches } = doc.flags;
  return {
    accountId: doc.accountId,
    type: doc.accountType,
    ownerId: doc.ownerId,
    currency: doc.currency,
    displayName: doc.displayName,
    status: doc.status,
    subjectCode: doc.subjectCode,
    balance: formatAmount(BigInt(doc.balanceMinor), currency),
    available: formatAmount(BigInt(doc.availableMinor), currency),
    frozen: formatAmount(BigInt(doc.frozenMinor), currency),
    balanceMinor: doc.balanceMinor,
    flags: { ...switches, overdraftLimit: formatAmount(BigInt(overdraftLimitMinor), currency) },
    openedAt: doc.openedAt,
    lastMovementAt: doc.lastMovementAt,
    position: stored.position.toString(),
  };
}

export function accountRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/accounts',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Open an account',
          description:
            'Opens a payment account of the given kind and currency under a new system-generated number, for an owner that exists and fits the kind (404 entity_not_found, 422 account_owner_unfit). Requires an Idempotency-Key: a retry opens no second account. Operators only.',
          headers: idempotencyHeaders,
          body: openAccountBody,
          response: {
            201: openedAccountView,
            ...problemResponses(
              'forbidden',
              'unknown_currency',
              'entity_not_found',
              'account_exists',
              'account_owner_unfit',
            ),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const currency = parseCurrency(request.body.currency);
        const { ownerId, type } = request.body;
        requireFittingOwner(
          type,
          ownerId,
          ownerId === PLATFORM_OWNER_ID ? undefined : await service.entities.get(ownerId),
        );
        await runCommand(request, reply, service, async (context) => {
          const opened = await service.commands.openAccount(
            {
              ownerId: request.body.ownerId,
              accountType: request.body.type,
              currency,
              displayName: request.body.displayName ?? '',
            },
            context,
          );
          return { statusCode: 201, body: toOpenedView(opened.state, opened.position) };
        });
      },
    );

    app.get(
      '/v1/accounts/:accountId',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Get an account and its balance',
          description:
            "Reads the balances read model. With `minPosition`, waits (bounded) until the read model has applied that position, so a client reads its own write; answers 503 with Retry-After if it has not in time. The account's owner or an operator.",
          params: z.object({ accountId: accountIdString }),
          querystring: accountQuery,
          response: { 200: accountView, ...problemResponses('forbidden', 'account_not_found') },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        await awaitReadModel(service, balancesProjection.name, request.query.minPosition);
        const doc = isValidAccountNumber(accountId)
          ? await service.readModels.get<BalanceDocument>(BALANCES_COLLECTION, accountId)
          : null;
        if (!doc) throw accountNotFound(accountId);
        requireAccountOwner(request, accountId, doc.data.ownerId);
        return toAccountView(doc);
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { isValidAccountNumber } from '../../../domain/accounts/account-number.js';
import { ACCOUNT_TYPE_NAMES } from '../../../domain/accounts/account-type.js';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { formatAmount } from '../../../domain/money/money.js';
import type { StoredDocument } from '../../../ports/read-model-store.js';
import { BALANCES_COLLECTION, balancesProjection, type BalanceDocument } from '../../../projections/balances.js';
import { compositeKey, utcInstantKey } from '../../../projections/read-model-keys.js';
import {
  STATEMENTS_PROJECTION,
  STATEMENT_LINES_COLLECTION,
  type StatementLineDocument,
} from '../../../projections/statements.js';
import type { LedgerService } from '../../ledger-service.js';
import { accountIdString, currencyString, positionString } from '../api-schemas.js';
import { accountNotFound, principalOf } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import {
  awaitReadModel,
  instantRange,
  listPageView,
  listQueryFields,
  minPositionParam,
  pageOf,
  whereOf,
} from '../read-model-queries.js';
import { accountView, toAccountView } from './accounts.js';

/**
 * Accounts to be found again (by owner, kind, currency, status), and an account's funds at a past
 * instant or at the end of an accounting day, from its statement lines (for auditors and disputes).
 */

export const accountPageView = listPageView(accountView).meta({ id: 'AccountPage' });

export const accountListQuery = z.strictObject({
  ...listQueryFields,
  ownerId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .optional()
    .describe("Operators: one owner's accounts (a merchant sees its own)"),
  type: z.enum(ACCOUNT_TYPE_NAMES).optional().describe('Account kind'),
  currency: currencyString.optional(),
  status: z.enum(['active', 'frozen', 'closed']).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('Opened at or after this instant'),
  to: z.iso.datetime({ offset: true }).optional().describe('Opened before this instant (exclusive)'),
});

export const balanceAsOfQuery = z.strictObject({
  at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'The funds after every movement that occurred before this instant (exclusive); not in the future (400 balance_instant_in_future)',
    ),
  accountingDate: z.iso
    .date()
    .optional()
    .describe(
      'The funds at the end of this accounting day (midnight in the accounting time zone); a closed day only (422 accounting_date_not_closed)',
    ),
  minPosition: minPositionParam,
});

export const balanceAsOfView = z
  .object({
    accountId: accountIdString,
    currency: currencyString,
    at: z.string().nullable().describe('The instant asked for (UTC), or null when asked by accounting date'),
    accountingDate: z.string().nullable(),
    openedAt: z.string().describe('When the account was opened (UTC)'),
    opened: z
      .boolean()
      .describe(
        'False when the account was opened after the instant (or day) asked for: it did not exist then, and the funds are zero',
      ),
    balance: z.string().describe('available + frozen, major units'),
    available: z.string(),
    frozen: z.string(),
    lastLine: z
      .object({ sequence: z.int(), position: positionString, occurredAt: z.string() })
      .nullable()
      .describe('The statement line these funds are after; null when none came before (all zero)'),
  })
  .meta({ id: 'BalanceAsOf' });

type BalanceDoc = BalanceDocument;
type LineDoc = StatementLineDocument;

export function accountQueryRoutes(service: LedgerService): FastifyPluginAsyncZod {
  /** The account if the caller may see it; another owner's answers exactly like an unknown one. */
  async function visibleAccount(
    request: Parameters<typeof principalOf>[0],
    accountId: string,
  ): Promise<StoredDocument<BalanceDoc>> {
    const doc = isValidAccountNumber(accountId)
      ? await service.readModels.get<BalanceDoc>(BALANCES_COLLECTION, accountId)
      : null;
    const principal = principalOf(request);
    if (!doc || (principal.kind !== 'operator' && doc.data.ownerId !== principal.entityId))
      throw accountNotFound(accountId);
    return doc;
  }

  return async (app) => {
    app.get(
      '/v1/accounts',
      {
        schema: {
          tags: ['accounts'],
          summary: 'List accounts',
          description:
            "Accounts by owner, kind, currency, status and opening instant, with balances, flags and status. A merchant sees its own; an operator all, or one owner's with `ownerId`. Newest first by default. Pass `minPosition` to read your own writes.",
          querystring: accountListQuery,
          response: { 200: accountPageView, ...problemResponses('invalid_query', 'cursor_mismatch') },
        },
      },
      async (request) => {
        const q = request.query;
        const principal = principalOf(request);
        const range = instantRange('openedAt', q.from, q.to);
        await awaitReadModel(service, balancesProjection.name, q.minPosition);
        if (principal.kind !== 'operator' && q.ownerId !== undefined && q.ownerId !== principal.entityId)
          return { items: [], nextCursor: null };
        const ownerId = principal.kind === 'operator' ? q.ownerId : principal.entityId;
        const paging = pageOf(q, 'openedAt', ownerId ?? '');
        const page = await service.readModels.find<BalanceDoc>(BALANCES_COLLECTION, {
          where: whereOf({ ownerId, accountType: q.type, currency: q.currency, status: q.status }),
          ...(range ? { range } : {}),
          ...paging.find,
        });
        return { items: page.items.map(toAccountView), nextCursor: paging.next(page.nextCursor) };
      },
    );

    app.get(
      '/v1/accounts/:accountId/balance',
      {
        schema: {
          tags: ['accounts'],
          summary: "An account's balance at a past instant or at the end of an accounting day",
          description:
            "Balance, available and frozen funds as they were after the last statement line before `at`, or at the end of `accountingDate`: give exactly one. Computed from the statement lines, so it agrees with the statement. Pass `minPosition` to include a recent write. The account's owner or an operator; another's account answers 404 like an unknown one.",
          params: z.object({ accountId: accountIdString }),
          querystring: balanceAsOfQuery,
          response: {
            200: balanceAsOfView,
            ...problemResponses(
              'invalid_query',
              'account_not_found',
              'balance_instant_in_future',
              'accounting_date_not_closed',
            ),
          },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        const { at, accountingDate, minPosition } = request.query;
        if ((at === undefined) === (accountingDate === undefined))
          throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'give exactly one of at and accountingDate');
        // The account comes from the balances, its funds from the statement: both must have the position.
        await awaitReadModel(service, balancesProjection.name, minPosition);
        await awaitReadModel(service, STATEMENTS_PROJECTION, minPosition);
        const account = await visibleAccount(request, accountId);
        // A balance "as of" an instant is final only once that instant has passed: a later movement could
        // still occur before a future instant, or on a day not yet over. Refused, not answered as if final.
        const now = service.clock.now().toUTC();
        const bound =
          at !== undefined
            ? DateTime.fromISO(at, { setZone: true }).toUTC()
            : DateTime.fromISO(accountingDate!, { zone: service.config.accountingTimeZone }).plus({ days: 1 }).toUTC();
        if (at !== undefined && bound > now)
          throw new HttpProblem(
            400,
            'balance_instant_in_future',
            'Instant in the future',
            `at ${at} has not happened yet: a balance as of it is not known; ask for the current account instead`,
          );
        if (accountingDate !== undefined && bound > now)
          throw new HttpProblem(
            422,
            'accounting_date_not_closed',
            'Accounting day not closed',
            `accounting day ${accountingDate} ends at ${bound.toISO()}: its end-of-day balance is not final yet`,
          );
        // The last line before the bound, over a key that orders an account's lines by time (or by day).
        const range =
          at !== undefined
            ? {
                field: 'accountTimeKey',
                gte: compositeKey(accountId, ''),
                lt: compositeKey(accountId, utcInstantKey(at)),
              }
            : {
                field: 'accountDateKey',
                gte: compositeKey(accountId, ''),
                lt: compositeKey(
                  accountId,
                  DateTime.fromISO(accountingDate!, { zone: 'utc' }).plus({ days: 1 }).toISODate()!,
                ),
              };
        const page = await service.readModels.find<LineDoc>(STATEMENT_LINES_COLLECTION, {
          range,
          orderBy: range.field,
          direction: 'desc',
          limit: 1,
        });
        const line = page.items[0]?.data;
        const currency = account.data.currency as CurrencyCode;
        const amount = (minor: string | undefined) => formatAmount(BigInt(minor ?? '0'), currency);
        return {
          accountId,
          currency,
          at: at === undefined ? null : utcInstantKey(at),
          accountingDate: accountingDate ?? null,
          openedAt: account.data.openedAt,
          opened: account.data.openedAt < utcInstantKey(bound.toISO()!),
          balance: amount(line?.balanceAfterMinor),
          available: amount(line?.availableAfterMinor),
          frozen: amount(line?.frozenAfterMinor),
          lastLine: line ? { sequence: line.sequence, position: line.position, occurredAt: line.occurredAt } : null,
        };
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  BOOK_ACCOUNT_TYPES,
  CHART_OF_ACCOUNTS,
  SUB_LEDGER_TYPES,
  bookAccount,
  normalSide,
  type BookAccount,
} from '../../../domain/books/chart-of-accounts.js';
import type { CurrencyCode } from '../../../domain/money/currency.js';
import { formatAmount, parseCurrency } from '../../../domain/money/money.js';
import { MAX_FIND_LIMIT } from '../../../ports/read-model-store.js';
import {
  BOOKS_PROJECTION,
  JOURNAL_ENTRIES_COLLECTION,
  LEDGER_BALANCES_COLLECTION,
  SUB_LEDGER_BALANCES_COLLECTION,
  TRIAL_BALANCES_COLLECTION,
  trialBalanceId,
  type JournalEntryDocument,
  type LedgerBalanceDocument,
  type SubLedgerBalanceDocument,
  type TrialBalanceDocument,
} from '../../../projections/books.js';
import { KEY_GROUP_END, compositeKey } from '../../../projections/read-model-keys.js';
import type { LedgerService } from '../../ledger-service.js';
import { amountString, currencyString, positionString } from '../api-schemas.js';
import { requireOperator } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';
import {
  awaitReadModel,
  boundCursor,
  cursorAfter,
  cursorString,
  minPositionParam,
  pageLimit,
} from '../read-model-queries.js';

/** Journal entries per page: the default, and the most a client may ask for. */
export const JOURNAL_PAGE_SIZE_DEFAULT = 100;
export const JOURNAL_PAGE_SIZE_MAX = 500;
/** Sub-ledger balances per page. */
export const SUB_LEDGER_PAGE_SIZE_DEFAULT = 100;
export const SUB_LEDGER_PAGE_SIZE_MAX = 500;

const side = z.enum(['debit', 'credit']);
/** Signed amounts (a balance may be on the other side of normal): a decimal string with an optional minus. */
const signedAmountString = z
  .string()
  .describe("Decimal amount in major units; negative when on the other side of the account's normal balance");

export const bookAccountView = z
  .object({
    code: z.string(),
    name: z.string(),
    type: z.enum(BOOK_ACCOUNT_TYPES),
    normalSide: side,
    subLedgers: z.array(z.enum(SUB_LEDGER_TYPES)),
    description: z.string(),
  })
  .meta({ id: 'BookAccount' });

const journalLineView = z.object({
  code: z.string(),
  name: z.string(),
  subLedger: z.object({ type: z.enum(SUB_LEDGER_TYPES), id: z.string() }),
  side,
  amount: amountString,
  currency: currencyString,
  rule: z.string().describe('The posting rule that produced the line (docs/books.md)'),
});

export const journalEntryView = z
  .object({
    entryId: z.uuid().describe('The id of the event that posted it'),
    eventType: z.string(),
    position: positionString,
    operationId: z.string(),
    occurredAt: z.string(),
    accountingDate: z.string(),
    lines: z.array(journalLineView),
  })
  .meta({ id: 'JournalEntry' });

export const journalView = z
  .object({ entries: z.array(journalEntryView), nextCursor: z.string().nullable() })
  .meta({ id: 'JournalPage' });

const movementsView = { debit: amountString, credit: amountString, balance: signedAmountString };

export const accountBalancesView = z
  .object({
    code: z.string(),
    name: z.string(),
    type: z.enum(BOOK_ACCOUNT_TYPES),
    normalSide: side,
    totals: z
      .array(z.object({ currency: currencyString, ...movementsView }))
      .describe('The account per currency; balance on its normal side'),
    subLedgers: z.array(
      z.object({ type: z.enum(SUB_LEDGER_TYPES), id: z.string(), currency: currencyString, ...movementsView }),
    ),
    nextCursor: z.string().nullable().describe('For the next page of sub-ledgers'),
  })
  .meta({ id: 'BookAccountBalances' });

export const trialBalanceView = z
  .object({
    accountingDate: z.string(),
    currency: currencyString,
    totalDebit: amountString,
    totalCredit: amountString,
    balanced: z.boolean().describe('totalDebit equals totalCredit: always true unless the books are broken'),
    entryCount: z.int(),
    accounts: z.array(
      z.object({
        code: z.string(),
        name: z.string(),
        type: z.enum(BOOK_ACCOUNT_TYPES),
        debit: amountString,
        credit: amountString,
      }),
    ),
  })
  .meta({ id: 'TrialBalance' });

export const chartOfAccountsView = z.object({ accounts: z.array(bookAccountView) });

export const bookBalancesQuery = z.strictObject({
  currency: currencyString.optional().describe('Only this currency'),
  limit: pageLimit(SUB_LEDGER_PAGE_SIZE_DEFAULT, SUB_LEDGER_PAGE_SIZE_MAX),
  cursor: cursorString.optional(),
  minPosition: minPositionParam,
});

export const trialBalanceQuery = z.strictObject({
  date: z.iso.date().describe('Accounting date'),
  currency: currencyString,
  minPosition: minPositionParam,
});

function toBookAccountView(account: BookAccount): z.output<typeof bookAccountView> {
  return {
    code: account.code,
    name: account.name,
    type: account.type,
    normalSide: normalSide(account.type),
    subLedgers: [...account.subLedgers],
    description: account.description,
  };
}

/** A code the books posted to: the posting rules only post codes of the chart, so a miss is a bug. */
function postedAccount(code: string): BookAccount {
  const account = bookAccount(code);
  if (!account) throw new Error(`the books hold code ${code}, which is not in the chart of accounts`);
  return account;
}

function major(amountMinor: string | bigint, currency: string): string {
  return formatAmount(BigInt(amountMinor), currency as CurrencyCode);
}

function toEntryView(entry: JournalEntryDocument): z.output<typeof journalEntryView> {
  return {
    entryId: entry.entryId,
    eventType: entry.eventType,
    position: entry.position,
    operationId: entry.operationId,
    occurredAt: entry.occurredAt,
    accountingDate: entry.accountingDate,
    lines: entry.lines.map((line) => ({
      code: line.code,
      name: postedAccount(line.code).name,
      subLedger: { type: line.subLedgerType, id: line.subLedgerId },
      side: line.side,
      amount: major(line.amountMinor, line.currency),
      currency: line.currency,
      rule: line.rule,
    })),
  };
}

/** Debit and credit totals, and the balance on the account's normal side. */
function movements(
  doc: { debitMinor: string; creditMinor: string; netDebitMinor: string; currency: string },
  account: BookAccount,
) {
  const net = BigInt(doc.netDebitMinor);
  return {
    debit: major(doc.debitMinor, doc.currency),
    credit: major(doc.creditMinor, doc.currency),
    balance: major(normalSide(account.type) === 'debit' ? net : -net, doc.currency),
  };
}

function requireBookAccount(code: string): BookAccount {
  const account = bookAccount(code);
  if (!account)
    throw new HttpProblem(
      404,
      'book_account_not_found',
      'Book account not found',
      `${code} is not in the chart of accounts`,
    );
  return account;
}

export const journalQuery = z.strictObject({
  date: z.iso.date().optional().describe('Entries of this accounting date, in log order'),
  operationId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('Entries of this operation (payment, refund, recharge, freeze...), in log order'),
  limit: pageLimit(JOURNAL_PAGE_SIZE_DEFAULT, JOURNAL_PAGE_SIZE_MAX),
  cursor: cursorString.optional(),
  minPosition: minPositionParam,
});

export function booksRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/books/chart-of-accounts',
      {
        schema: {
          tags: ['books'],
          summary: 'The chart of accounts',
          description:
            'Every book account of the internal books: code, name, type, normal side and the sub-ledgers its lines carry. Operators only.',
          response: { 200: chartOfAccountsView, ...problemResponses('forbidden') },
        },
      },
      async (request) => {
        requireOperator(request);
        return { accounts: CHART_OF_ACCOUNTS.map(toBookAccountView) };
      },
    );

    app.get(
      '/v1/books/journal',
      {
        schema: {
          tags: ['books'],
          summary: 'Journal entries by accounting date or by operation',
          description:
            'The double-entry journal: one balanced entry per money-moving event, by accounting date (`date`) or by operation (`operationId`), one of the two, in log order, a page at a time. Operators only.',
          querystring: journalQuery,
          response: { 200: journalView, ...problemResponses('forbidden', 'invalid_query', 'cursor_mismatch') },
        },
      },
      async (request) => {
        requireOperator(request);
        const { date, operationId, limit, minPosition } = request.query;
        if ((date === undefined) === (operationId === undefined)) {
          throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'give exactly one of date and operationId');
        }
        await awaitReadModel(service, BOOKS_PROJECTION, minPosition);
        const after = cursorAfter(request.query, 'journal');
        const page =
          date !== undefined
            ? await service.readModels.find<JournalEntryDocument>(JOURNAL_ENTRIES_COLLECTION, {
                range: { field: 'datePositionKey', gte: compositeKey(date, ''), lt: `${date}${KEY_GROUP_END}` },
                orderBy: 'datePositionKey',
                limit,
                ...after,
              })
            : await service.readModels.find<JournalEntryDocument>(JOURNAL_ENTRIES_COLLECTION, {
                where: { operationId: operationId! },
                orderBy: 'positionKey',
                limit,
                ...after,
              });
        return {
          entries: page.items.map((doc) => toEntryView(doc.data)),
          nextCursor: boundCursor(request.query, 'journal', page.nextCursor),
        };
      },
    );

    app.get(
      '/v1/books/accounts/:code/balances',
      {
        schema: {
          tags: ['books'],
          summary: 'General-ledger balances of a book account',
          description:
            'Debits, credits and balance of one book account per currency, and of its sub-ledgers (per ledger account, channel or operation), a page of sub-ledgers at a time. Operators only.',
          params: z.object({ code: z.string().regex(/^[0-9]{4}$/, 'a four-digit account code') }),
          querystring: bookBalancesQuery,
          response: {
            200: accountBalancesView,
            ...problemResponses('forbidden', 'unknown_currency', 'cursor_mismatch', 'book_account_not_found'),
          },
        },
      },
      async (request) => {
        requireOperator(request);
        const account = requireBookAccount(request.params.code);
        const { currency, limit, minPosition } = request.query;
        if (currency !== undefined) parseCurrency(currency);
        await awaitReadModel(service, BOOKS_PROJECTION, minPosition);
        const where = { code: account.code, ...(currency !== undefined ? { currency } : {}) };
        // One document per currency the account has moved in: far fewer than a page.
        const totals = await service.readModels.find<LedgerBalanceDocument>(LEDGER_BALANCES_COLLECTION, {
          where,
          limit: MAX_FIND_LIMIT,
        });
        const subLedgers = await service.readModels.find<SubLedgerBalanceDocument>(SUB_LEDGER_BALANCES_COLLECTION, {
          where,
          limit,
          ...cursorAfter(request.query, account.code),
        });
        return {
          ...toBookAccountView(account),
          totals: totals.items.map(({ data }) => ({ currency: data.currency, ...movements(data, account) })),
          subLedgers: subLedgers.items.map(({ data }) => ({
            type: data.subLedgerType,
            id: data.subLedgerId,
            currency: data.currency,
            ...movements(data, account),
          })),
          nextCursor: boundCursor(request.query, account.code, subLedgers.nextCursor),
        };
      },
    );

    app.get(
      '/v1/books/trial-balance',
      {
        schema: {
          tags: ['books'],
          summary: 'Trial balance of an accounting day',
          description:
            "The day's movements per book account in one currency, with total debits and total credits, which are equal. The day is cut at midnight in the accounting time zone. A day without entries has an empty, balanced trial balance. One row per book account moved, so it is never longer than the chart of accounts and needs no pages. Operators only.",
          querystring: trialBalanceQuery,
          response: { 200: trialBalanceView, ...problemResponses('forbidden', 'invalid_query', 'unknown_currency') },
        },
      },
      async (request) => {
        requireOperator(request);
        const { date, minPosition } = request.query;
        const currency = parseCurrency(request.query.currency);
        await awaitReadModel(service, BOOKS_PROJECTION, minPosition);
        const doc = (
          await service.readModels.get<TrialBalanceDocument>(TRIAL_BALANCES_COLLECTION, trialBalanceId(date, currency))
        )?.data;
        const totalDebitMinor = doc?.totalDebitMinor ?? '0';
        const totalCreditMinor = doc?.totalCreditMinor ?? '0';
        return {
          accountingDate: date,
          currency,
          totalDebit: major(totalDebitMinor, currency),
          totalCredit: major(totalCreditMinor, currency),
          balanced: totalDebitMinor === totalCreditMinor,
          entryCount: doc?.entryCount ?? 0,
          accounts: (doc?.accounts ?? []).map((row) => ({
            code: row.code,
            name: postedAccount(row.code).name,
            type: postedAccount(row.code).type,
            debit: major(row.debitMinor, currency),
            credit: major(row.creditMinor, currency),
          })),
        };
      },
    );
  };
}

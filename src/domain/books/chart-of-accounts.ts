/**
 * The chart of accounts of the internal (double-entry) books, held as data: the posting rules, the books
 * projection, the query API and docs/books.md all read it from here. Codes follow the Chinese enterprise
 * chart the account types already use (1122 receivables, 2202 payables, 2241 other payables, 6001 revenue).
 *
 * Every internal ledger account rolls its funds up to its subject code (ACCOUNT_TYPES), one sub-ledger
 * per ledger account. An internal account's balance is what the platform holds on it, so in the books it
 * is always a credit-side amount on its subject code, whatever that code's type: the internal accounts
 * under asset codes (channel clearing 1122, platform 1002) carry the mirror of the asset, and an overdrawn
 * channel clearing account (the channel owes us) is a debit balance on 1122, as a receivable should be.
 */
export const BOOK_ACCOUNT_TYPES = ['asset', 'liability', 'equity', 'income', 'expense'] as const;
export type BookAccountType = (typeof BOOK_ACCOUNT_TYPES)[number];
export type Side = 'debit' | 'credit';

/** What a sub-ledger of a book account is kept per: a ledger account, a payment channel, an operation. */
export const SUB_LEDGER_TYPES = ['account', 'channel', 'operation'] as const;
export type SubLedgerType = (typeof SUB_LEDGER_TYPES)[number];

export interface BookAccount {
  readonly code: string;
  readonly name: string;
  readonly type: BookAccountType;
  /** Which sub-ledgers its lines carry, in the posting rules. */
  readonly subLedgers: readonly SubLedgerType[];
  readonly description: string;
}

export const CHART_OF_ACCOUNTS: readonly BookAccount[] = [
  {
    code: '1002',
    name: 'Platform cash',
    type: 'asset',
    subLedgers: ['account'],
    description:
      "The platform's own money. Internal platform accounts roll up here, as credits: an internal account's balance is what the platform holds on it.",
  },
  {
    code: '1122',
    name: 'Channel receivables and clearing',
    type: 'asset',
    subLedgers: ['channel', 'account', 'operation'],
    description:
      'What each payment channel holds for us: recharges in, withdrawals out, channel fees off. Sub-ledger per channel; internal channel clearing accounts per account; withdrawal fees per withdrawal (WithdrawalCompleted names no channel).',
  },
  {
    code: '1123',
    name: 'Transit fares receivable',
    type: 'asset',
    subLedgers: ['operation'],
    description:
      "Transit fares the platform paid operators and payers still owe, per scan: debited when a scan is accepted (the operator credited), credited when the payer's wallet is charged. A non-zero scan is a payer's unpaid fare.",
  },
  {
    code: '2201',
    name: 'Customer wallet liabilities',
    type: 'liability',
    subLedgers: ['account'],
    description: 'Available funds we owe wallet holders, per wallet.',
  },
  {
    code: '2202',
    name: 'Merchant payables',
    type: 'liability',
    subLedgers: ['account'],
    description: 'Available funds we owe merchants on their settlement accounts, per account.',
  },
  {
    code: '2203',
    name: 'Frozen funds',
    type: 'liability',
    subLedgers: ['account'],
    description:
      'The frozen part of what we owe an account holder under freezes ("freeze first, deduct later"), per account. Freezing moves a liability from the subject code here; releasing moves it back.',
  },
  {
    code: '2204',
    name: 'Authorisation holds',
    type: 'liability',
    subLedgers: ['account'],
    description:
      'The part of what we owe an account holder held by pre-authorisations, per account, until captured, cancelled or expired.',
  },
  {
    code: '2241',
    name: 'Suspense',
    type: 'liability',
    subLedgers: ['account', 'operation'],
    description:
      'Money whose owner is not yet known, per suspense account; and the amount differences of reconciliation breaks an operator settled (per break), until their owner is found.',
  },
  {
    code: '2290',
    name: 'Payments in transit',
    type: 'liability',
    subLedgers: ['operation'],
    description:
      'Clearing between the legs of one operation (payment, refund, transfer, deduction, capture), per operation: each account event posts on its own, and a finished operation nets to zero here.',
  },
  {
    code: '4001',
    name: "Owner's equity",
    type: 'equity',
    subLedgers: [],
    description: "The platform's capital. No event posts to it: capital is paid in outside the ledger.",
  },
  {
    code: '6001',
    name: 'Fee income',
    type: 'income',
    subLedgers: ['account'],
    description: "The platform's fee income, per internal fee income account.",
  },
  {
    code: '6603',
    name: 'Channel fee expense',
    type: 'expense',
    subLedgers: ['channel', 'operation'],
    description: 'What payment channels charge us: per channel for recharges, per withdrawal for payouts.',
  },
  {
    code: '6604',
    name: 'Channel fee variance',
    type: 'expense',
    subLedgers: ['channel'],
    description:
      "Where a channel's statement charged another fee than we booked and an operator took the channel's word: more is a debit, less a credit, per channel.",
  },
];

const BY_CODE: ReadonlyMap<string, BookAccount> = new Map(CHART_OF_ACCOUNTS.map((account) => [account.code, account]));

export function bookAccount(code: string): BookAccount | undefined {
  return BY_CODE.get(code);
}

export function isBookCode(code: string): boolean {
  return BY_CODE.has(code);
}

/** Assets and expenses grow on the debit side; liabilities, equity and income on the credit side. */
export function normalSide(type: BookAccountType): Side {
  return type === 'asset' || type === 'expense' ? 'debit' : 'credit';
}

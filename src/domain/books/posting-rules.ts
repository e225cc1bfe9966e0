import { FUNDS_MOVEMENT_EVENT_TYPES, MOVEMENT_KINDS, type MovementKind } from '../accounts/account-events.js';
import type { LedgerEvent } from '../event-catalogue.js';
import type { CurrencyCode } from '../money/currency.js';
import { bookAccount, type Side, type SubLedgerType } from './chart-of-accounts.js';
import { partsOfBreakId } from '../reconciliation/break-id.js';
import { assertBalanced, type JournalLine } from './journal.js';

/**
 * Posting rules: which journal lines each money-moving event posts, as a table. The table is the rule:
 * `journalLinesFor` only reads the facts of an event and applies every row that matches, so the rows
 * rendered in docs/books.md are exactly what the books do.
 *
 * Each row is one debit and one credit of the same amount, so every row, and so every entry, balances.
 * Movements between internal accounts post against 2290 (payments in transit) per operation: each account
 * event posts on its own, in its own entry, and an operation whose legs have all happened nets to zero.
 */
export const POSTING_EVENT_TYPES = [
  ...FUNDS_MOVEMENT_EVENT_TYPES,
  'WithdrawalCompleted',
  'ChannelPaymentCompleted',
  'ChannelRefundSucceeded',
  'BreakResolved',
] as const;
export type PostingEventType = (typeof POSTING_EVENT_TYPES)[number];

/** Money that leaves for, or comes back from, outside the ledger through a channel. */
export const CHANNEL_MOVEMENT_KINDS: readonly MovementKind[] = ['withdrawal', 'withdrawal_reversal'];
/** A payer's money paid in through a channel to a merchant (a channel payment's payee credit). */
export const CHANNEL_PAYMENT_KINDS: readonly MovementKind[] = ['channel_payment'];
/** A transit fare booked for the operator, and the payer's charge that settles it (against 1123). */
export const TRANSIT_FARE_KINDS: readonly MovementKind[] = ['transit_fare'];
export const TRANSIT_CHARGE_KINDS: readonly MovementKind[] = ['transit_charge'];
/** Money that moves between internal accounts (its other leg is another account's event). */
export const INTERNAL_MOVEMENT_KINDS: readonly MovementKind[] = MOVEMENT_KINDS.filter(
  (kind) =>
    !CHANNEL_MOVEMENT_KINDS.includes(kind) &&
    !CHANNEL_PAYMENT_KINDS.includes(kind) &&
    !TRANSIT_FARE_KINDS.includes(kind) &&
    !TRANSIT_CHARGE_KINDS.includes(kind),
);

/** `subject`: the subject code of the event's ledger account (2201 for a wallet, 2202 for a merchant...). */
export type BookRef = string;
export const SUBJECT = 'subject';

export interface Leg {
  readonly book: BookRef;
  readonly subLedger: SubLedgerType;
}

export interface PostingRule {
  readonly id: string;
  readonly event: PostingEventType;
  /** Movement kinds (or freeze purposes) the row applies to; absent: every event of the type. */
  readonly kinds?: readonly string[];
  /** Which amount of the event the row posts; a row whose amount is zero posts nothing. */
  readonly amount: 'amount' | 'fee';
  readonly debit: Leg;
  readonly credit: Leg;
  readonly meaning: string;
}

const leg = (book: BookRef, subLedger: SubLedgerType): Leg => ({ book, subLedger });

export const POSTING_RULES: readonly PostingRule[] = [
  {
    id: 'recharge',
    event: 'FundsRecharged',
    amount: 'amount',
    debit: leg('1122', 'channel'),
    credit: leg(SUBJECT, 'account'),
    meaning: 'A card paid in through the channel: the channel holds the money for us, we owe it to the account holder.',
  },
  {
    id: 'recharge-fee',
    event: 'FundsRecharged',
    amount: 'fee',
    debit: leg('6603', 'channel'),
    credit: leg('1122', 'channel'),
    meaning: 'The channel keeps its fee out of what it holds for us.',
  },
  {
    id: 'debit-internal',
    event: 'FundsDebited',
    kinds: INTERNAL_MOVEMENT_KINDS,
    amount: 'amount',
    debit: leg(SUBJECT, 'account'),
    credit: leg('2290', 'operation'),
    meaning: 'Money leaves an account for another internal account: in transit until the other leg.',
  },
  {
    id: 'debit-channel',
    event: 'FundsDebited',
    kinds: CHANNEL_MOVEMENT_KINDS,
    amount: 'amount',
    debit: leg(SUBJECT, 'account'),
    credit: leg('1122', 'channel'),
    meaning: 'A payout: money leaves the account for a card, out of what the channel holds for us.',
  },
  {
    id: 'credit-internal',
    event: 'FundsCredited',
    kinds: INTERNAL_MOVEMENT_KINDS,
    amount: 'amount',
    debit: leg('2290', 'operation'),
    credit: leg(SUBJECT, 'account'),
    meaning: 'Money in transit arrives on an account (payee, refunded payer, reversal).',
  },
  {
    id: 'credit-channel',
    event: 'FundsCredited',
    kinds: CHANNEL_MOVEMENT_KINDS,
    amount: 'amount',
    debit: leg('1122', 'channel'),
    credit: leg(SUBJECT, 'account'),
    meaning: 'A declined payout comes back: the channel holds the money again, we owe it to the account holder again.',
  },
  {
    id: 'channel-payment',
    event: 'FundsCredited',
    kinds: CHANNEL_PAYMENT_KINDS,
    amount: 'amount',
    debit: leg('1122', 'channel'),
    credit: leg(SUBJECT, 'account'),
    meaning:
      'A payer paid a merchant through the channel: the channel holds the gross for us, we owe it to the merchant.',
  },
  {
    id: 'channel-payment-return',
    event: 'FundsDebited',
    kinds: CHANNEL_PAYMENT_KINDS,
    amount: 'amount',
    debit: leg(SUBJECT, 'account'),
    credit: leg('1122', 'channel'),
    meaning:
      "A channel payment's money goes back to the payer through the channel, out of what the channel holds for us.",
  },
  {
    id: 'transit-fare',
    event: 'FundsCredited',
    kinds: TRANSIT_FARE_KINDS,
    amount: 'amount',
    debit: leg('1123', 'operation'),
    credit: leg(SUBJECT, 'account'),
    meaning:
      "A transit operator's accepted scan: we owe the fare to the operator at once, and the payer owes it to us until charged.",
  },
  {
    id: 'transit-charge',
    event: 'FundsDebited',
    kinds: TRANSIT_CHARGE_KINDS,
    amount: 'amount',
    debit: leg(SUBJECT, 'account'),
    credit: leg('1123', 'operation'),
    meaning: "The payer's wallet pays a transit fare: the receivable is settled.",
  },
  // The ledger records neither movement below today (no route reverses a fare or a charge); the rows
  // keep every movement kind posting on both sides, as the books must never skip money.
  {
    id: 'transit-fare-return',
    event: 'FundsDebited',
    kinds: TRANSIT_FARE_KINDS,
    amount: 'amount',
    debit: leg(SUBJECT, 'account'),
    credit: leg('1123', 'operation'),
    meaning: 'A transit fare taken back from the operator: the receivable it stood against goes with it.',
  },
  {
    id: 'transit-charge-return',
    event: 'FundsCredited',
    kinds: TRANSIT_CHARGE_KINDS,
    amount: 'amount',
    debit: leg('1123', 'operation'),
    credit: leg(SUBJECT, 'account'),
    meaning: 'A transit charge given back to the payer: the fare is owed again.',
  },
  {
    id: 'freeze',
    event: 'FundsFrozen',
    kinds: ['freeze'],
    amount: 'amount',
    debit: leg(SUBJECT, 'account'),
    credit: leg('2203', 'account'),
    meaning: 'Available funds are frozen: the same liability, moved to the frozen sub-account.',
  },
  {
    id: 'preauth-hold',
    event: 'FundsFrozen',
    kinds: ['preauth_hold'],
    amount: 'amount',
    debit: leg(SUBJECT, 'account'),
    credit: leg('2204', 'account'),
    meaning: 'A pre-authorisation holds funds: the same liability, moved to the authorisation-holds sub-account.',
  },
  {
    id: 'release',
    event: 'FrozenFundsReleased',
    kinds: ['freeze'],
    amount: 'amount',
    debit: leg('2203', 'account'),
    credit: leg(SUBJECT, 'account'),
    meaning: 'Frozen funds become available again.',
  },
  {
    id: 'release-hold',
    event: 'FrozenFundsReleased',
    kinds: ['preauth_hold'],
    amount: 'amount',
    debit: leg('2204', 'account'),
    credit: leg(SUBJECT, 'account'),
    meaning: 'A pre-authorisation hold ends (cancelled, expired, or the rest after a capture): available again.',
  },
  {
    id: 'deduct-frozen',
    event: 'FrozenFundsDeducted',
    kinds: ['freeze_deduction'],
    amount: 'amount',
    debit: leg('2203', 'account'),
    credit: leg('2290', 'operation'),
    meaning: 'Frozen funds leave for the payee (deduction): in transit until the payee is credited.',
  },
  {
    id: 'capture-hold',
    event: 'FrozenFundsDeducted',
    kinds: ['preauth_capture'],
    amount: 'amount',
    debit: leg('2204', 'account'),
    credit: leg('2290', 'operation'),
    meaning: 'A pre-authorisation is captured out of its hold: in transit until the payee is credited.',
  },
  {
    id: 'withdrawal-fee',
    event: 'WithdrawalCompleted',
    amount: 'fee',
    debit: leg('6603', 'channel'),
    credit: leg('1122', 'channel'),
    meaning: 'The channel charges for the payout out of what it holds for us.',
  },
  {
    id: 'channel-payment-fee',
    event: 'ChannelPaymentCompleted',
    amount: 'fee',
    debit: leg('6603', 'channel'),
    credit: leg('1122', 'channel'),
    meaning:
      "The channel keeps its fee for a channel payment out of what it holds for us (the merchant's credit is gross).",
  },
  {
    id: 'channel-cancellation-fee',
    event: 'ChannelRefundSucceeded',
    amount: 'fee',
    debit: leg('1122', 'channel'),
    credit: leg('6603', 'channel'),
    meaning:
      "A channel payment voided the same day: the channel gives its fee back with the charge (the merchant's debit returns the gross).",
  },
  // A reconciliation break an operator settled (break-postings.ts): what the channel holds for us is
  // made what its statement says, the difference to suspense (per break) or to fee variance (per channel).
  {
    id: 'reconciliation-surplus',
    event: 'BreakResolved',
    kinds: ['2241:surplus'],
    amount: 'amount',
    debit: leg('1122', 'channel'),
    credit: leg('2241', 'operation'),
    meaning:
      'The channel holds more for us than we booked for the order: the difference waits in suspense for its owner.',
  },
  {
    id: 'reconciliation-shortfall',
    event: 'BreakResolved',
    kinds: ['2241:shortfall'],
    amount: 'amount',
    debit: leg('2241', 'operation'),
    credit: leg('1122', 'channel'),
    meaning:
      'The channel holds less for us than we booked for the order: the difference is owed to suspense until recovered.',
  },
  {
    id: 'reconciliation-fee-over',
    event: 'BreakResolved',
    kinds: ['6604:shortfall'],
    amount: 'amount',
    debit: leg('6604', 'channel'),
    credit: leg('1122', 'channel'),
    meaning: 'The channel kept a larger fee than we booked, and its word is taken: the extra is fee variance.',
  },
  {
    id: 'reconciliation-fee-under',
    event: 'BreakResolved',
    kinds: ['6604:surplus'],
    amount: 'amount',
    debit: leg('1122', 'channel'),
    credit: leg('6604', 'channel'),
    meaning: 'The channel kept a smaller fee (or gave more back) than we booked, and its word is taken.',
  },
];

/** What the rules need to know of an event, whatever its type. */
interface PostingFacts {
  readonly subjectCode: string | null;
  readonly accountId: string | null;
  readonly channel: string | null;
  readonly operationId: string;
  readonly kind: string | null;
  readonly amountMinor: bigint;
  readonly feeMinor: bigint;
  readonly currency: CurrencyCode;
}

export function isPostingEventType(type: string): type is PostingEventType {
  return (POSTING_EVENT_TYPES as readonly string[]).includes(type);
}

function factsOf(event: LedgerEvent): PostingFacts | null {
  switch (event.type) {
    case 'FundsRecharged': {
      const d = event.data;
      return {
        subjectCode: d.subjectCode,
        accountId: d.accountId,
        channel: d.channel,
        operationId: d.rechargeId,
        kind: null,
        amountMinor: d.amountMinor,
        feeMinor: d.channelFeeMinor,
        currency: d.currency,
      };
    }
    case 'FundsDebited':
    case 'FundsCredited': {
      const d = event.data;
      return {
        subjectCode: d.subjectCode,
        accountId: d.accountId,
        channel: d.counterparty.channel,
        operationId: d.operationId,
        kind: d.kind,
        amountMinor: d.amountMinor,
        feeMinor: 0n,
        currency: d.currency,
      };
    }
    case 'FundsFrozen': {
      const d = event.data;
      return {
        subjectCode: d.subjectCode,
        accountId: d.accountId,
        channel: null,
        operationId: d.freezeId,
        kind: d.purpose,
        amountMinor: d.amountMinor,
        feeMinor: 0n,
        currency: d.currency,
      };
    }
    case 'FrozenFundsReleased': {
      const d = event.data;
      return {
        subjectCode: d.subjectCode,
        accountId: d.accountId,
        channel: null,
        operationId: d.freezeId,
        kind: d.purpose,
        amountMinor: d.amountMinor,
        feeMinor: 0n,
        currency: d.currency,
      };
    }
    case 'FrozenFundsDeducted': {
      const d = event.data;
      return {
        subjectCode: d.subjectCode,
        accountId: d.accountId,
        channel: null,
        operationId: d.operationId,
        kind: d.kind,
        amountMinor: d.amountMinor,
        feeMinor: 0n,
        currency: d.currency,
      };
    }
    case 'WithdrawalCompleted': {
      const d = event.data;
      return {
        subjectCode: null,
        accountId: null,
        channel: d.channel,
        operationId: d.withdrawalId,
        kind: null,
        amountMinor: 0n,
        feeMinor: d.channelFeeMinor,
        currency: d.currency,
      };
    }
    case 'ChannelPaymentCompleted': {
      const d = event.data;
      return {
        subjectCode: null,
        accountId: null,
        channel: d.channel,
        operationId: d.paymentId,
        kind: null,
        amountMinor: 0n,
        feeMinor: d.channelFeeMinor,
        currency: d.currency,
      };
    }
    case 'ChannelRefundSucceeded': {
      const d = event.data;
      return {
        subjectCode: null,
        accountId: null,
        channel: d.channel,
        operationId: d.refundId,
        kind: null,
        amountMinor: 0n,
        feeMinor: d.feeReturnedMinor,
        currency: d.currency,
      };
    }
    case 'BreakResolved': {
      const d = event.data;
      // Marked paid or refunded, or nothing to book: the flow (or nothing) posted the money.
      if (d.posted === null) return null;
      const direction = d.posted.amountMinor > 0n ? 'surplus' : 'shortfall';
      return {
        subjectCode: null,
        accountId: null,
        channel: partsOfBreakId(d.breakId).channel,
        operationId: d.breakId,
        kind: `${d.posted.account}:${direction}`,
        amountMinor: d.posted.amountMinor < 0n ? -d.posted.amountMinor : d.posted.amountMinor,
        feeMinor: 0n,
        currency: d.posted.currency,
      };
    }
    default:
      return null;
  }
}

export function rulesFor(eventType: PostingEventType, kind: string | null): PostingRule[] {
  return POSTING_RULES.filter(
    (rule) => rule.event === eventType && (rule.kinds === undefined || (kind !== null && rule.kinds.includes(kind))),
  );
}

/** The operation an event's entry belongs to (a recharge, payment, freeze...). */
export function operationIdOf(event: LedgerEvent): string | null {
  return factsOf(event)?.operationId ?? null;
}

/**
 * The journal lines an event posts: null for an event that moves no money, [] for one whose amounts are
 * all zero (a fee-free withdrawal). Throws for a money-moving event no row covers, or one missing what a
 * row needs (an unknown subject code, a payout without a channel): the books must never silently skip
 * money, so such an event stops the projection until the rules are fixed.
 */
export function journalLinesFor(event: LedgerEvent): JournalLine[] | null {
  const facts = factsOf(event);
  if (facts === null) return null;
  const type = event.type as PostingEventType;
  const rules = rulesFor(type, facts.kind);
  if (rules.length === 0) throw new Error(`posting rules: no rule posts ${type} of kind ${facts.kind ?? '(none)'}`);
  const lines: JournalLine[] = [];
  for (const rule of rules) {
    const amountMinor = rule.amount === 'amount' ? facts.amountMinor : facts.feeMinor;
    if (amountMinor === 0n) continue;
    lines.push(
      lineOf(rule, rule.debit, 'debit', amountMinor, facts),
      lineOf(rule, rule.credit, 'credit', amountMinor, facts),
    );
  }
  assertBalanced(lines);
  return lines;
}

function lineOf(rule: PostingRule, target: Leg, side: Side, amountMinor: bigint, facts: PostingFacts): JournalLine {
  const code = target.book === SUBJECT ? facts.subjectCode : target.book;
  if (code === null || !bookAccount(code)) {
    throw new Error(
      `posting rule ${rule.id}: ${code === null ? 'the event names no subject code' : `subject code ${code} is not in the chart of accounts`}`,
    );
  }
  const subLedgerId =
    target.subLedger === 'account'
      ? facts.accountId
      : target.subLedger === 'channel'
        ? facts.channel
        : facts.operationId;
  if (subLedgerId === null)
    throw new Error(
      `posting rule ${rule.id}: the ${rule.event} event names no ${target.subLedger} for the ${code} line`,
    );
  return {
    rule: rule.id,
    code,
    subLedger: { type: target.subLedger, id: subLedgerId },
    side,
    amountMinor,
    currency: facts.currency,
  };
}

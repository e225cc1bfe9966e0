import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MOVEMENT_KINDS,
  type CounterpartySnapshot,
  type MovementKind,
} from '../../src/domain/accounts/account-events.js';
import { ACCOUNT_TYPES } from '../../src/domain/accounts/account-type.js';
import { CHART_OF_ACCOUNTS, bookAccount } from '../../src/domain/books/chart-of-accounts.js';
import { assertBalanced, totalsByCurrency, type JournalLine } from '../../src/domain/books/journal.js';
import {
  POSTING_EVENT_TYPES,
  POSTING_RULES,
  SUBJECT,
  journalLinesFor,
  rulesFor,
} from '../../src/domain/books/posting-rules.js';
import type { LedgerEvent } from '../../src/domain/event-catalogue.js';
import { parseCurrency } from '../../src/domain/money/money.js';

const CNY = parseCurrency('CNY');
const WALLET = '1015550123456782';
const MERCHANT = '2014440123456787';
const OPERATION = '0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3';
const FREEZE = '0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c4';
const NOBODY: CounterpartySnapshot = { accountId: null, ownerId: null, name: null, channel: null };

/** A line as the tables in docs/books.md read: side, code, sub-ledger, amount. */
function brief(lines: readonly JournalLine[] | null): string[] | null {
  return lines === null
    ? null
    : lines.map(
        (l) => `${l.side === 'debit' ? 'Dr' : 'Cr'} ${l.code} ${l.subLedger.type}:${l.subLedger.id} ${l.amountMinor}`,
      );
}

function movement(
  type: 'FundsDebited' | 'FundsCredited',
  kind: MovementKind,
  overrides: { accountId?: string; subjectCode?: string; channel?: string | null } = {},
): LedgerEvent {
  return {
    type,
    data: {
      accountId: overrides.accountId ?? WALLET,
      subjectCode: overrides.subjectCode ?? '2201',
      amountMinor: 1_250n,
      currency: CNY,
      kind,
      operationId: OPERATION,
      merchantOrderNo: null,
      counterparty: { ...NOBODY, channel: overrides.channel ?? null },
      memo: '',
    },
  };
}

describe('posting rules: given an event, then these lines', () => {
  it('posts a recharge against the channel, and its fee as channel fee expense', () => {
    const event: LedgerEvent = {
      type: 'FundsRecharged',
      data: {
        rechargeId: OPERATION,
        accountId: WALLET,
        subjectCode: '2201',
        amountMinor: 10_000n,
        currency: CNY,
        channel: 'sim-bank',
        channelOrderNo: 'SIM1',
        channelFeeMinor: 60n,
      },
    };
    expect(brief(journalLinesFor(event))).toEqual([
      'Dr 1122 channel:sim-bank 10000',
      'Cr 2201 account:1015550123456782 10000',
      'Dr 6603 channel:sim-bank 60',
      'Cr 1122 channel:sim-bank 60',
    ]);
    expect(brief(journalLinesFor({ ...event, data: { ...event.data, channelFeeMinor: 0n } }))).toEqual([
      'Dr 1122 channel:sim-bank 10000',
      'Cr 2201 account:1015550123456782 10000',
    ]);
  });

  it('credits a recharged account on its own subject code', () => {
    const event: LedgerEvent = {
      type: 'FundsRecharged',
      data: {
        rechargeId: OPERATION,
        accountId: MERCHANT,
        subjectCode: '2202',
        amountMinor: 500n,
        currency: CNY,
        channel: 'sim-bank',
        channelOrderNo: 'SIM2',
        channelFeeMinor: 0n,
      },
    };
    expect(brief(journalLinesFor(event))).toEqual([
      'Dr 1122 channel:sim-bank 500',
      'Cr 2202 account:2014440123456787 500',
    ]);
  });

  it('posts each leg of an internal movement against payments in transit, per operation', () => {
    expect(brief(journalLinesFor(movement('FundsDebited', 'payment')))).toEqual([
      'Dr 2201 account:1015550123456782 1250',
      `Cr 2290 operation:${OPERATION} 1250`,
    ]);
    expect(
      brief(journalLinesFor(movement('FundsCredited', 'payment', { accountId: MERCHANT, subjectCode: '2202' }))),
    ).toEqual([`Dr 2290 operation:${OPERATION} 1250`, 'Cr 2202 account:2014440123456787 1250']);
    expect(
      brief(journalLinesFor(movement('FundsDebited', 'refund', { accountId: MERCHANT, subjectCode: '2202' }))),
    ).toEqual(['Dr 2202 account:2014440123456787 1250', `Cr 2290 operation:${OPERATION} 1250`]);
  });

  it('posts a payout and its reversal against the channel named as counterparty', () => {
    expect(brief(journalLinesFor(movement('FundsDebited', 'withdrawal', { channel: 'sim-bank' })))).toEqual([
      'Dr 2201 account:1015550123456782 1250',
      'Cr 1122 channel:sim-bank 1250',
    ]);
    expect(brief(journalLinesFor(movement('FundsCredited', 'withdrawal_reversal', { channel: 'sim-bank' })))).toEqual([
      'Dr 1122 channel:sim-bank 1250',
      'Cr 2201 account:1015550123456782 1250',
    ]);
    expect(() => journalLinesFor(movement('FundsDebited', 'withdrawal', { channel: null }))).toThrow(
      /names no channel/,
    );
  });

  it('moves frozen funds between the subject code and 2203 (freezes) or 2204 (holds), and deducts them into transit', () => {
    const frozen = (purpose: 'freeze' | 'preauth_hold'): LedgerEvent => ({
      type: 'FundsFrozen',
      data: {
        accountId: WALLET,
        subjectCode: '2201',
        freezeId: FREEZE,
        amountMinor: 700n,
        currency: CNY,
        purpose,
        reason: '',
      },
    });
    expect(brief(journalLinesFor(frozen('freeze')))).toEqual([
      'Dr 2201 account:1015550123456782 700',
      'Cr 2203 account:1015550123456782 700',
    ]);
    expect(brief(journalLinesFor(frozen('preauth_hold')))).toEqual([
      'Dr 2201 account:1015550123456782 700',
      'Cr 2204 account:1015550123456782 700',
    ]);
    const released = (purpose: 'freeze' | 'preauth_hold'): LedgerEvent => ({
      type: 'FrozenFundsReleased',
      data: {
        accountId: WALLET,
        subjectCode: '2201',
        freezeId: FREEZE,
        amountMinor: 300n,
        currency: CNY,
        purpose,
        reason: '',
      },
    });
    expect(brief(journalLinesFor(released('freeze')))).toEqual([
      'Dr 2203 account:1015550123456782 300',
      'Cr 2201 account:1015550123456782 300',
    ]);
    expect(brief(journalLinesFor(released('preauth_hold')))).toEqual([
      'Dr 2204 account:1015550123456782 300',
      'Cr 2201 account:1015550123456782 300',
    ]);
    expect(
      brief(
        journalLinesFor({
          type: 'FrozenFundsDeducted',
          data: {
            accountId: WALLET,
            subjectCode: '2201',
            freezeId: FREEZE,
            amountMinor: 400n,
            currency: CNY,
            kind: 'preauth_capture',
            operationId: OPERATION,
            counterparty: NOBODY,
          },
        }),
      ),
    ).toEqual(['Dr 2204 account:1015550123456782 400', `Cr 2290 operation:${OPERATION} 400`]);
  });

  it('posts a withdrawal fee against its channel, and nothing for a fee-free one', () => {
    const completed = (fee: bigint): LedgerEvent => ({
      type: 'WithdrawalCompleted',
      data: {
        withdrawalId: OPERATION,
        channel: 'sim-bank',
        channelOrderNo: 'SIM3',
        channelFeeMinor: fee,
        currency: CNY,
      },
    });
    expect(brief(journalLinesFor(completed(150n)))).toEqual([
      'Dr 6603 channel:sim-bank 150',
      'Cr 1122 channel:sim-bank 150',
    ]);
    expect(journalLinesFor(completed(0n))).toEqual([]);
  });

  it('posts nothing for events that move no money', () => {
    expect(
      journalLinesFor({ type: 'AccountStatusChanged', data: { accountId: WALLET, status: 'frozen', reason: '' } }),
    ).toBeNull();
    expect(journalLinesFor({ type: 'PaymentCompleted', data: { paymentId: OPERATION } })).toBeNull();
  });

  it('refuses a subject code outside the chart rather than post it somewhere', () => {
    expect(() => journalLinesFor(movement('FundsDebited', 'payment', { subjectCode: '9999' }))).toThrow(
      /9999 is not in the chart/,
    );
  });
});

describe('the posting table', () => {
  it('posts every movement kind on both sides with exactly one row', () => {
    for (const type of ['FundsDebited', 'FundsCredited'] as const) {
      for (const kind of MOVEMENT_KINDS)
        expect(
          rulesFor(type, kind).map((r) => r.id),
          `${type} ${kind}`,
        ).toHaveLength(1);
    }
    for (const purpose of ['freeze', 'preauth_hold']) expect(rulesFor('FundsFrozen', purpose)).toHaveLength(1);
    for (const kind of ['freeze_deduction', 'preauth_capture'])
      expect(rulesFor('FrozenFundsDeducted', kind)).toHaveLength(1);
    for (const type of POSTING_EVENT_TYPES)
      expect(
        POSTING_RULES.some((rule) => rule.event === type),
        type,
      ).toBe(true);
  });

  it('names only chart accounts, with sub-ledgers the chart declares', () => {
    const ids = new Set<string>();
    for (const rule of POSTING_RULES) {
      expect(ids.has(rule.id), `duplicate rule id ${rule.id}`).toBe(false);
      ids.add(rule.id);
      for (const leg of [rule.debit, rule.credit]) {
        if (leg.book === SUBJECT) continue;
        const account = bookAccount(leg.book);
        expect(account, `${rule.id}: ${leg.book}`).toBeDefined();
        expect(account!.subLedgers, `${rule.id}: ${leg.book}`).toContain(leg.subLedger);
      }
    }
    for (const type of Object.values(ACCOUNT_TYPES)) {
      expect(bookAccount(type.subjectCode), `subject code ${type.subjectCode}`).toBeDefined();
      expect(bookAccount(type.subjectCode)!.subLedgers).toContain('account');
    }
    expect(new Set(CHART_OF_ACCOUNTS.map((a) => a.type))).toEqual(
      new Set(['asset', 'liability', 'equity', 'income', 'expense']),
    );
  });

  it('balances every entry, whatever the amounts and kinds', () => {
    const subjectCodes = Object.values(ACCOUNT_TYPES).map((t) => t.subjectCode);
    fc.assert(
      fc.property(
        fc.constantFrom('FundsDebited' as const, 'FundsCredited' as const),
        fc.constantFrom(...MOVEMENT_KINDS),
        fc.constantFrom(...subjectCodes),
        fc.bigInt({ min: 1n, max: 10n ** 18n }),
        (type, kind, subjectCode, amountMinor) => {
          const event = movement(type, kind, { subjectCode, channel: 'sim-bank' });
          (event.data as { amountMinor: bigint }).amountMinor = amountMinor;
          const lines = journalLinesFor(event)!;
          const totals = totalsByCurrency(lines).get(CNY)!;
          expect(totals.debitMinor).toBe(amountMinor);
          expect(totals.creditMinor).toBe(amountMinor);
        },
      ),
    );
  });

  it('refuses an entry that does not balance, or carries a non-positive amount', () => {
    const line: JournalLine = {
      rule: 't',
      code: '2201',
      subLedger: { type: 'account', id: WALLET },
      side: 'debit',
      amountMinor: 5n,
      currency: CNY,
    };
    expect(() => assertBalanced([line, { ...line, side: 'credit', amountMinor: 4n }])).toThrow(
      /does not balance in CNY/,
    );
    expect(() => assertBalanced([line, { ...line, side: 'credit', currency: parseCurrency('USD') }])).toThrow(
      /does not balance/,
    );
    expect(() =>
      assertBalanced([
        { ...line, amountMinor: 0n },
        { ...line, side: 'credit', amountMinor: 0n },
      ]),
    ).toThrow(/non-positive/);
    expect(() => assertBalanced([line, { ...line, side: 'credit' }])).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { classifyKey, classifyPair, type MatchClass } from '../../../src/domain/reconciliation/match-classes.js';
import type { OurOrder, OurOrderStatus } from '../../../src/domain/reconciliation/our-order.js';
import type { StatementRecord } from '../../../src/domain/reconciliation/statement-record.js';
import { aStatementLine, anOrder } from '../../support/reconciliation-records.js';

const line = aStatementLine;
const ours = anOrder;
const refund = { kind: 'refund', refundNo: 'R-1' } as const;
const status = (value: OurOrderStatus) => ({ status: value });

describe('classifying one key: the statement line against our order', () => {
  it.each<[string, StatementRecord | null, OurOrder | null, MatchClass]>([
    ['both settled alike', line(), ours(), 'matched'],
    ['the channel settled what failed with us', line(), ours(status('failed')), 'we_not_paid_channel_paid'],
    ['the channel settled what is still unknown with us', line(), ours(status('unknown')), 'we_not_paid_channel_paid'],
    ['the channel settled what we cancelled', line(), ours(status('cancelled')), 'we_not_paid_channel_paid'],
    ['another amount', line({ amountMinor: 9_999n }), ours(), 'amount_differs'],
    ['another currency', line({ currency: 'USD' as never }), ours(), 'amount_differs'],
    ['we paid, no line', null, ours(), 'we_paid_channel_missing'],
    ['a payout we paid, no line', null, ours({ kind: 'payout' }), 'we_paid_channel_missing'],
    ['a line we have no order for', line(), null, 'we_missing_channel_paid'],
    [
      'a refund the channel made, pending with us',
      line(refund),
      ours({ ...refund, ...status('pending') }),
      'we_not_refunded_channel_refunded',
    ],
    [
      'a refund of another amount',
      line({ ...refund, amountMinor: 1n, feeMinor: 0n }),
      ours({ ...refund, feeMinor: 0n }),
      'refund_amount_differs',
    ],
    ['our refund, no line', null, ours({ ...refund, feeMinor: 0n }), 'refund_missing_on_channel'],
    ['a refund line, no refund of ours', line(refund), null, 'refund_missing_with_us'],
    [
      'a fee off the schedule, as booked',
      line({ feeMinor: 99n }),
      ours({ feeMinor: 99n }),
      'fee_differs_from_schedule',
    ],
    ['a fee unlike the one booked', line({ feeMinor: 61n }), ours(), 'fee_differs_from_recorded'],
    [
      'no schedule known: only the booked fee counts',
      line({ feeMinor: 99n }),
      ours({ feeMinor: 99n, scheduledFeeMinor: null }),
      'matched',
    ],
    ['revoked at the channel, paid with us', line({ status: 'revoked' }), ours(), 'revoked_but_paid'],
    ['revoked at the channel, cancelled with us', line({ status: 'revoked' }), ours(status('cancelled')), 'matched'],
    ['failed with us and not on the statement', null, ours(status('failed')), 'unsettled'],
    ['a revoked line we never had', line({ status: 'revoked' }), null, 'unsettled'],
  ])('%s', (_name, statementLine, order, expected) => {
    expect(classifyPair(statementLine, order)).toBe(expected);
  });

  it('judges the first line with our order and every further one, on either side, as a duplicate', () => {
    const results = classifyKey([line(), line({ sourceLine: 2 }), line({ sourceLine: 3 })], [ours()]);
    expect(results.map((result) => [result.matchClass, result.statement?.sourceLine ?? null])).toEqual([
      ['matched', 1],
      ['duplicate_rows', 2],
      ['duplicate_rows', 3],
    ]);
    expect(classifyKey([line()], [ours(), ours()]).map((result) => result.matchClass)).toEqual([
      'matched',
      'duplicate_rows',
    ]);
  });

  it('refuses a key with nothing on either side', () => {
    expect(() => classifyKey([], [])).toThrow(/nothing on either side/);
  });
});

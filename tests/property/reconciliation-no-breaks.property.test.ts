import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareMatchKeys } from '../../src/domain/reconciliation/match-order.js';
import { runMatch, type MatchBreak, type PendingItem } from '../../src/domain/reconciliation/match-run.js';
import { OUR_ORDER_STATUSES, type OurOrder } from '../../src/domain/reconciliation/our-order.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import { CNY } from '../support/risk-fixtures.js';
import { streamOf } from '../support/channel-order-scenario.js';

const DAY = '2026-12-01';
/** Times of the day (Asia/Shanghai), the minutes before its cut-off (16:00Z) included. */
const instant = fc
  .integer({ min: Date.parse('2026-11-30T16:00:00.000Z'), max: Date.parse('2026-12-01T15:59:59.999Z') })
  .map((ms) => new Date(ms).toISOString());

const order: fc.Arbitrary<OurOrder> = fc
  .record({
    kind: fc.constantFrom('pay', 'payout', 'refund' as const),
    // Any text, above U+FFFF included: both sides are sorted by the one comparison.
    merchantOrderNo: fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }),
    refundNo: fc.string({ minLength: 1, maxLength: 6, unit: 'binary' }),
    amountMinor: fc.bigInt({ min: 1n, max: 10n ** 12n }),
    feeMinor: fc.bigInt({ min: 0n, max: 10_000n }),
    status: fc.constantFrom(...OUR_ORDER_STATUSES),
    ourTime: instant,
  })
  .map((o) => ({
    channel: 'sim-wallet',
    kind: o.kind,
    merchantOrderNo: o.merchantOrderNo,
    refundNo: o.kind === 'refund' ? o.refundNo : null,
    amountMinor: o.amountMinor,
    currency: CNY,
    status: o.status,
    feeMinor: o.status === 'succeeded' ? o.feeMinor : null,
    scheduledFeeMinor: o.kind === 'refund' ? null : o.feeMinor,
    ourTime: o.ourTime,
    channelTime: o.status === 'succeeded' ? o.ourTime : null,
    accountingDate: DAY,
  }));

/** Our succeeded orders written as the channel's normalised lines: what a channel that agrees with us lists. */
function asStatement(orders: readonly OurOrder[]): StatementRecord[] {
  return orders
    .filter((o) => o.status === 'succeeded')
    .map((o, i) => ({
      channel: o.channel,
      accountingDate: DAY,
      kind: o.kind,
      status: 'settled' as const,
      channelOrderNo: `C${i}`,
      merchantOrderNo: o.merchantOrderNo,
      refundNo: o.refundNo,
      channelRefundNo: o.refundNo === null ? null : `CR${i}`,
      amountMinor: o.amountMinor,
      feeMinor: o.feeMinor!,
      currency: o.currency,
      channelTime: o.channelTime!,
      sourceLine: i + 1,
    }));
}

describe('reconciling a statement generated from our own records', () => {
  it('finds no break and leaves nothing pending, whatever the orders, their order numbers and times', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(order, { maxLength: 60, selector: (o) => `${o.merchantOrderNo}\u0000${o.refundNo ?? ''}` }),
        fc.integer({ min: 0, max: 3_600_000 }),
        async (orders, cutOffWindowMs) => {
          const sorted = [...orders].sort(compareMatchKeys);
          const breaks: MatchBreak[] = [];
          const pending: PendingItem[] = [];
          const summary = await runMatch(
            {
              channel: 'sim-wallet',
              accountingDate: DAY,
              accountingTimeZone: 'Asia/Shanghai',
              cutOffWindowMs,
              statement: streamOf(asStatement(sorted)),
              ours: streamOf(sorted),
              carried: streamOf([]),
            },
            { onBreak: async (b) => void breaks.push(b), onPending: async (p) => void pending.push(p) },
          );
          expect(breaks).toEqual([]);
          expect(pending).toEqual([]);
          const succeeded = orders.filter((o) => o.status === 'succeeded').length;
          expect(summary.classes.matched?.count ?? 0).toBe(succeeded);
          expect(summary.classes.unsettled?.count ?? 0).toBe(orders.length - succeeded);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stops on an input out of match order rather than report matches as breaks', async () => {
    const [a, b] = fc.sample(order, { numRuns: 1, seed: 7 }).flatMap((o) => [
      { ...o, merchantOrderNo: 'B', refundNo: null },
      { ...o, merchantOrderNo: 'A', refundNo: null },
    ]);
    const input = {
      channel: 'sim-wallet',
      accountingDate: DAY,
      accountingTimeZone: 'Asia/Shanghai',
      cutOffWindowMs: 0,
      statement: streamOf<StatementRecord>([]),
      ours: streamOf([a!, b!]),
      carried: streamOf<PendingItem>([]),
    };
    await expect(runMatch(input, { onBreak: async () => {}, onPending: async () => {} })).rejects.toThrow(
      /our orders out of match order/,
    );
  });
});

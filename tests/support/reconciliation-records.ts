import type { OurOrder } from '../../src/domain/reconciliation/our-order.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import { CNY } from './risk-fixtures.js';

/**
 * One key's two sides for the pure reconciliation tests (classes, breaks, resolutions): a settled pay line
 * of 100.00 with a 0.60 fee on `sim-wallet`'s statement of 2026-12-01, and our succeeded order for it.
 */
export const RECORD_TIME = '2026-12-01T02:00:00.000Z';

export function aStatementLine(more: Partial<StatementRecord> = {}): StatementRecord {
  return {
    channel: 'sim-wallet',
    accountingDate: '2026-12-01',
    kind: 'pay',
    status: 'settled',
    channelOrderNo: 'W-1',
    merchantOrderNo: 'P-1',
    refundNo: null,
    channelRefundNo: null,
    amountMinor: 10_000n,
    feeMinor: 60n,
    currency: CNY,
    channelTime: RECORD_TIME,
    sourceLine: 1,
    ...more,
  };
}

export function anOrder(more: Partial<OurOrder> = {}): OurOrder {
  return {
    channel: 'sim-wallet',
    kind: 'pay',
    merchantOrderNo: 'P-1',
    refundNo: null,
    amountMinor: 10_000n,
    currency: CNY,
    status: 'succeeded',
    feeMinor: 60n,
    scheduledFeeMinor: 60n,
    ourTime: RECORD_TIME,
    channelTime: RECORD_TIME,
    accountingDate: '2026-12-01',
    ...more,
  };
}

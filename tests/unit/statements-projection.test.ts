import { UNCHANGED } from '../../src/projections/projection.js';
import { describe, expect, it } from 'vitest';
import { statementRange } from '../../src/adapters/http/routes/statements.js';
import type { LedgerEvent } from '../../src/domain/event-catalogue.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import type { EventEnvelope } from '../../src/projections/projection.js';
import {
  STATEMENT_HEADS_COLLECTION,
  STATEMENT_LINES_COLLECTION,
  statementsProjection,
} from '../../src/projections/statements.js';

const WALLET = '1015550123456782';
const envelope = (position: bigint, occurredAt: string): EventEnvelope => ({
  streamId: `account-${WALLET}`,
  revision: position,
  position,
  metadata: {
    eventId: '0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3',
    correlationId: 'c',
    causationId: null,
    idempotencyKey: null,
    actor: 'op',
    occurredAt,
    schemaVersion: 1,
  },
});
const recharged: LedgerEvent = {
  type: 'FundsRecharged',
  data: {
    rechargeId: '0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c4',
    accountId: WALLET,
    subjectCode: '2201',
    amountMinor: 500n,
    currency: parseCurrency('CNY'),
    channel: 'sim-bank',
    channelOrderNo: 'SIM1',
    channelFeeMinor: 0n,
  },
};
const head = {
  accountId: WALLET,
  ownerId: 'u-1',
  accountType: 'wallet',
  currency: 'CNY',
  lastSequence: 4,
  balanceMinor: '100',
  availableMinor: '80',
  frozenMinor: '20',
};

describe('statements projection', () => {
  it('moves the head, then writes the line from the head it moved', () => {
    const [headChange, lineChange] = statementsProjection('Asia/Shanghai').handle(
      recharged,
      envelope(41n, '2026-11-21T16:00:01.000Z'),
    );
    expect([headChange!.collection, lineChange!.collection]).toEqual([
      STATEMENT_HEADS_COLLECTION,
      STATEMENT_LINES_COLLECTION,
    ]);
    expect(headChange!.apply(head)).toMatchObject({
      lastSequence: 5,
      balanceMinor: '600',
      availableMinor: '580',
      frozenMinor: '20',
    });
    expect(lineChange!.id).toBe(`${WALLET}:00000000000000000041`);
    expect(lineChange!.apply(null)).toMatchObject({
      sequence: 5,
      direction: 'credit',
      balanceAfterMinor: '600',
      availableAfterMinor: '580',
      accountingDate: '2026-11-22',
      accountSequenceKey: `${WALLET}|000000000005`,
      accountTimeKey: `${WALLET}|2026-11-21T16:00:01.000Z|000000000005`,
      accountDateKey: `${WALLET}|2026-11-22|2026-11-21T16:00:01.000Z|000000000005`,
      counterparty: { accountId: null, ownerId: null, name: null, channel: 'sim-bank' },
    });
  });

  it('writes no line when the head did not move (the event was applied before), rather than guess its balances', () => {
    const [, lineChange] = statementsProjection('UTC').handle(recharged, envelope(41n, '2026-11-21T16:00:01.000Z'));
    expect(lineChange!.apply(null)).toBe(UNCHANGED);
  });
});

describe('statement ranges', () => {
  it('select by instant, half-open, in any offset', () => {
    expect(statementRange(WALLET, { from: '2026-11-22T00:00:00+08:00', to: '2026-11-22T08:00:00Z' })).toEqual({
      field: 'accountTimeKey',
      gte: `${WALLET}|2026-11-21T16:00:00.000Z`,
      lt: `${WALLET}|2026-11-22T08:00:00.000Z`,
    });
    expect(statementRange(WALLET, {})).toEqual({ field: 'accountSequenceKey', gte: `${WALLET}|`, lt: `${WALLET}}` });
  });

  it('select whole accounting days, the last one included', () => {
    expect(statementRange(WALLET, { fromDate: '2026-11-30', toDate: '2026-11-30' })).toEqual({
      field: 'accountDateKey',
      gte: `${WALLET}|2026-11-30`,
      lt: `${WALLET}|2026-12-01`,
    });
    expect(statementRange(WALLET, { toDate: '2026-12-31' })).toEqual({
      field: 'accountDateKey',
      gte: `${WALLET}|`,
      lt: `${WALLET}|2027-01-01`,
    });
  });

  it('refuse mixed or reversed ranges', () => {
    expect(() => statementRange(WALLET, { from: '2026-11-21T00:00:00Z', toDate: '2026-11-30' })).toThrow(/not both/);
    expect(() => statementRange(WALLET, { fromDate: '2026-12-01', toDate: '2026-11-30' })).toThrow(/after/);
    expect(() => statementRange(WALLET, { from: '2026-12-01T00:00:00Z', to: '2026-11-30T00:00:00Z' })).toThrow(/after/);
  });
});

import { describe, expect, it } from 'vitest';
import type { BreakEvent } from '../../../src/domain/reconciliation/break-events.js';
import { breakIdOf } from '../../../src/domain/reconciliation/break-id.js';
import type { JsonObject } from '../../../src/domain/shared/json.js';
import { UNCHANGED, type EventEnvelope } from '../../../src/projections/projection.js';
import { openRunRange, reconBreaksProjection } from '../../../src/projections/recon-breaks.js';
import { CNY } from '../../support/risk-fixtures.js';
import { aStatementLine, anOrder } from '../../support/reconciliation-records.js';

const at = '2026-12-02T03:00:00.000Z';
const breakId = breakIdOf({
  channel: 'sim-wallet',
  originDate: '2026-12-01',
  merchantOrderNo: 'P-1',
  refundNo: null,
  occurrence: 0,
});
const runId = '6f0c2b0e-4a55-4d3e-9a4b-2f6c7d1e0a01';

/** The document after some events, as the runner would write it. */
function documentAfter(events: readonly BreakEvent[]): JsonObject | null {
  let doc: JsonObject | null = null;
  events.forEach((event, index) => {
    const envelope: EventEnvelope = {
      streamId: `reconbreak-${breakId}`,
      revision: BigInt(index),
      position: BigInt(index + 1),
      metadata: {
        eventId: `e${index}`,
        correlationId: 'c',
        causationId: null,
        idempotencyKey: null,
        actor: 'test',
        occurredAt: at,
        schemaVersion: 1,
      },
    };
    for (const change of reconBreaksProjection.handle(event, envelope)) {
      const next = change.apply(doc);
      if (next !== UNCHANGED) doc = next;
    }
  });
  return doc;
}

const found: BreakEvent = {
  type: 'BreakFound',
  data: {
    breakId,
    channel: 'sim-wallet',
    originDate: '2026-12-01',
    runId,
    runDate: '2026-12-01',
    matchClass: 'amount_differs',
    merchantOrderNo: 'P-1',
    refundNo: null,
    occurrence: 0,
    ageDays: 0,
    statement: aStatementLine({ amountMinor: 9_000n }),
    ours: anOrder(),
    at,
  },
};
const resolved = (amountMinor: bigint): BreakEvent => ({
  type: 'BreakResolved',
  data: {
    breakId,
    resolution: 'accepted_channel_amount',
    automatic: false,
    by: 'ent_op',
    reason: 'checked',
    posted: { amountMinor, currency: CNY, account: '2241' },
    at,
  },
});

describe('the recon_breaks read model', () => {
  it('keeps an open break in its run day range, with both sides', () => {
    const doc = documentAfter([found]);
    expect(doc).toMatchObject({
      status: 'open',
      statementAmountMinor: '9000',
      oursAmountMinor: '10000',
      oursStatus: 'succeeded',
      postedMinor: '0',
      openRunKey: `sim-wallet|2026-12-01|${breakId}`,
    });
    const range = openRunRange('sim-wallet', '2026-12-01');
    const key = doc!['openRunKey'] as string;
    expect(key >= range.gte && key < range.lt).toBe(true);
    expect(key < openRunRange('sim-wallet', '2026-12-02').gte).toBe(true);
  });

  it('takes a resolved break out of the range, sums what resolutions booked, and forgets a reopened resolution', () => {
    const reopened: BreakEvent = { type: 'BreakReopened', data: { breakId, by: 'ent_op', reason: 'wrong', at } };
    expect(documentAfter([found, resolved(-1_000n)])).toMatchObject({
      status: 'resolved',
      resolution: 'accepted_channel_amount',
      resolvedBy: 'ent_op',
      postedMinor: '-1000',
      postedAccount: '2241',
      openRunKey: null,
    });
    expect(documentAfter([found, resolved(-1_000n), reopened, resolved(-500n)])).toMatchObject({
      status: 'resolved',
      postedMinor: '-1500',
    });
    expect(documentAfter([found, resolved(-1_000n), reopened])).toMatchObject({
      status: 'open',
      resolution: null,
      note: 'wrong',
      openRunKey: `sim-wallet|2026-12-01|${breakId}`,
    });
  });

  it('moves a break seen by a later run to that run day', () => {
    const seen: BreakEvent = {
      type: 'BreakSeenAgain',
      data: {
        breakId,
        runId,
        runDate: '2026-12-02',
        matchClass: 'amount_differs',
        ageDays: 1,
        statement: found.type === 'BreakFound' ? found.data.statement : null,
        ours: null,
        at,
      },
    };
    expect(documentAfter([found, seen])).toMatchObject({
      runDate: '2026-12-02',
      ageDays: 1,
      oursAmountMinor: null,
      openRunKey: `sim-wallet|2026-12-02|${breakId}`,
    });
  });
});

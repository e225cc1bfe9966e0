import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteStatementStore } from '../../src/adapters/sqlite/sqlite-statement-store.js';
import { ReconciliationBreaks } from '../../src/commands/reconciliation/break-commands.js';
import { readBreaksFile, recordRunBreaks } from '../../src/commands/reconciliation/record-breaks.js';
import { decodeEvent } from '../../src/domain/event-catalogue.js';
import { breakIdOf } from '../../src/domain/reconciliation/break-id.js';
import { reconBreaksProjection } from '../../src/projections/recon-breaks.js';
import {
  BREAKS_FILE,
  matchDay,
  matchResultsDirectory,
  PENDING_FILE,
  SUMMARY_FILE,
} from '../../src/commands/reconciliation/match-day.js';
import { BREAK_CLASSES } from '../../src/domain/reconciliation/match-classes.js';
import type { LedgerEvent } from '../../src/domain/event-catalogue.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import { channelOrdersProjection } from '../../src/projections/channel-orders.js';
import {
  CHANNEL,
  channelPaymentEvents,
  channelRefundEvents,
  project,
  scheduledFeeOf,
  statementLine,
  streamOf,
} from '../support/channel-order-scenario.js';

/**
 * A day with one break of every class planted, plus the cut-off trap: an order we recorded at 23:59:58
 * (Asia/Shanghai) that the channel completed at 00:00:03 and lists on the next day's statement. Our side
 * comes from events through the channel-orders projection into the SQLite read-model store, the channel's
 * from the SQLite statement store; the runs write their results as files.
 */
const ZONE = 'Asia/Shanghai';
const DAY = '2026-12-01';
const NEXT = '2026-12-02';
/** 10:00 local on DAY. */
const MORNING = '2026-12-01T02:00:00.000Z';
const WINDOW_MS = 5 * 60_000;

describe('reconciliation of a channel day (merge join, classes, cut-off window)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-recon-match-'));
  const readModels = new SqliteReadModelStore(join(dir, 'read-models.sqlite'));
  const statements = new SqliteStatementStore(join(dir, 'recon.sqlite'));
  const resultsDir = join(dir, 'recon-results');
  const events: LedgerEvent[] = [];
  const day: StatementRecord[] = [];
  const next: StatementRecord[] = [];
  const planted: Record<string, string> = {};
  const fee = scheduledFeeOf(10_000n);

  const paid = (name: string, more: { createdAt?: string; feeMinor?: bigint; channelTime?: string } = {}) => {
    const { paymentId, events: recorded } = channelPaymentEvents({
      amountMinor: 10_000n,
      createdAt: more.createdAt ?? MORNING,
      succeeded: { feeMinor: more.feeMinor ?? fee, channelTime: more.channelTime ?? MORNING },
    });
    events.push(...recorded);
    planted[name] = paymentId;
    return paymentId;
  };
  const settledLine = (merchantOrderNo: string, more: Partial<StatementRecord> = {}) =>
    statementLine(DAY, { merchantOrderNo, amountMinor: 10_000n, feeMinor: fee, channelTime: MORNING, ...more });

  beforeAll(async () => {
    // matched
    day.push(settledLine(paid('matched')));
    // we not paid / channel paid: failed with us
    const failed = channelPaymentEvents({ amountMinor: 10_000n, createdAt: MORNING });
    events.push(...failed.events);
    planted['we_not_paid_channel_paid'] = failed.paymentId;
    day.push(settledLine(failed.paymentId));
    // amount differs
    day.push(settledLine(paid('amount_differs'), { amountMinor: 9_000n, feeMinor: scheduledFeeOf(9_000n) }));
    // we paid / channel missing (10:00, far from the cut-off)
    paid('we_paid_channel_missing');
    // we missing / channel paid
    planted['we_missing_channel_paid'] = randomUUID();
    day.push(settledLine(planted['we_missing_channel_paid']));
    // refunds: one pending with us the channel refunded, one of another amount, one missing on each side
    for (const [name, refund] of [
      ['we_not_refunded_channel_refunded', { channel: true, ours: 'pending' }],
      ['refund_amount_differs', { channel: true, ours: 'succeeded', amountMinor: 3_000n }],
      ['refund_missing_on_channel', { channel: false, ours: 'succeeded' }],
    ] as const) {
      const paymentId = paid(`${name}:pay`);
      day.push(settledLine(paymentId));
      const recorded = channelRefundEvents(paymentId, {
        amountMinor: 2_000n,
        at: MORNING,
        ...(refund.ours === 'succeeded' ? { succeededAt: MORNING } : {}),
      });
      events.push(...recorded.events);
      planted[name] = paymentId;
      if (refund.channel)
        day.push(
          settledLine(paymentId, {
            kind: 'refund',
            refundNo: recorded.refundId,
            amountMinor: 'amountMinor' in refund ? refund.amountMinor : 2_000n,
            feeMinor: 0n,
          }),
        );
    }
    const refundedElsewhere = paid('refund_missing_with_us:pay');
    day.push(settledLine(refundedElsewhere));
    day.push(
      settledLine(refundedElsewhere, { kind: 'refund', refundNo: randomUUID(), amountMinor: 1_000n, feeMinor: 0n }),
    );
    planted['refund_missing_with_us'] = refundedElsewhere;
    // fees: one reported and booked off the schedule, one on the statement unlike what was booked
    day.push(settledLine(paid('fee_differs_from_schedule', { feeMinor: fee + 40n }), { feeMinor: fee + 40n }));
    day.push(settledLine(paid('fee_differs_from_recorded'), { feeMinor: fee + 10n }));
    // duplicate rows
    const twice = paid('duplicate_rows');
    day.push(settledLine(twice), settledLine(twice));
    // revoked on the channel, paid with us
    day.push(settledLine(paid('revoked_but_paid'), { status: 'revoked' }));
    // the cut-off trap: 23:59:58 with us, 00:00:03 at the channel, on the next day's statement
    const trap = paid('cut-off', { createdAt: '2026-12-01T15:59:58.000Z', channelTime: '2026-12-01T16:00:03.000Z' });
    next.push(
      statementLine(NEXT, {
        merchantOrderNo: trap,
        amountMinor: 10_000n,
        feeMinor: fee,
        channelTime: '2026-12-01T16:00:03.000Z',
      }),
    );
    // in the window too, but the channel never lists it: a break on the next day's run, aged T+1
    paid('aged', { createdAt: '2026-12-01T15:58:00.000Z', channelTime: '2026-12-01T15:58:01.000Z' });

    await project(readModels, channelOrdersProjection(ZONE), events, 0n);
    await statements.replaceDay({ channel: CHANNEL, accountingDate: DAY, format: 'ledger-jsonl' }, streamOf(day));
    await statements.replaceDay({ channel: CHANNEL, accountingDate: NEXT, format: 'ledger-jsonl' }, streamOf(next));
  });
  afterAll(async () => {
    await statements.close();
    await readModels.close();
  });

  const run = (accountingDate: string) =>
    matchDay(
      { statements, readModels, resultsDir },
      { channel: CHANNEL, accountingDate, accountingTimeZone: ZONE, cutOffWindowMs: WINDOW_MS },
    );
  const jsonLines = async (date: string, file: string) =>
    (await readFile(join(matchResultsDirectory(resultsDir, CHANNEL, date), file), 'utf8'))
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('finds one break of every class on the day, and holds the items near the cut-off in the pending pool', async () => {
    const summary = await run(DAY);
    const breaks = await jsonLines(DAY, BREAKS_FILE);
    const byClass = new Map<string, Record<string, unknown>[]>();
    for (const item of breaks)
      byClass.set(item['matchClass'] as string, [...(byClass.get(item['matchClass'] as string) ?? []), item]);
    expect([...byClass.keys()].sort()).toEqual([...BREAK_CLASSES].sort());
    for (const matchClass of BREAK_CLASSES) {
      expect(byClass.get(matchClass), matchClass).toHaveLength(1);
      expect(byClass.get(matchClass)![0]!['merchantOrderNo'], matchClass).toBe(planted[matchClass]);
      expect(byClass.get(matchClass)![0]!['ageDays']).toBe(0);
    }
    expect(summary.breaks).toBe(BREAK_CLASSES.length);
    // The planted pays of the refund cases, the first of the duplicates and the one matched pay.
    expect(summary.classes.matched.count).toBe(6);
    expect(summary.classes.unsettled).toBeUndefined();
    expect(summary.classes.amount_differs.amountsMinor).toEqual({ CNY: 9_000n });
    expect(summary.statementLines).toBe(day.length);
    const pending = await jsonLines(DAY, PENDING_FILE);
    expect(
      pending.map((item) => [item['side'], (item['record'] as { merchantOrderNo: string }).merchantOrderNo]).sort(),
    ).toEqual(
      [
        ['ours', planted['cut-off']],
        ['ours', planted['aged']],
      ].sort(),
    );
    expect(summary.pending).toBe(2);
    const written = JSON.parse(
      await readFile(join(matchResultsDirectory(resultsDir, CHANNEL, DAY), SUMMARY_FILE), 'utf8'),
    );
    expect(written.breaks).toBe(BREAK_CLASSES.length);
    expect(written.classes.amount_differs.amountsMinor).toEqual({ CNY: '9000' });
  });

  it('matches the cut-off order on the next day rather than reporting it; what stays unmatched is a break aged T+1', async () => {
    const summary = await run(NEXT);
    expect(summary.carriedIn).toBe(2);
    expect(summary.classes.matched.count).toBe(1);
    const breaks = await jsonLines(NEXT, BREAKS_FILE);
    expect(breaks).toHaveLength(1);
    expect(breaks[0]).toMatchObject({
      matchClass: 'we_paid_channel_missing',
      merchantOrderNo: planted['aged'],
      originDate: DAY,
      ageDays: 1,
    });
    expect(breaks.some((item) => item['merchantOrderNo'] === planted['cut-off'])).toBe(false);
    expect(await jsonLines(NEXT, PENDING_FILE)).toEqual([]);
  });

  it('gives the same results when a day is run again (its files are replaced, not appended to)', async () => {
    const again = await run(DAY);
    expect(again.breaks).toBe(BREAK_CLASSES.length);
    expect(await jsonLines(DAY, BREAKS_FILE)).toHaveLength(BREAK_CLASSES.length);
  });

  it("records the day's breaks on their streams once, and clears the one a corrected statement no longer has", async () => {
    const eventStore = new SqliteEventStore(join(dir, 'events.sqlite'));
    const breaks = new ReconciliationBreaks(eventStore);
    // The recon_breaks read model, brought up to the log's head when a run waits for it.
    let projected: bigint | 'start' = 'start';
    let readModelPosition = 1_000_000n;
    const waitForPosition = async () => {
      for (;;) {
        const page = await eventStore.readAll({ after: projected, maxCount: 1_000 });
        if (page.length === 0) return;
        const decoded = page.map((recorded) => decodeEvent(recorded.type, recorded.data));
        readModelPosition = await project(readModels, reconBreaksProjection, decoded, readModelPosition);
        projected = page.at(-1)!.position;
      }
    };
    const record = async () => {
      const matched = await run(DAY);
      return recordRunBreaks(
        {
          breaks,
          readModels,
          headPosition: () => eventStore.headPosition(),
          waitForPosition,
          channelPayments: null,
        },
        {
          runId: randomUUID(),
          channel: CHANNEL,
          accountingDate: DAY,
          breaks: readBreaksFile(join(matched.directory, BREAKS_FILE)),
          complete: matched.breaksListed === matched.breaks,
          ranBy: 'test',
          at: '2026-12-02T03:00:00.000Z',
        },
      );
    };
    try {
      const first = await record();
      expect(first).toMatchObject({ recorded: BREAK_CLASSES.length, found: BREAK_CLASSES.length, cleared: 0 });
      const again = await record();
      expect(again).toMatchObject({ found: 0, seenAgain: 0, unchanged: BREAK_CLASSES.length, cleared: 0 });
      // The duplicate line is a break of its own, under the same key: occurrence 1, its own id.
      const duplicate = breakIdOf({
        channel: CHANNEL,
        originDate: DAY,
        merchantOrderNo: planted['duplicate_rows']!,
        refundNo: null,
        occurrence: 1,
      });
      expect((await breaks.get(duplicate)).state).toMatchObject({ matchClass: 'duplicate_rows', status: 'open' });

      // The channel corrects its file: the line we have no order for was not ours.
      const corrected = day.filter((line) => line.merchantOrderNo !== planted['we_missing_channel_paid']);
      await statements.replaceDay(
        { channel: CHANNEL, accountingDate: DAY, format: 'ledger-jsonl' },
        streamOf(corrected),
      );
      const third = await record();
      expect(third).toMatchObject({ recorded: BREAK_CLASSES.length - 1, found: 0, cleared: 1 });
      const gone = breakIdOf({
        channel: CHANNEL,
        originDate: DAY,
        merchantOrderNo: planted['we_missing_channel_paid']!,
        refundNo: null,
        occurrence: 0,
      });
      expect((await breaks.get(gone)).state.status).toBe('cleared');
      // Its line again: the break reopens itself.
      await statements.replaceDay({ channel: CHANNEL, accountingDate: DAY, format: 'ledger-jsonl' }, streamOf(day));
      expect(await record()).toMatchObject({ reopened: 1, cleared: 0 });
      expect((await breaks.get(gone)).state.status).toBe('open');
    } finally {
      await eventStore.close();
    }
  });
});

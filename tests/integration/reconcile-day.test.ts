import { ReconciliationBreaks } from '../../src/commands/reconciliation/break-commands.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { reconBreaksProjection } from '../../src/projections/recon-breaks.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { SqliteStatementStore } from '../../src/adapters/sqlite/sqlite-statement-store.js';
import {
  normalisedLine,
  normalisedStatementParser,
} from '../../src/adapters/reconciliation/statement-formats/normalised-statement.js';
import { deriveId, type CommandContext } from '../../src/commands/command-context.js';
import {
  reconcileDay,
  sweepReconciliations,
  type ReconcileDeps,
} from '../../src/commands/reconciliation/reconcile-day.js';
import { StatementImports } from '../../src/commands/reconciliation/statement-imports.js';
import { decodeEvent, encodeOwnEvent, type LedgerEvent } from '../../src/domain/event-catalogue.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import type { ReadModelStore } from '../../src/ports/read-model-store.js';
import { channelOrdersProjection } from '../../src/projections/channel-orders.js';
import { UNCHANGED } from '../../src/projections/projection.js';
import {
  RECON_DAYS_COLLECTION,
  reconDayId,
  reconDaysProjection,
  type ReconDayDocument,
} from '../../src/projections/recon-days.js';
import {
  CHANNEL,
  channelPaymentEvents,
  project,
  scheduledFeeOf,
  statementLine,
} from '../support/channel-order-scenario.js';
import { anEvent } from '../support/events.js';

/**
 * Runs of channel days in order: a day asked for runs its earlier stored days first (the pending pool
 * needs them), each run is recorded on the day's stream, the sweep re-runs a day whose file was replaced
 * and then the day after it, and the recon_days view follows the day's stream and its breaks' streams.
 */
const ZONE = 'Asia/Shanghai';
const DAY = '2026-12-01';
const NEXT = '2026-12-02';
const MORNING = '2026-12-01T02:00:00.000Z';

describe('reconciling days in order (reconcileDay, the sweep, the recon_days view)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-recon-day-'));
  const eventStore = new SqliteEventStore(join(dir, 'events.sqlite'));
  const readModels = new SqliteReadModelStore(join(dir, 'read-models.sqlite'));
  const statements = new SqliteStatementStore(join(dir, 'recon.sqlite'));
  const imports = new StatementImports(statements, eventStore);
  const breaksRunner = new ProjectionRunner(eventStore, readModels, [reconBreaksProjection]);
  const deps: ReconcileDeps = {
    statements,
    readModels,
    imports,
    resultsDir: join(dir, 'recon'),
    accountingTimeZone: ZONE,
    cutOffWindowMs: 300_000,
    breaks: {
      breaks: new ReconciliationBreaks(eventStore),
      readModels,
      headPosition: () => eventStore.headPosition(),
      // The open breaks a run clears are read from recon_breaks: applied here, as no service runs.
      waitForPosition: async () => {
        await breaksRunner.catchUp();
      },
      channelPayments: null,
    },
  };
  const fee = scheduledFeeOf(10_000n);
  const orders: Record<string, string> = {};
  const line = (date: string, merchantOrderNo: string, channelTime = MORNING) =>
    statementLine(date, { merchantOrderNo, amountMinor: 10_000n, feeMinor: fee, channelTime });

  const context = (key: string, occurredAt: string): CommandContext => ({
    actor: 'test',
    correlationId: key,
    causationId: null,
    idempotencyKey: null,
    operationKey: deriveId(key, occurredAt),
    occurredAt,
  });
  const store = async (date: string, lines: readonly StatementRecord[], at: string) => {
    const outcome = await imports.importFile(
      {
        channel: CHANNEL,
        accountingDate: date,
        merchantIds: ['m'],
        appIds: [],
        format: normalisedStatementParser.format,
        parser: normalisedStatementParser,
        bytes: lines.map((record) => Buffer.from(normalisedLine(record))),
        source: 'import',
        importedBy: 'op-1',
      },
      context(`import ${date}`, at),
    );
    expect(outcome.status).toBe('stored');
  };

  beforeAll(async () => {
    await breaksRunner.prepare();
    const events: LedgerEvent[] = [];
    for (const [name, createdAt, channelTime] of [
      ['matched', MORNING, MORNING],
      ['missing', MORNING, MORNING],
      // the cut-off trap: 23:59:58 with us, 00:00:03 at the channel, on the next day's statement
      ['trap', '2026-12-01T15:59:58.000Z', '2026-12-01T16:00:03.000Z'],
    ] as const) {
      const payment = channelPaymentEvents({
        amountMinor: 10_000n,
        createdAt,
        succeeded: { feeMinor: fee, channelTime },
      });
      events.push(...payment.events);
      orders[name] = payment.paymentId;
    }
    await project(readModels, channelOrdersProjection(ZONE), events, 0n);
    await store(DAY, [line(DAY, orders['matched']!)], '2026-12-01T18:10:00.000Z');
    await store(NEXT, [line(NEXT, orders['trap']!, '2026-12-01T16:00:03.000Z')], '2026-12-02T18:10:00.000Z');
  });
  afterAll(async () => {
    await breaksRunner.stop();
    await statements.close();
    await readModels.close();
    await eventStore.close();
  });

  it('a day asked for runs its stored earlier day first, carrying that run pool in', async () => {
    const runs = await reconcileDay(
      deps,
      { channel: CHANNEL, accountingDate: NEXT, ranBy: 'cli:test' },
      context('run', '2026-12-02T19:00:00.000Z'),
    );
    expect(runs.map((r) => r.run.accountingDate)).toEqual([DAY, NEXT]);
    const [first, second] = runs.map((r) => r.run);
    expect(first).toMatchObject({ carriedFromRunId: null, pending: 1, breaks: 1, statementLines: 1, ourOrders: 3 });
    expect(first!.classes.map((c) => [c.matchClass, c.count])).toEqual([
      ['matched', 1],
      ['we_paid_channel_missing', 1],
    ]);
    expect(first!.fees).toEqual([{ currency: 'CNY', oursMinor: fee, theirsMinor: fee }]);
    expect(second).toMatchObject({ carriedFromRunId: first!.runId, carriedIn: 1, pending: 0, breaks: 0 });
    expect(second!.classes).toEqual([
      { matchClass: 'matched', count: 1, amounts: [{ currency: 'CNY', amountMinor: 10_000n }] },
    ]);
    expect((await imports.load(CHANNEL, NEXT)).state.lastRun?.runId).toBe(second!.runId);
  });

  it('the sweep finds nothing due; a replaced file makes its day and the day after due, run in order', async () => {
    const now = '2026-12-03T02:00:00.000Z';
    const sweep = { ...deps, channels: () => [CHANNEL], daysBack: 3 };
    expect(await sweepReconciliations(sweep, now)).toEqual([]);
    await store(DAY, [line(DAY, orders['matched']!), line(DAY, orders['missing']!)], '2026-12-03T01:00:00.000Z');
    const runs = await sweepReconciliations(sweep, now);
    expect(runs.map((r) => [r.run.accountingDate, r.run.breaks, r.run.ranBy])).toEqual([
      [DAY, 0, 'sweep'],
      [NEXT, 0, 'sweep'],
    ]);
    expect(runs[1]!.run.carriedFromRunId).toBe(runs[0]!.run.runId);
    expect(await sweepReconciliations(sweep, now)).toEqual([]);
  });

  it('a day with no statement is refused', async () => {
    await expect(
      reconcileDay(deps, { channel: CHANNEL, accountingDate: '2026-12-05', ranBy: 'op' }, context('x', MORNING)),
    ).rejects.toMatchObject({ code: 'statement_not_stored' });
  });

  describe('the recon_days view', () => {
    const breakId = `${CHANNEL}:${DAY}:abc123`;
    const append = async (streamId: string, events: LedgerEvent[], at: string) =>
      eventStore.appendToStream(
        streamId,
        events.map((event) => {
          const { type, data } = encodeOwnEvent(event);
          const stored = anEvent(type, data);
          return { ...stored, metadata: { ...stored.metadata, occurredAt: at } };
        }),
        'any',
      );
    /** Every recorded event through the projection into `store`, as a runner does; returns the writes made. */
    const projectLog = async (store: ReadModelStore): Promise<number> => {
      await store.ensureCollections(reconDaysProjection.collections);
      let writesMade = 0;
      for (const recorded of await eventStore.readAll({ after: 'start', maxCount: 10_000 })) {
        if (!(reconDaysProjection.eventTypes as readonly string[]).includes(recorded.type)) continue;
        const event = decodeEvent(recorded.type, recorded.data);
        const writes = [];
        for (const change of reconDaysProjection.handle(event, recorded)) {
          const previous = await store.get(change.collection, change.id);
          // The store skips a write at or below the document's position: a replay changes nothing.
          if (previous !== null && previous.position >= recorded.position) continue;
          const next = change.apply(previous?.data ?? null);
          if (next !== UNCHANGED)
            writes.push({ collection: change.collection, id: change.id, data: next, position: recorded.position });
        }
        writesMade += writes.length;
        await store.applyBatch(reconDaysProjection.name, writes, recorded.position);
      }
      return writesMade;
    };
    const dayDoc = async (store: ReadModelStore, date: string) =>
      (await store.get<ReconDayDocument>(RECON_DAYS_COLLECTION, reconDayId(CHANNEL, date)))!.data;

    it('shows each day run, its classes, fees, pool, open breaks; replays and rebuilds give the same', async () => {
      await append(
        `reconday-${CHANNEL}:2026-12-04`,
        [
          {
            type: 'StatementDownloadFailed',
            data: {
              channel: CHANNEL,
              accountingDate: '2026-12-04',
              attempt: 3,
              failure: 'timeout',
              detail: 'no answer in 10 s',
              nextAttemptAt: null,
              at: '2026-12-05T04:00:00.000Z',
            },
          },
        ],
        '2026-12-05T04:00:00.000Z',
      );
      const found: LedgerEvent = {
        type: 'BreakFound',
        data: {
          breakId,
          channel: CHANNEL,
          originDate: DAY,
          runId: randomUUID(),
          runDate: DAY,
          matchClass: 'we_paid_channel_missing',
          merchantOrderNo: orders['missing']!,
          refundNo: null,
          occurrence: 0,
          ageDays: 0,
          statement: null,
          ours: null,
          at: '2026-12-02T19:00:00.000Z',
        },
      };
      await append(`reconbreak-${breakId}`, [found], '2026-12-02T19:00:00.000Z');
      const other = `${CHANNEL}:${DAY}:def456`;
      await append(
        `reconbreak-${other}`,
        [
          { ...found, data: { ...found.data, breakId: other, occurrence: 1 } },
          { type: 'BreakCleared', data: { breakId: other, runId: randomUUID(), runDate: DAY, at: MORNING } },
          { type: 'BreakReopened', data: { breakId: other, by: 'op-1', reason: 'seen again', at: MORNING } },
          {
            type: 'BreakResolved',
            data: {
              breakId: other,
              resolution: 'written_off',
              automatic: false,
              by: 'op-1',
              reason: 'agreed with the channel',
              posted: null,
              at: MORNING,
            },
          },
        ],
        '2026-12-03T03:00:00.000Z',
      );

      expect(await projectLog(readModels)).toBeGreaterThan(0);
      const day = await dayDoc(readModels, DAY);
      expect(day).toMatchObject({
        status: 'reconciled',
        download: { status: 'stored', attempts: 0 },
        statement: { lineCount: 2, source: 'import' },
        openBreaks: 1,
      });
      expect(day.run).toMatchObject({ ranBy: 'sweep', matchedCount: 2, breakCount: 0, pending: 1 });
      expect(day.run!.matchedAmounts).toEqual([{ currency: 'CNY', amountMinor: '20000' }]);
      expect(day.run!.fees).toEqual([{ currency: 'CNY', oursMinor: `${2n * fee}`, theirsMinor: `${2n * fee}` }]);
      const next = await dayDoc(readModels, NEXT);
      expect(next).toMatchObject({ status: 'reconciled', openBreaks: 0 });
      expect(next.run).toMatchObject({ carriedIn: 1, matchedCount: 1 });
      expect(await dayDoc(readModels, '2026-12-04')).toMatchObject({
        status: 'open',
        statement: null,
        run: null,
        download: {
          status: 'failed',
          attempts: 3,
          lastProblem: { kind: 'download_failed', reason: 'timeout', detail: 'no answer in 10 s' },
        },
      });

      // Replayed: nothing changes. Rebuilt into a fresh store: the same documents.
      expect(await projectLog(readModels)).toBe(0);
      const rebuilt = new SqliteReadModelStore(join(dir, 'rebuilt.sqlite'));
      try {
        await projectLog(rebuilt);
        for (const date of [DAY, NEXT, '2026-12-04'])
          expect(await dayDoc(rebuilt, date)).toEqual(await dayDoc(readModels, date));
      } finally {
        await rebuilt.close();
      }
    });

    it('a run of a day whose file was replaced since shows the day open again', async () => {
      await store(DAY, [line(DAY, orders['matched']!)], '2026-12-03T05:00:00.000Z');
      await projectLog(readModels);
      const day = await dayDoc(readModels, DAY);
      expect(day.status).toBe('open');
      expect(day.run!.statementSha256).not.toBe(day.statement!.fileSha256);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_BANK } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { bindTestCard } from '../../src/adapters/channels/simulator/test-card-binding.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import type { BoundCard } from '../../src/domain/channels/payer-instrument.js';
import { downloadStatement, sweepStatementDownloads } from '../../src/commands/reconciliation/statement-downloads.js';
import type { StatementRecord } from '../../src/domain/reconciliation/statement-record.js';
import type { RecordedEvent } from '../../src/ports/event-store.js';
import { statementDayStreamId } from '../../src/commands/reconciliation/statement-imports.js';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';

/**
 * Statements downloaded from the simulated channels on their schedule: not before the day is over and the
 * hour has come, retried at the interval while the channel says "not ready", stored once with the file's
 * hash, and read back from the statement store as what the channel really did.
 */
const CNY = parseCurrency('CNY');
const DAY = '2026-11-30';
const at = (iso: string) => Date.parse(iso);

describe('statement downloads', () => {
  let ledger: TestLedger;
  let card: BoundCard;

  beforeAll(async () => {
    ledger = await startTestLedger(undefined, {
      CHANNEL_POLL_INTERVAL_MS: '0',
      RECON_DOWNLOAD_INTERVAL_MS: '0',
      RECON_RETRY_INTERVAL_MS: '300000',
      RECON_MAX_ATTEMPTS: '3',
      RECON_DAYS_BACK: '2',
    });
    card = await bindTestCard(ledger.service.channels, 0, [SIMULATED_BANK]);
  });

  afterAll(async () => {
    await ledger.close();
  });

  async function charge(orderNo: string, amountMinor: bigint, atIso: string): Promise<void> {
    ledger.service.channels.simulator!.setNow(at(atIso));
    const contractNo = card.contracts.find((c) => c.channelId === SIMULATED_BANK)!.contractNo;
    const outcome = await ledger.service.channels.gateway.call(SIMULATED_BANK, (port, options) =>
      port.charge(
        {
          orderNo,
          amount: { amountMinor, currency: CNY },
          instrument: { method: 'quick_pay', contractNo },
          notifyUrl: null,
          description: '',
        },
        options,
      ),
    );
    expect(outcome.status).toBe('succeeded');
  }

  async function dayEvents(channel: string, date: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of ledger.service.eventStore.readStream(statementDayStreamId(channel, date)))
      events.push(event);
    return events;
  }

  it('waits for the day to end and the hour to come, retries "not ready", then stores the file once', async () => {
    const deps = ledger.service.statementDownloads;
    const simulator = ledger.service.channels.simulator!;
    // Beijing time: 10:00 and 23:59:58 on the 30th (the second completes on the 30th for the channel too).
    await charge(`rc-${process.pid}-1`, 12_345n, '2026-11-30T02:00:00Z');
    await charge(`rc-${process.pid}-2`, 500n, '2026-11-30T15:59:58Z');

    // 01:00 on the 1st, Beijing: before the hour (02:00) nothing is asked.
    simulator.setNow(at('2026-11-30T17:00:00Z'));
    const onDay = <R extends { accountingDate: string; channel: string }>(results: readonly R[]) =>
      results.filter((r) => r.accountingDate === DAY && r.channel === SIMULATED_BANK);
    expect(onDay(await sweepStatementDownloads(deps, '2026-11-30T17:00:00.000Z'))).toEqual([]);

    // Asked early by hand (the channel's clock still on the 30th): not ready, retried five minutes later.
    simulator.setNow(at('2026-11-30T15:59:59Z'));
    const early = await downloadStatement(deps, SIMULATED_BANK, DAY, '2026-11-30T18:00:00.000Z');
    expect(early.outcome).toEqual({ status: 'failed', failure: 'not_ready' });
    const failed = (await dayEvents(SIMULATED_BANK, DAY)).at(-1)!;
    expect(failed.type).toBe('StatementDownloadFailed');
    expect(failed.data).toMatchObject({ attempt: 1, nextAttemptAt: '2026-11-30T18:05:00.000Z' });

    // 02:02 on the 1st: the retry is not due yet; at 02:06 it is, and the channel's file is there.
    simulator.setNow(at('2026-11-30T18:06:00Z'));
    expect(onDay(await sweepStatementDownloads(deps, '2026-11-30T18:02:00.000Z'))).toEqual([]);
    const ours = onDay(await sweepStatementDownloads(deps, '2026-11-30T18:06:00.000Z'));
    expect(ours).toHaveLength(1);
    expect(ours[0]!.outcome).toMatchObject({ status: 'stored', lineCount: 2, setAsideCount: 0 });

    const lines: StatementRecord[] = [];
    for await (const record of ledger.service.statements.readDay({ channel: SIMULATED_BANK, accountingDate: DAY }))
      lines.push(record);
    expect(lines.map((r) => [r.kind, r.merchantOrderNo, r.amountMinor])).toEqual([
      ['pay', `rc-${process.pid}-1`, 12_345n],
      ['pay', `rc-${process.pid}-2`, 500n],
    ]);
    const stored = (await dayEvents(SIMULATED_BANK, DAY)).at(-1)!;
    expect(stored.type).toBe('StatementStored');
    expect(stored.data).toMatchObject({ source: 'download', format: 'sim-statement-csv/1', lineCount: 2 });
    expect(stored.data['fileSha256']).toMatch(/^[0-9a-f]{64}$/);

    // Stored: later sweeps leave the day alone; downloading the same file again records nothing new.
    expect(onDay(await sweepStatementDownloads(deps, '2026-11-30T18:30:00.000Z'))).toEqual([]);
    await downloadStatement(deps, SIMULATED_BANK, DAY, '2026-11-30T18:31:00.000Z');
    expect((await dayEvents(SIMULATED_BANK, DAY)).filter((e) => e.type === 'StatementStored')).toHaveLength(1);
  });

  it('gives a day up after the last attempt: the sweep leaves it for an operator', async () => {
    const deps = ledger.service.statementDownloads;
    ledger.service.channels.simulator!.setNow(at('2026-12-10T00:00:00Z'));
    // The channel's clock is before the day's end: every attempt is "not ready".
    const date = '2026-12-10';
    const times = ['2026-12-10T18:00:00.000Z', '2026-12-10T18:05:00.000Z', '2026-12-10T18:10:00.000Z'];
    for (const now of times) await downloadStatement(deps, SIMULATED_BANK, date, now);
    const last = (await dayEvents(SIMULATED_BANK, date)).at(-1)!;
    expect(last.data).toMatchObject({ attempt: 3, nextAttemptAt: null });
    const later = await sweepStatementDownloads(deps, '2026-12-10T19:00:00.000Z');
    expect(later.filter((r) => r.channel === SIMULATED_BANK && r.accountingDate === date)).toEqual([]);
    ledger.service.channels.simulator!.setNow(null);
  });
});

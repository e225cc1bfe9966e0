import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalisedLine } from '../../src/adapters/reconciliation/statement-formats/normalised-statement.js';
import { buildCli, removeCli, runCli } from '../support/built-cli.js';
import { CHANNEL, statementLine } from '../support/channel-order-scenario.js';

/**
 * `ledger recon run` as an operator runs it: days imported by hand, then run in order from the command
 * line (the earlier day first, its cut-off item carried into the next), a summary table per day.
 */
describe('ledger recon run', () => {
  let cli = '';
  let dataDir = '';
  const env = () => ({ DATA_DIR: dataDir, ACCOUNTING_TIME_ZONE: 'Asia/Shanghai', RECON_CUT_OFF_WINDOW_MS: '300000' });

  const importDay = (date: string, channelTimes: readonly string[]) => {
    const file = join(dataDir, `${date}.jsonl`);
    writeFileSync(
      file,
      channelTimes
        .map((channelTime) =>
          normalisedLine(
            statementLine(date, { merchantOrderNo: randomUUID(), amountMinor: 10_000n, feeMinor: 60n, channelTime }),
          ),
        )
        .join(''),
    );
    const run = runCli(
      cli,
      [
        'recon',
        'import',
        '--channel',
        CHANNEL,
        '--format',
        'ledger-normalised/1',
        '--date',
        date,
        '--merchant-id',
        'm',
        file,
      ],
      env(),
    );
    expect(run.status, run.stderr).toBe(0);
  };

  beforeAll(() => {
    cli = buildCli();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-recon-run-cli-'));
    // 12:00 and 23:59 local on the 29th (the second within the 5-minute cut-off window); 12:00 on the 30th.
    importDay('2026-11-29', ['2026-11-29T04:00:00.000Z', '2026-11-29T15:59:00.000Z']);
    importDay('2026-11-30', ['2026-11-30T04:00:00.000Z']);
  }, 180_000);

  afterAll(() => removeCli(cli));

  it('runs the earlier stored day first, carries its pending item in, and prints a table per day', () => {
    const run = runCli(cli, ['recon', 'run', '--channel', CHANNEL, '--date', '2026-11-30'], env());
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${CHANNEL}: 2 day(s) run`);
    expect(lines[1]).toMatch(/^date\s+status\s+lines\s+orders\s+matched\s+amount\s+breaks\s+pending\s+carried in/);
    expect(lines[2]).toMatch(
      /^2026-11-29\s+reconciled_with_breaks\s+2\s+0\s+0\s+-\s+1\s+1\s+0 \(previous day not run\)/,
    );
    expect(lines[3]).toMatch(/^\s+we_missing_channel_paid\s+CNY 100\.00\s+1$/);
    expect(lines[4]).toMatch(/^2026-11-30\s+reconciled_with_breaks\s+1\s+0\s+0\s+-\s+2\s+0\s+1\s/);
    expect(lines[5]).toMatch(/^\s+we_missing_channel_paid\s+CNY 200\.00\s+2$/);
    // Not a terminal: no progress bar drawn.
    expect(run.stderr).toBe('');
  });

  it('a range runs each day in order; a day with no statement exits 1, bad dates 2', () => {
    const range = runCli(
      cli,
      ['recon', 'run', '--channel', CHANNEL, '--date', '2026-11-29', '--to', '2026-12-01'],
      env(),
    );
    expect(range.status).toBe(1);
    expect(range.stdout.split('\n')[0]).toBe(`${CHANNEL}: 2 day(s) run`);
    expect(range.stderr).toContain('2026-12-01  not run: statement_not_stored');
    const backwards = runCli(
      cli,
      ['recon', 'run', '--channel', CHANNEL, '--date', '2026-11-30', '--to', '2026-11-29'],
      env(),
    );
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toContain('--to is before --date');
  });
});

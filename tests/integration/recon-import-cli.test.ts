import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStatementStore } from '../../src/adapters/sqlite/sqlite-statement-store.js';
import { STATEMENTS_FILE } from '../../src/adapters/storage.js';
import { buildCli, removeCli, runCli } from '../support/built-cli.js';

/** `ledger recon import` as an operator runs it, on the public-layout fixtures. */
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/statements/${name}`, import.meta.url));

describe('ledger recon import', () => {
  let cli = '';
  let dataDir = '';

  beforeAll(() => {
    cli = buildCli();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-recon-cli-'));
  }, 120_000);

  afterAll(() => removeCli(cli));

  const args = ['recon', 'import', '--channel', 'wechat', '--format', 'wechat-all/1', '--date', '2026-11-30'];

  it('stores a WeChat Pay bill for the day, in matching order, listing the line set aside', async () => {
    const run = runCli(cli, [...args, '--merchant-id', '1900000109', fixture('wechat-all-bill.csv')], {
      DATA_DIR: dataDir,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^stored 4 lines of wechat 2026-11-30 \(1 set aside\), sha256 [0-9a-f]{64}/);
    expect(run.stdout).toContain('line 4: foreign_merchant');
    const store = new SqliteStatementStore(join(dataDir, STATEMENTS_FILE));
    try {
      const orders: string[] = [];
      for await (const record of store.readDay({ channel: 'wechat', accountingDate: '2026-11-30' }))
        orders.push(`${record.kind}:${record.merchantOrderNo}`);
      expect(orders).toEqual(['pay:cp-0001', 'refund:cp-0001', 'pay:cp-0002', 'pay:cp-0003']);
    } finally {
      await store.close();
    }
  });

  it('refuses a file whose summary disagrees, keeping the day as it was, and an unknown format', () => {
    const tampered = join(dataDir, 'tampered.csv');
    writeFileSync(tampered, readFileSync(fixture('wechat-all-bill.csv'), 'utf8').replace('`135.50', '`135.51'));
    const refused = runCli(cli, [...args, '--merchant-id', '1900000109', tampered], { DATA_DIR: dataDir });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^refused: summary_mismatch: /);
    const unknown = runCli(
      cli,
      [
        'recon',
        'import',
        '--channel',
        'x',
        '--format',
        'fax/1',
        '--date',
        '2026-11-30',
        '--merchant-id',
        'm',
        tampered,
      ],
      {
        DATA_DIR: dataDir,
      },
    );
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no format fax/1');
  });
});

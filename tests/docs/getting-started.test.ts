import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';
import { codeBlocks } from './markdown-blocks.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const GUIDE = join(root, 'docs/getting-started.md');
const EXAMPLE = 'docs/examples/getting-started.ts';

/**
 * docs/getting-started.md, as a reader follows it: its TypeScript is docs/examples/getting-started.ts, and
 * its `sh` blocks run in order in a checkout with the package built (`npm run build` into a scratch copy,
 * so tests building dist/ meanwhile are not disturbed) and the service listening (the guide's `npm start`,
 * here on a free port, given to the program as LEDGER_URL).
 */
describe('docs/getting-started.md', () => {
  const blocks = codeBlocks(GUIDE);
  let checkout: string;
  let ledger: TestLedger;
  let baseUrl: string;

  beforeAll(async () => {
    checkout = mkdtempSync(join(tmpdir(), 'ledger-guide-'));
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(checkout, 'dist')], { cwd: root });
    cpSync(join(root, 'package.json'), join(checkout, 'package.json'));
    cpSync(join(root, EXAMPLE), join(checkout, EXAMPLE));
    symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    ledger = await startTestLedger(join(checkout, 'data'));
    baseUrl = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);
  afterAll(async () => {
    await ledger?.close();
  });

  it('shows exactly the example program, step by step', () => {
    const shown = blocks.filter((block) => block.language === 'ts').map((block) => block.text);
    expect(shown.length).toBeGreaterThan(5);
    expect(`${shown.join('\n\n')}\n`).toBe(readFileSync(join(root, EXAMPLE), 'utf8'));
  });

  it('runs from zero to a refunded payment, the statement and a balanced trial balance', async () => {
    const script = blocks
      .filter((block) => block.language === 'sh')
      .map((block) => block.text)
      .join('\n');
    expect(script).toContain(`node ${EXAMPLE}`);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: checkout,
      env: { ...process.env, LEDGER_URL: baseUrl },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^operator op-[0-9a-f-]{36}\/1, merchant m-[0-9a-f-]{36}\/1$/m);
    expect(stdout).toContain('wallet balance 100.00');
    expect(stdout).toMatch(/^payment [0-9a-f-]{36} completed 38\.50$/m);
    expect(stdout).toContain('refunded 38.50 of 38.50');
    expect(stdout.split('\n').filter((line) => line.startsWith('statement '))).toEqual([
      'statement 1 recharge credit 100.00 balance 100.00',
      'statement 2 payment debit 38.50 balance 61.50',
      'statement 3 refund credit 38.50 balance 100.00',
    ]);
    expect(stdout).toContain('balanced true');

    // What the program did is in the ledger, read back on the service's side.
    const paymentId = /^payment (\S+)/m.exec(stdout)![1]!;
    const payment = await ledger.inject({ method: 'GET', url: `/v1/payments/${paymentId}` });
    expect(payment.json()).toMatchObject({ status: 'completed', amount: '38.50', refundedAmount: '38.50' });
  }, 90_000);
});

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLedger, type TestLedger } from '../support/test-ledger.js';
import { codeBlocks } from './markdown-blocks.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const EXAMPLES = 'docs/examples';

/** The TypeScript a markdown file shows, block by block. */
function shownTypeScript(markdown: string): string[] {
  return codeBlocks(join(root, markdown))
    .filter((block) => block.language === 'ts')
    .map((block) => block.text);
}

function exampleFile(name: string): string {
  return readFileSync(join(root, EXAMPLES, name), 'utf8');
}

/**
 * The docs' code, run as a reader runs it: in a checkout with the package built (`npm run build`, here
 * into a scratch copy so that other tests building dist/ meanwhile are not disturbed), the examples
 * importing the package's public entry (`ledger-core/client`, resolved through package.json `exports` to
 * the built dist/), and the service listening (the guide's `npm start`, here on a free port given to the
 * programs as LEDGER_URL).
 */
describe("the docs' examples", () => {
  let checkout: string;
  let ledger: TestLedger;
  let baseUrl: string;

  beforeAll(async () => {
    checkout = mkdtempSync(join(tmpdir(), 'ledger-docs-'));
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(checkout, 'dist')], { cwd: root });
    cpSync(join(root, 'package.json'), join(checkout, 'package.json'));
    cpSync(join(root, EXAMPLES), join(checkout, EXAMPLES), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    ledger = await startTestLedger(join(checkout, 'data'));
    baseUrl = await ledger.app.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);
  afterAll(async () => {
    await ledger?.close();
    // The scratch checkout's node_modules is a link: removing it leaves the real one alone.
    if (checkout) rmSync(checkout, { recursive: true, force: true });
  });

  it('build the client entry the package exports, whose types hold the examples to the API', async () => {
    const exported = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports['./client'];
    for (const target of [exported.types, exported.default])
      expect(existsSync(join(checkout, target)), target).toBe(true);
    // As a consumer's compiler sees the package: `ledger-core/client` resolves to the built .d.ts.
    const consumer = {
      compilerOptions: {
        module: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        types: ['node'],
        skipLibCheck: true,
      },
      include: [EXAMPLES],
    };
    writeFileSync(join(checkout, 'tsconfig.json'), JSON.stringify(consumer));
    const traced = await run('npx', ['tsc', '-p', join(checkout, 'tsconfig.json'), '--traceResolution'], {
      cwd: checkout,
      // The trace of every resolution (node's types included) runs past the default 1 MB.
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(traced.stdout).toContain(
      `Module name 'ledger-core/client' was successfully resolved to '${join(checkout, exported.types.slice(2))}'`,
    );
  }, 60_000);

  describe('docs/getting-started.md', () => {
    it('shows exactly the example program, step by step', () => {
      const shown = shownTypeScript('docs/getting-started.md');
      expect(shown.length).toBeGreaterThan(5);
      expect(`${shown.join('\n\n')}\n`).toBe(exampleFile('getting-started.ts'));
    });

    it('runs from zero to a refunded payment, the statement and a balanced trial balance', async () => {
      // ```sh blocks run, in order; ```shell blocks (install, build, start) are what this test did itself.
      const script = codeBlocks(join(root, 'docs/getting-started.md'))
        .filter((block) => block.language === 'sh')
        .map((block) => block.text)
        .join('\n');
      expect(script).toContain(`node ${EXAMPLES}/getting-started.ts`);
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

  describe('docs/authentication.md', () => {
    it('shows exactly the two Node examples', () => {
      expect(shownTypeScript('docs/authentication.md')).toEqual(
        ['client-basics.ts', 'sign-request.ts'].map((name) => exampleFile(name).replace(/\n$/, '')),
      );
    });

    it('runs them as an operator', async () => {
      const keyFile = join(checkout, 'keys', 'operator.pem');
      mkdirSync(join(checkout, 'keys'), { recursive: true });
      writeFileSync(keyFile, ledger.operator.privateKeyPem, { mode: 0o600 });
      const env = {
        ...process.env,
        LEDGER_URL: baseUrl,
        LEDGER_KEY_ID: ledger.operator.keyId,
        LEDGER_KEY_FILE: keyFile,
      };
      const basics = await run('node', [`${EXAMPLES}/client-basics.ts`], { cwd: checkout, env, timeout: 30_000 });
      expect(basics.stdout).toMatch(/^101[0-9]{13} 100\.00$/m);
      expect(basics.stdout).toMatch(/^400 invalid_amount /m);
      const signed = await run('node', [`${EXAMPLES}/sign-request.ts`], { cwd: checkout, env, timeout: 30_000 });
      expect(signed.stdout).toMatch(/^201 /);
      expect(signed.stdout).toContain("type: 'wallet'");
    }, 60_000);
  });
});

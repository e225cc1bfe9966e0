import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWallet, startTestLedger, type TestLedger, payerOf } from '../support/test-ledger.js';
import { codeBlocks } from './markdown-blocks.js';

const root = resolve(import.meta.dirname, '../..');
const SCRIPT = join(root, 'scripts/signed-curl.sh');

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** scripts/signed-curl.sh, the shell signer docs/authentication.md shows, against a listening server. */
describe('the shell signer', () => {
  let ledger: TestLedger;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ledger = await startTestLedger();
    const keyFile = join(mkdtempSync(join(tmpdir(), 'ledger-signer-')), 'operator.pem');
    writeFileSync(keyFile, ledger.operator.privateKeyPem, { mode: 0o600 });
    env = {
      ...process.env,
      LEDGER_URL: await ledger.app.listen({ host: '127.0.0.1', port: 0 }),
      LEDGER_KEY_ID: ledger.operator.keyId,
      LEDGER_KEY_FILE: keyFile,
    };
  });
  afterAll(async () => {
    await ledger.close();
  });

  function signedCurl(args: string[], extraEnv: Record<string, string> = {}): Promise<Outcome> {
    return new Promise((resolvePromise) => {
      execFile('sh', [SCRIPT, ...args], { env: { ...env, ...extraEnv } }, (error, stdout, stderr) =>
        resolvePromise({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('is the script docs/authentication.md shows', () => {
    const shown = codeBlocks(join(root, 'docs/authentication.md')).filter((block) =>
      block.text.startsWith('#!/bin/sh'),
    );
    expect(shown.map((block) => `${block.text}\n`)).toEqual([readFileSync(SCRIPT, 'utf8')]);
  });

  it('makes a money call: sends an Idempotency-Key, shows the status, and replays under the same key', async () => {
    const wallet = await openWallet(ledger.app, 'CNY');
    const body = JSON.stringify({
      accountId: wallet.accountId,
      amount: '7.00',
      currency: 'CNY',
      payer: await payerOf(ledger.app),
    });
    const first = await signedCurl(['POST', '/v1/recharges', body]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^HTTP 201$/m);
    const key = /^Idempotency-Key: (\S+)$/m.exec(first.stderr)?.[1];
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    const recharged = JSON.parse(first.stdout);
    expect(recharged).toMatchObject({ accountId: wallet.accountId, amount: '7.00', status: 'completed' });

    const retried = await signedCurl(['POST', '/v1/recharges', body], { LEDGER_IDEMPOTENCY_KEY: key! });
    expect(retried.stderr).toMatch(/^HTTP 201$/m);
    expect(JSON.parse(retried.stdout)).toEqual(recharged);
    const read = await signedCurl(['GET', `/v1/accounts/${wallet.accountId}?minPosition=${recharged.position}`]);
    expect(read.stderr).not.toContain('Idempotency-Key');
    expect(JSON.parse(read.stdout)).toMatchObject({ balance: '7.00' });
  });

  it('sends a path with [] and {} as it signed it: one request, not curl globbing into several', async () => {
    // No order number has these characters: the query's validation refuses it, which it does only once the
    // signature held. Globbed, curl sent `?merchantOrderNo=a` and `=b` instead: "HTTP 401401".
    for (const orderNo of ['{a,b}', '[1-2]']) {
      const refused = await signedCurl(['GET', `/v1/payments?merchantOrderNo=${orderNo}`]);
      expect(refused.stderr, orderNo).toMatch(/^HTTP 400$/m);
      expect(refused.code, orderNo).toBe(1);
      expect(JSON.parse(refused.stdout), orderNo).toMatchObject({ status: 400, code: 'validation_failed' });
    }
  });

  it('shows a refusal with its status and exits 1', async () => {
    const refused = await signedCurl(['GET', '/v1/accounts/1019999999999999']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^HTTP 404$/m);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 404 });
  });
});

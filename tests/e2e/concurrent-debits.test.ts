import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerClient, ProblemError } from '../../src/client/index.js';
import { createCaller, openWallet, startTestLedger, type TestLedger, payerOf } from '../support/test-ledger.js';
import type { PayerInstrument } from '../../src/domain/channels/payer-instrument.js';
import { startSimulatorProcess, type SimulatorProcess } from '../support/channel-simulator-process.js';
import { bindCardAtSimulatorProcess } from '../support/test-channels.js';

/**
 * DESIGN 3.2: an account never overdraws, under any concurrency, across any number of service instances.
 * 200 concurrent payments of 1.00 against a wallet holding 100.00 must succeed exactly 100 times: first in
 * one service, then with two service processes sharing the embedded store.
 */
const PAYMENTS = 200;
const FUNDS = '100.00';

interface Outcome {
  readonly status: number;
  readonly code: string | null;
}

function tally(outcomes: readonly Outcome[]) {
  return {
    paid: outcomes.filter((o) => o.status === 201).length,
    refused: outcomes.filter((o) => o.status === 422 && o.code === 'insufficient_funds').length,
    other: outcomes.filter((o) => o.status !== 201 && !(o.status === 422 && o.code === 'insufficient_funds')),
  };
}

describe('200 concurrent debits against funds for 100', () => {
  describe('one service', () => {
    let ledger: TestLedger;
    beforeAll(async () => {
      ledger = await startTestLedger();
    });
    afterAll(async () => {
      await ledger.close();
    });

    it('succeed exactly 100 times', async () => {
      const merchant = await createCaller(ledger.service, 'merchant', 'Hot shop');
      const wallet = await openWallet(ledger.app);
      const shop = (
        await ledger.inject({
          method: 'POST',
          url: '/v1/accounts',
          payload: { ownerId: merchant.entityId, type: 'merchant_settlement', currency: 'CNY' },
        })
      ).json();
      const funded = await ledger.inject({
        method: 'POST',
        url: '/v1/recharges',
        headers: { 'idempotency-key': randomUUID() },
        payload: { accountId: wallet.accountId, amount: FUNDS, currency: 'CNY', payer: await payerOf(ledger.app) },
      });
      expect(funded.statusCode).toBe(201);
      const responses = await Promise.all(
        Array.from({ length: PAYMENTS }, (_, i) =>
          // Posted by the platform's cashier (an operator), which collected each payer's consent itself.
          ledger.inject({
            method: 'POST',
            url: '/v1/payments',
            headers: { 'idempotency-key': `pay-${i}` },
            payload: {
              payerAccountId: wallet.accountId,
              payeeAccountId: shop.accountId,
              amount: '1.00',
              currency: 'CNY',
              merchantOrderNo: `hot-${i}`,
            },
          }),
        ),
      );
      const result = tally(
        responses.map((r) => ({ status: r.statusCode, code: r.statusCode === 201 ? null : (r.json().code as string) })),
      );
      expect(result.other).toEqual([]);
      expect(result.paid).toBe(100);
      expect(result.refused).toBe(100);
      const lastPosition = responses
        .filter((r) => r.statusCode === 201)
        .map((r) => BigInt(r.json().position))
        .reduce((a, b) => (a > b ? a : b));
      const after = await ledger.inject({
        method: 'GET',
        url: `/v1/accounts/${wallet.accountId}?minPosition=${lastPosition}`,
      });
      expect(after.json()).toMatchObject({ balance: '0.00', available: '0.00' });
    }, 60_000);
  });

  describe('two service processes sharing the embedded store', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-2proc-'));
    const processes: ChildProcess[] = [];
    let bank: SimulatorProcess;
    let payer: PayerInstrument;
    /** Per process: an operator client and a merchant client. */
    let servers: Array<{ operator: LedgerClient; merchant: LedgerClient }> = [];
    let merchantId = '';

    async function freePort(): Promise<number> {
      return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
        });
      });
    }

    async function waitReady(baseUrl: string): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        try {
          if ((await fetch(`${baseUrl}/health/ready`)).ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`${baseUrl} did not become ready`);
    }

    beforeAll(async () => {
      // The processes run the built service, exactly as `npm start` does.
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
      // Both processes charge at one channel simulator process, as two instances share a real bank.
      bank = await startSimulatorProcess(['--seed', 'ledger']);
      payer = { method: 'quick_pay', card: await bindCardAtSimulatorProcess(bank.url) };
      const env = {
        ...process.env,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        PREAUTH_EXPIRY_SWEEP_INTERVAL_MS: '0',
        CHANNELS_URL: bank.url,
      };
      const cli = (name: string, keyOut: string) =>
        execFileSync('node', ['dist/scripts/cli.js', 'admin', 'create-merchant', '--name', name, '--key-out', keyOut], {
          env,
          encoding: 'utf8',
        });
      const operatorOut = execFileSync(
        'node',
        ['dist/scripts/cli.js', 'admin', 'create-operator', '--name', 'ops', '--key-out', join(dataDir, 'op.pem')],
        { env, encoding: 'utf8' },
      );
      const merchantOut = cli('Shared shop', join(dataDir, 'm.pem'));
      const keyIdOf = (out: string) => /key id:\s+(\S+)/.exec(out)![1]!;
      const ports = [await freePort(), await freePort()];
      for (const port of ports) {
        const child = spawn('node', ['dist/scripts/cli.js', 'serve'], {
          env: { ...env, PORT: String(port) },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        processes.push(child);
      }
      await Promise.all(ports.map((port) => waitReady(`http://127.0.0.1:${port}`)));
      const operator = { keyId: keyIdOf(operatorOut), privateKeyPem: readFileSync(join(dataDir, 'op.pem'), 'utf8') };
      const merchant = { keyId: keyIdOf(merchantOut), privateKeyPem: readFileSync(join(dataDir, 'm.pem'), 'utf8') };
      merchantId = merchant.keyId.split('/')[0]!;
      servers = ports.map((port) => ({
        operator: new LedgerClient({ baseUrl: `http://127.0.0.1:${port}`, ...operator }),
        merchant: new LedgerClient({ baseUrl: `http://127.0.0.1:${port}`, ...merchant }),
      }));
    }, 120_000);

    afterAll(async () => {
      await Promise.all(
        processes.map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
      await bank.stop();
    });

    it('succeed exactly 100 times, split across both processes', async () => {
      const operator = servers[0]!.operator;
      const user = await operator.registerEntity(
        { kind: 'user', displayName: 'Shared' },
        { idempotencyKey: randomUUID() },
      );
      const wallet = await operator.openAccount(
        { ownerId: String(user['entityId']), type: 'wallet', currency: 'CNY' },
        { idempotencyKey: randomUUID() },
      );
      const shop = await operator.openAccount(
        { ownerId: merchantId, type: 'merchant_settlement', currency: 'CNY' },
        { idempotencyKey: randomUUID() },
      );
      await operator.recharge(
        { accountId: wallet.accountId, amount: FUNDS, currency: 'CNY', payer },
        { idempotencyKey: randomUUID() },
      );

      const outcomes = await Promise.all(
        Array.from({ length: PAYMENTS }, async (_, i): Promise<Outcome & { position?: string }> => {
          // Posted by the platform's cashier (an operator), which collected each payer's consent itself.
          const client = servers[i % 2]!.operator;
          // The client retries "try again" answers (409 concurrent_modification, 503) under the same
          // Idempotency-Key, a bounded number of times; what is left is the command's answer.
          try {
            const paid = await client.pay(
              {
                payerAccountId: wallet.accountId,
                payeeAccountId: shop.accountId,
                amount: '1.00',
                currency: 'CNY',
                merchantOrderNo: `shared-${i}`,
              },
              { idempotencyKey: `shared-pay-${i}` },
            );
            return { status: 201, code: null, ...(paid.position !== undefined ? { position: paid.position } : {}) };
          } catch (error) {
            if (!(error instanceof ProblemError)) throw error;
            return { status: error.status, code: error.code };
          }
        }),
      );
      const result = tally(outcomes);
      expect(result.other).toEqual([]);
      expect(result.paid).toBe(100);
      expect(result.refused).toBe(100);

      const lastPosition = outcomes
        .map((o) => (o.position ? BigInt(o.position) : 0n))
        .reduce((a, b) => (a > b ? a : b));
      // Both processes' read models agree, once they have applied the last payment.
      // The client retries 503 read_model_behind (the read model still catching up on a loaded machine).
      const readBack = (reader: LedgerClient, accountId: string) =>
        reader.getAccount(accountId, { minPosition: lastPosition.toString() });
      for (const { operator: reader } of servers) {
        const payer = await readBack(reader, wallet.accountId);
        const payee = await readBack(reader, shop.accountId);
        expect(payer).toMatchObject({ balance: '0.00', available: '0.00' });
        expect(payee).toMatchObject({ balance: '100.00' });
      }
    }, 120_000);
  });
});

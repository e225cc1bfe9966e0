import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWallet, recharge, startTestLedger } from '../support/test-ledger.js';

/**
 * A partially applied batch retried by its key after a restart, once the refused item could pass: the
 * one-commit path decides on the batch's stream as new without reading it (nothing cached after the
 * restart), decides the batch afresh, and its append meets an event id the log already holds. That must
 * be read as the conflict it is (load, find the recorded batch, answer it), not answered 500: found by
 * the crash soak (`npm run soak -- --kills 20`).
 */
describe('transfer batch: a retry after a restart answers the recorded batch', () => {
  it('replays a partially applied batch whose refused item would pass now', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-batch-replay-'));
    let ledger = await startTestLedger(dataDir);
    const operator = ledger.operator;
    const a = (await openWallet(ledger.app)).accountId;
    const b = (await openWallet(ledger.app)).accountId;
    expect((await recharge(ledger.app, b, '100.00')).statusCode).toBe(201);
    const item = (from: string, to: string, amount: string) => ({
      fromAccountId: from,
      toAccountId: to,
      amount,
      currency: 'CNY',
    });
    const payload = { mode: 'independent', items: [item(a, b, '20.01'), item(b, a, '34.07')] };
    const key = randomUUID();
    const post = () =>
      ledger.inject(
        { method: 'POST', url: '/v1/transfer-batches', payload, headers: { 'idempotency-key': key } },
        operator,
      );
    const first = await post();
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ status: 'partially_applied', appliedCount: 1 });
    await ledger.close();
    ledger = await startTestLedger(dataDir);
    try {
      const again = await post();
      expect(again.statusCode, again.body).toBe(201);
      expect(again.json()).toEqual(first.json());
      const balance = await ledger.inject({ method: 'GET', url: `/v1/accounts/${a}` }, operator);
      expect(balance.json<{ balance: string }>().balance).toBe('34.07');
    } finally {
      await ledger.close();
    }
  });
});

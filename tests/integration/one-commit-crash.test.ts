import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { EVENTS_FILE } from '../../src/adapters/storage.js';
import { runAndKill, wholeLog } from '../support/killed-child.js';

/**
 * kill -9 of a process taking payments in one commit each, at a random moment: every payment in the
 * store is whole (initiated, debited, credited, completed, its key's claim and answer), none is half
 * there, and every payment the process acknowledged is among them.
 */
const ACKS_BEFORE_KILL = [5, 40];

async function runPaymentsAndKill(acksBeforeKill: number): Promise<{ dataDir: string; acked: Set<string> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-one-commit-crash-'));
  const acked = await runAndKill(join(import.meta.dirname, 'one-commit-crash-child.ts'), [dataDir], acksBeforeKill);
  return { dataDir, acked };
}

describe('one commit per payment under kill -9', () => {
  for (const acks of ACKS_BEFORE_KILL) {
    it(`leaves no half payment, and loses none acknowledged (killed after ${acks})`, async () => {
      const { dataDir, acked } = await runPaymentsAndKill(acks);
      const store = new SqliteEventStore(join(dataDir, EVENTS_FILE));
      try {
        const events = await wholeLog(store);
        const byStream = new Map<string, string[]>();
        for (const e of events) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.type]);
        const payments = [...byStream].filter(([id]) => id.startsWith('payment-'));
        expect(payments.length).toBeGreaterThanOrEqual(acked.size);
        for (const [, types] of payments) expect(types).toEqual(['PaymentInitiated', 'PaymentCompleted']);
        const legs = (type: string) =>
          events.filter((e) => e.type === type && e.data['kind'] === 'payment').map((e) => e.data['operationId']);
        const paymentIds = payments.map(([id]) => id.slice('payment-'.length)).sort();
        expect(legs('FundsDebited').sort()).toEqual(paymentIds);
        expect(legs('FundsCredited').sort()).toEqual(paymentIds);
        for (const paymentId of acked) expect(paymentIds).toContain(paymentId);
        // Every key's claim is answered: none is left claimed with its operation half done.
        for (const [id, types] of byStream) {
          if (id.startsWith('idempotency-')) expect(types.at(-1)).toBe('IdempotentResponseRecorded');
        }
      } finally {
        await store.close();
      }
    }, 60_000);
  }
});

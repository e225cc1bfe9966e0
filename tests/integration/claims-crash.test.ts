import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAndKill, wholeLog } from '../support/killed-child.js';
import { signedInject, startTestLedger, type Credentials, type SignedInjectOptions } from '../support/test-ledger.js';

/**
 * kill -9 of a service process with transfers in flight, some of them claimed and unanswered (their money
 * moved, their answer's write stalled when the kill came). The service restarted on the same storage is a
 * new instance; the dead one's claims name an instance whose process is gone (its OS lock is free), so
 * every retry is taken over and answered AT ONCE (not 409 in progress for the claim's 30 s lease), each
 * transfer moves its money exactly once, and each answer is what the ledger holds.
 */
const ACKS_BEFORE_KILL = 10;

describe('retries after a kill -9 of the instance that claimed them', () => {
  it('are answered at once, and each transfer moved the money once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-claims-crash-'));
    const acked = await runAndKill(join(import.meta.dirname, 'claims-crash-child.ts'), [dataDir], ACKS_BEFORE_KILL);
    const sent = readFileSync(join(dataDir, 'sent.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as SignedInjectOptions & { headers: { 'idempotency-key': string } });
    const caller = JSON.parse(readFileSync(join(dataDir, 'caller.json'), 'utf8'));
    const as: Credentials = { ...caller, privateKey: createPrivateKey(caller.pem), privateKeyPem: caller.pem };

    const ledger = await startTestLedger(dataDir, { RECOVERY_SWEEP_INTERVAL_MS: '0' });
    try {
      const log = await wholeLog(ledger.service.eventStore);
      const answeredStreams = new Set(
        log.filter((e) => e.type === 'IdempotentResponseRecorded').map((e) => e.streamId),
      );
      const unanswered = sent.filter(
        (request) =>
          !answeredStreams.has(
            ledger.service.idempotency.streamIdOf({
              scope: as.entityId,
              key: request.headers['idempotency-key'],
              fingerprint: '',
            }),
          ),
      );
      // The stalled answers at least: claims the dead instance held when it was killed.
      expect(unanswered.length).toBeGreaterThanOrEqual(2);

      const transferIds = new Map<string, string>();
      for (const request of sent) {
        const retry = await signedInject(ledger.app, request, as);
        // At once: no claim of the dead instance makes the retry wait for its lease.
        expect(retry.statusCode, retry.body).toBe(201);
        expect(retry.json()).toMatchObject({ status: 'completed', amount: '1.00' });
        transferIds.set(request.headers['idempotency-key'], retry.json().transferId);
      }
      for (const key of acked) expect(transferIds.has(key)).toBe(true);

      // Exactly once: one debit and one credit per transfer, none without its request.
      const after = await wholeLog(ledger.service.eventStore);
      const movements = (type: string) =>
        after
          .filter((e) => e.type === type && e.data['kind'] === 'transfer')
          .map((e) => e.data['operationId'] as string)
          .sort();
      const expected = [...transferIds.values()].sort();
      expect(movements('FundsDebited')).toEqual(expected);
      expect(movements('FundsCredited')).toEqual(expected);
    } finally {
      await ledger.close();
    }
  }, 90_000);
});

import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildHttpServer } from '../../src/adapters/http/server.js';
import { IdempotencyKeeper } from '../../src/commands/idempotency.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { openWallet, recharge, signedInject, startTestLedger } from '../support/test-ledger.js';

/**
 * Child process of claims-crash.test.ts: a ledger over DATA_DIR (argv[2]) taking transfers under
 * Idempotency-Keys, TRANSFERS_IN_FLIGHT at a time, as the per-stream process (claim, effect, answer in
 * separate commits). Every HUNG_EVERY-th transfer does all its work and then its answer's write stalls
 * (a stalled disk), so at the kill some claims are certainly unanswered with their money moved; the
 * others are wherever the kill finds them. Writes its operator's credentials to `caller.json` and every
 * request to `sent.jsonl` before sending it; prints "ack <key>" for every transfer answered 201.
 */
const TRANSFERS_IN_FLIGHT = 6;
const HUNG_EVERY = 4;
const dataDir = process.argv[2] ?? '';
if (dataDir === '') throw new Error('usage: <dataDir>');
const ledger = await startTestLedger(dataDir);
const { service } = ledger;
writeFileSync(
  join(dataDir, 'caller.json'),
  JSON.stringify({
    entityId: ledger.operator.entityId,
    keyId: ledger.operator.keyId,
    pem: ledger.operator.privateKeyPem,
  }),
);
const from = (await openWallet(ledger.app)).accountId;
const to = (await openWallet(ledger.app)).accountId;
const funded = await recharge(ledger.app, from, '1000.00');
if (funded.statusCode !== 201) throw new Error(`recharge: ${funded.statusCode} ${funded.body}`);

let answers = 0;
const stalling: EventStore = new Proxy(service.eventStore, {
  get(target, property, receiver) {
    // No multi-stream append: the claim, the effect and the answer are separate commits.
    if (property === 'appendToStreams') return undefined;
    if (property === 'appendToStream') {
      return (...args: Parameters<EventStore['appendToStream']>) => {
        const isAnswer = args[1].some((event) => event.type === 'IdempotentResponseRecorded');
        if (isAnswer && (answers += 1) % HUNG_EVERY === 0) return new Promise(() => {});
        return target.appendToStream(...args);
      };
    }
    return Reflect.get(target, property, receiver);
  },
});
// This process's own instance (its heartbeat and OS lock) owns the claims.
const app = await buildHttpServer({
  ...service,
  idempotency: new IdempotencyKeeper(stalling, service.clock, { owners: service.instance }),
});
console.log('ready');

async function transferForever(): Promise<never> {
  for (;;) {
    const key = randomUUID();
    const request = {
      method: 'POST' as const,
      url: '/v1/transfers',
      headers: { 'idempotency-key': key },
      payload: { fromAccountId: from, toAccountId: to, amount: '1.00', currency: 'CNY' },
    };
    appendFileSync(join(dataDir, 'sent.jsonl'), `${JSON.stringify(request)}\n`);
    const response = await signedInject(app, request, ledger.operator);
    if (response.statusCode !== 201) throw new Error(`transfer: ${response.statusCode} ${response.body}`);
    console.log(`ack ${key}`);
  }
}
await Promise.all(Array.from({ length: TRANSFERS_IN_FLIGHT }, transferForever));

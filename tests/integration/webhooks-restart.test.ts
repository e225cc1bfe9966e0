import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { WebhookOutboxSubscription } from '../../src/adapters/webhooks/outbox-subscription.js';
import type { NewOutboxMessage, WebhookOutboxStore } from '../../src/ports/webhook-outbox.js';
import { SqliteWebhookOutbox } from '../../src/adapters/sqlite/sqlite-webhook-outbox.js';
import { startTestLedger } from '../support/test-ledger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { payingMerchant, registerEndpoint, RESTART_TEST_ENV, WEBHOOK_TEST_ENV } from '../support/webhook-fixture.js';

/** Every message at least once, whatever happens to the service between making it and delivering it. */
describe('webhooks across a restart', () => {
  it('delivers every acknowledged payment after kill -9 mid-delivery and a new start', async () => {
    const receiver = await WebhookReceiver.start();
    // The first process's deliveries never get an answer: it dies with them in flight, claimed.
    receiver.answer = () => 'hang';
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-webhooks-restart-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        join(import.meta.dirname, '../support/typescript-hooks.ts'),
        join(import.meta.dirname, 'webhooks-restart-child.ts'),
        dataDir,
        receiver.url,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const paid = new Set<string>();
    let secret = '';
    let inFlightAtKill = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('endpoint ')) secret = line.split(' ')[2]!;
      if (line.startsWith('paid ')) paid.add(line.slice(5));
      if (paid.size >= 20 && receiver.received.length >= 3 && child.exitCode === null && inFlightAtKill === 0) {
        inFlightAtKill = receiver.inFlight;
        child.kill('SIGKILL');
      }
    }
    expect(await exited).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);

    receiver.answer = () => ({ status: 200 });
    const ledger = await startTestLedger(dataDir, RESTART_TEST_ENV);
    try {
      // The claims of the dead process expire (2 x timeout + 5 s), then its messages go out again.
      await receiver.waitFor((all) => {
        const verified = new Set(
          all.flatMap((r) => {
            try {
              return [(WebhookReceiver.verify(r, secret) as { data: { paymentId: string } }).data.paymentId];
            } catch {
              return [];
            }
          }),
        );
        return [...paid].every((id) => verified.has(id));
      }, 30_000);
      // One message per completed payment in the outbox (none lost, none made twice), all delivered in the end.
      const completed = await countEvents(ledger.service.eventStore, 'PaymentCompleted');
      expect(completed).toBeGreaterThanOrEqual(paid.size);
      const endpointId = (await ledger.service.readModels.find('webhook_endpoints', { limit: 10 })).items[0]!.id;
      await expect
        .poll(
          async () =>
            (await ledger.service.webhookOutbox.listMessages(endpointId, { limit: 1_000, direction: 'asc' })).items.map(
              (m) => m.state,
            ),
          { timeout: 15_000 },
        )
        .toEqual(Array.from({ length: completed }, () => 'delivered'));
    } finally {
      await ledger.close();
      await receiver.close();
    }
  }, 90_000);

  it('a subscription killed between pages resumes from its checkpoint: every message once in the outbox', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-webhooks-subscription-'));
    const receiver = await WebhookReceiver.start();
    // No background subscription or dispatcher: the test runs the subscription itself.
    const ledger = await startTestLedger(dataDir, { ...WEBHOOK_TEST_ENV, WEBHOOK_POLL_INTERVAL_MS: '0' });
    try {
      const shop = await payingMerchant(ledger);
      await registerEndpoint(ledger, shop.merchant, { url: receiver.url });
      for (let i = 0; i < 6; i += 1) await shop.pay(`SUB-${i}`, '1.00');
      const outboxFile = join(dataDir, 'subscription-outbox.sqlite');
      // Dies on its third page: two pages stored with their checkpoint, the third not at all.
      const dying = new DyingOutbox(new SqliteWebhookOutbox(outboxFile), 3);
      await expect(new WebhookOutboxSubscription(ledger.service.eventStore, dying, 2).catchUp()).rejects.toThrow(
        'killed',
      );
      await dying.close();
      const reopened = new SqliteWebhookOutbox(outboxFile);
      // Pages of another size after the restart: the checkpoint, not the page, says where to go on.
      await new WebhookOutboxSubscription(ledger.service.eventStore, reopened, 3).catchUp();
      const endpointId = (await ledger.service.readModels.find('webhook_endpoints', { limit: 10 })).items[0]!.id;
      const messages = (await reopened.listMessages(endpointId, { limit: 1_000, direction: 'asc' })).items;
      // 6 payments, each created and succeeded.
      expect(messages).toHaveLength(12);
      expect(new Set(messages.map((m) => m.eventId)).size).toBe(12);
      await new WebhookOutboxSubscription(ledger.service.eventStore, reopened, 500).catchUp();
      expect((await reopened.listMessages(endpointId, { limit: 1_000, direction: 'asc' })).items).toHaveLength(12);
      await reopened.close();
    } finally {
      await ledger.close();
      await receiver.close();
    }
  });
});

async function countEvents(store: SqliteEventStore | { readAll: SqliteEventStore['readAll'] }, type: string) {
  let count = 0;
  for (let after: bigint | 'start' = 'start'; ;) {
    const page = await store.readAll({ after, maxCount: 1_000, filter: { eventTypes: [type] } });
    if (page.length === 0) return count;
    count += page.length;
    after = page.at(-1)!.position;
  }
}

/** An outbox whose process dies at its n-th enqueue, before anything of it is stored. */
class DyingOutbox implements WebhookOutboxStore {
  readonly engine = 'sqlite' as const;
  private enqueues = 0;
  constructor(
    private readonly inner: WebhookOutboxStore,
    private readonly dieAt: number,
  ) {}
  async enqueue(messages: readonly NewOutboxMessage[], checkpoint: bigint) {
    this.enqueues += 1;
    if (this.enqueues === this.dieAt) throw new Error('killed');
    return this.inner.enqueue(messages, checkpoint);
  }
  getCheckpoint = () => this.inner.getCheckpoint();
  dueMessages: WebhookOutboxStore['dueMessages'] = (...a) => this.inner.dueMessages(...a);
  claim: WebhookOutboxStore['claim'] = (...a) => this.inner.claim(...a);
  settle: WebhookOutboxStore['settle'] = (...a) => this.inner.settle(...a);
  getMessage: WebhookOutboxStore['getMessage'] = (...a) => this.inner.getMessage(...a);
  listMessages: WebhookOutboxStore['listMessages'] = (...a) => this.inner.listMessages(...a);
  listAttempts: WebhookOutboxStore['listAttempts'] = (...a) => this.inner.listAttempts(...a);
  redeliver: WebhookOutboxStore['redeliver'] = (...a) => this.inner.redeliver(...a);
  close = () => this.inner.close();
}

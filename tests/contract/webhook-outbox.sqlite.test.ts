import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteWebhookOutbox } from '../../src/adapters/sqlite/sqlite-webhook-outbox.js';
import { webhookOutboxContract } from './webhook-outbox.contract.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'ledger-outbox-')), 'webhook-outbox.sqlite');

webhookOutboxContract('sqlite (embedded)', async () => new SqliteWebhookOutbox(freshFile()));

describe('sqlite webhook outbox', () => {
  it('shares one file between processes: a claim through one handle holds against another, and survives a reopen', async () => {
    const file = freshFile();
    const [a, b] = [new SqliteWebhookOutbox(file), new SqliteWebhookOutbox(file)];
    const T0 = Date.now();
    await a.enqueue(
      [
        {
          messageId: 'msg_00000000-0000-4000-8000-000000000001',
          endpointId: 'e',
          merchantId: 'm',
          eventId: 'ev',
          position: 1n,
          webhookType: 'payment.succeeded',
          payload: '{}',
          createdAtMs: T0,
        },
      ],
      1n,
    );
    expect(await a.claim(['msg_00000000-0000-4000-8000-000000000001'], T0, T0 + 1_000)).toHaveLength(1);
    expect(await b.claim(['msg_00000000-0000-4000-8000-000000000001'], T0, T0 + 1_000)).toEqual([]);
    await Promise.all([a.close(), b.close()]);
    const reopened = new SqliteWebhookOutbox(file);
    expect(await reopened.getCheckpoint()).toBe(1n);
    expect(await reopened.claim(['msg_00000000-0000-4000-8000-000000000001'], T0 + 1_000, T0 + 2_000)).toHaveLength(1);
    await reopened.close();
  });
});

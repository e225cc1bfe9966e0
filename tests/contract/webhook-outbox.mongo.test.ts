import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { MongoWebhookOutbox } from '../../src/adapters/mongo/mongo-webhook-outbox.js';
import { webhookOutboxContract } from './webhook-outbox.contract.js';

/**
 * The webhook outbox contract against MongoDB (a replica set: enqueue and settle are transactions). Runs
 * when MONGODB_URL is set, each run in a database of its own; otherwise reported as skipped, without
 * connecting.
 */
const url = process.env['MONGODB_URL'];

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  webhookOutboxContract('mongo', () => MongoWebhookOutbox.connect(url!, `ledger_outbox_${randomUUID().slice(0, 8)}`));
});

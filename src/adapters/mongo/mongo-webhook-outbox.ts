import { randomUUID } from 'node:crypto';
import { MongoClient, type ClientSession, type Collection, type Db, type Filter } from 'mongodb';
import {
  attemptKey,
  checkOutboxBatch,
  checkOutboxPage,
  decodeOutboxCursor,
  outboxPageOf,
  MAX_OUTBOX_ENQUEUE,
  MAX_OUTBOX_PAGE,
  type ClaimedMessage,
  type DeliveryAttempt,
  type ClaimSettlement,
  type NewOutboxMessage,
  type OutboxMessage,
  type OutboxPage,
  type OutboxPageQuery,
  type WebhookOutboxStore,
} from '../../ports/webhook-outbox.js';
import { positionKey } from '../../projections/read-model-keys.js';
import { databaseNameOf, DURABLE_TRANSACTION_OPTIONS, durableCollection } from './mongo-concerns.js';

export const WEBHOOK_MESSAGES_COLLECTION = 'webhook_messages';
export const WEBHOOK_ATTEMPTS_COLLECTION = 'webhook_attempts';
export const WEBHOOK_CHECKPOINT_COLLECTION = 'webhook_outbox_checkpoint';
const DEFAULT_DATABASE_NAME = 'ledger';
const SERVER_SELECTION_TIMEOUT_MS = 3_000;

interface MessageRecord extends Omit<OutboxMessage, 'messageId' | 'position'> {
  _id: string;
  position: string;
  sortKey: string;
  claimToken: string | null;
  claimExpiresAtMs: number;
}

interface AttemptRecord extends Omit<DeliveryAttempt, 'attemptId'> {
  _id: string;
  sortKey: string;
}

function toMessage(record: MessageRecord): OutboxMessage {
  const { _id, position, sortKey: _sortKey, claimToken: _token, claimExpiresAtMs: _until, ...rest } = record;
  return { ...rest, messageId: _id, position: BigInt(position) };
}

function toAttempt(record: AttemptRecord): DeliveryAttempt {
  const { _id, sortKey: _sortKey, ...rest } = record;
  return { ...rest, attemptId: _id };
}

/**
 * The webhook outbox on MongoDB, shared by every instance, with the ledger's durable concerns (majority,
 * journaled; mongo-concerns.ts). `enqueue` is one transaction (messages inserted with $setOnInsert, the
 * checkpoint moved with $max on a fixed-width position string), as is `settle`; a claim is one conditional
 * findOneAndUpdate, atomic on the document. Transactions need a replica set (as the read models do).
 */
export class MongoWebhookOutbox implements WebhookOutboxStore {
  readonly engine = 'mongo' as const;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  static async connect(url: string, databaseName?: string): Promise<MongoWebhookOutbox> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
    try {
      await client.connect();
      const db = client.db(databaseName ?? databaseNameOf(url) ?? DEFAULT_DATABASE_NAME);
      const outbox = new MongoWebhookOutbox(client, db);
      await outbox.messages().createIndexes([
        { key: { state: 1, nextAttemptAtMs: 1 }, name: 'due' },
        { key: { endpointId: 1, sortKey: 1 }, name: 'endpoint_sortKey' },
      ]);
      await outbox.attempts().createIndexes([
        { key: { endpointId: 1, sortKey: 1 }, name: 'endpoint_sortKey' },
        { key: { messageId: 1, sortKey: 1 }, name: 'message_sortKey' },
      ]);
      return outbox;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  private messages(): Collection<MessageRecord> {
    return durableCollection<MessageRecord>(this.db, WEBHOOK_MESSAGES_COLLECTION);
  }

  private attempts(): Collection<AttemptRecord> {
    return durableCollection<AttemptRecord>(this.db, WEBHOOK_ATTEMPTS_COLLECTION);
  }

  private checkpoints(): Collection<{ _id: string; position: string }> {
    return durableCollection<{ _id: string; position: string }>(this.db, WEBHOOK_CHECKPOINT_COLLECTION);
  }

  private async inTransaction<T>(work: (session: ClientSession) => Promise<T>): Promise<T> {
    const session = this.client.startSession();
    try {
      // withTransaction runs the callback again on transient errors: every write in it is idempotent.
      return await session.withTransaction(work, DURABLE_TRANSACTION_OPTIONS);
    } finally {
      await session.endSession();
    }
  }

  async getCheckpoint(): Promise<bigint | 'start'> {
    const doc = await this.checkpoints().findOne({ _id: 'outbox' });
    return doc ? BigInt(doc.position) : 'start';
  }

  async enqueue(messages: readonly NewOutboxMessage[], checkpoint: bigint): Promise<void> {
    if (messages.length > MAX_OUTBOX_ENQUEUE) throw new RangeError(`at most ${MAX_OUTBOX_ENQUEUE} messages at once`);
    await this.inTransaction(async (session) => {
      if (messages.length > 0)
        await this.messages().bulkWrite(
          messages.map(({ messageId, position, ...m }) => ({
            updateOne: {
              filter: { _id: messageId },
              update: {
                $setOnInsert: {
                  ...m,
                  position: positionKey(position),
                  sortKey: `${positionKey(position)}|${messageId}`,
                  state: 'pending' as const,
                  attempts: 0,
                  totalAttempts: 0,
                  nextAttemptAtMs: m.createdAtMs,
                  lastStatusCode: null,
                  lastError: null,
                  updatedAtMs: m.createdAtMs,
                  claimToken: null,
                  claimExpiresAtMs: 0,
                },
              },
              upsert: true,
            },
          })),
          { session, ordered: false },
        );
      await this.checkpoints().updateOne(
        { _id: 'outbox' },
        { $max: { position: positionKey(checkpoint) } },
        { upsert: true, session },
      );
    });
  }

  private dueFilter(nowMs: number): Filter<MessageRecord> {
    return { state: 'pending', nextAttemptAtMs: { $lte: nowMs }, claimExpiresAtMs: { $lte: nowMs } };
  }

  async dueMessages(nowMs: number, limit: number, excludeEndpoints: readonly string[] = []): Promise<OutboxMessage[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OUTBOX_PAGE) throw new RangeError('bad limit');
    checkOutboxBatch(excludeEndpoints.length);
    const filter: Filter<MessageRecord> = {
      ...this.dueFilter(nowMs),
      ...(excludeEndpoints.length > 0 ? { endpointId: { $nin: [...excludeEndpoints] } } : {}),
    };
    const records = await this.messages()
      .find(filter, { sort: { nextAttemptAtMs: 1, _id: 1 }, limit })
      .toArray();
    return records.map(toMessage);
  }

  async claim(messageIds: readonly string[], nowMs: number, untilMs: number): Promise<ClaimedMessage[]> {
    if (!(untilMs > nowMs)) throw new RangeError('a claim ends after it starts');
    checkOutboxBatch(messageIds.length);
    // Each claim is atomic on its document; they go to the server together.
    const claimed = await Promise.all(
      messageIds.map(async (messageId) => {
        const claimToken = randomUUID();
        const record = await this.messages().findOneAndUpdate(
          { _id: messageId, ...this.dueFilter(nowMs) },
          { $set: { claimToken, claimExpiresAtMs: untilMs } },
          { returnDocument: 'after' },
        );
        return record ? [{ ...toMessage(record), claimToken }] : [];
      }),
    );
    return claimed.flat();
  }

  async settle(settlements: readonly ClaimSettlement[]): Promise<boolean[]> {
    checkOutboxBatch(settlements.length);
    return this.inTransaction(async (session) => {
      const held: boolean[] = [];
      for (const s of settlements) {
        if (s.attempt) {
          const { attemptId, ...attempt } = s.attempt;
          await this.attempts().updateOne(
            { _id: attemptId },
            { $setOnInsert: { ...attempt, sortKey: attemptKey(attempt.startedAtMs, attemptId) } },
            { upsert: true, session },
          );
        }
        const counted = s.attempt ? 1 : 0;
        const result = await this.messages().updateOne(
          { _id: s.messageId, claimToken: s.claimToken },
          {
            $set: {
              state: s.state,
              nextAttemptAtMs: s.nextAttemptAtMs,
              updatedAtMs: s.nowMs,
              claimToken: null,
              claimExpiresAtMs: 0,
              ...(s.attempt ? { lastStatusCode: s.attempt.statusCode, lastError: s.attempt.error } : {}),
            },
            $inc: { attempts: counted, totalAttempts: counted },
          },
          { session },
        );
        held.push(result.matchedCount === 1);
      }
      return held;
    });
  }

  async getMessage(messageId: string): Promise<OutboxMessage | null> {
    const record = await this.messages().findOne({ _id: messageId });
    return record ? toMessage(record) : null;
  }

  async listMessages(endpointId: string, query: OutboxPageQuery): Promise<OutboxPage<OutboxMessage>> {
    checkOutboxPage(query);
    const records = await this.messages()
      .find({ endpointId, ...this.after(query) }, { sort: { sortKey: query.direction === 'asc' ? 1 : -1 } })
      .limit(query.limit + 1)
      .toArray();
    return outboxPageOf(records, query.limit, (r) => r.sortKey, toMessage);
  }

  async listAttempts(
    endpointId: string,
    query: OutboxPageQuery & { readonly messageId?: string },
  ): Promise<OutboxPage<DeliveryAttempt>> {
    checkOutboxPage(query);
    const records = await this.attempts()
      .find(
        { endpointId, ...(query.messageId === undefined ? {} : { messageId: query.messageId }), ...this.after(query) },
        { sort: { sortKey: query.direction === 'asc' ? 1 : -1 } },
      )
      .limit(query.limit + 1)
      .toArray();
    return outboxPageOf(records, query.limit, (r) => r.sortKey, toAttempt);
  }

  private after(query: OutboxPageQuery): { sortKey?: { $gt: string } | { $lt: string } } {
    if (query.after === undefined) return {};
    const key = decodeOutboxCursor(query.after);
    return { sortKey: query.direction === 'asc' ? { $gt: key } : { $lt: key } };
  }

  async redeliver(messageId: string, nowMs: number): Promise<OutboxMessage | null> {
    const record = await this.messages().findOneAndUpdate(
      { _id: messageId },
      {
        $set: {
          state: 'pending',
          attempts: 0,
          nextAttemptAtMs: nowMs,
          updatedAtMs: nowMs,
          claimToken: null,
          claimExpiresAtMs: 0,
        },
      },
      { returnDocument: 'after' },
    );
    return record ? toMessage(record) : null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

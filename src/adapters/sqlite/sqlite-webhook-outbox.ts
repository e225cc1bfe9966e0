import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
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
import { openSqliteDatabase } from './open-database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_messages (
  message_id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  position TEXT NOT NULL,
  webhook_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  total_attempts INTEGER NOT NULL,
  next_attempt_at_ms INTEGER,
  last_status_code INTEGER,
  last_error TEXT,
  updated_at_ms INTEGER NOT NULL,
  claim_token TEXT,
  claim_expires_at_ms INTEGER NOT NULL DEFAULT 0,
  sort_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_messages_due ON webhook_messages (state, next_attempt_at_ms);
CREATE INDEX IF NOT EXISTS webhook_messages_endpoint ON webhook_messages (endpoint_id, sort_key);
CREATE TABLE IF NOT EXISTS webhook_attempts (
  attempt_id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  attempt_no INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  outcome TEXT NOT NULL,
  next_attempt_at_ms INTEGER,
  sort_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_attempts_endpoint ON webhook_attempts (endpoint_id, sort_key);
CREATE INDEX IF NOT EXISTS webhook_attempts_message ON webhook_attempts (message_id, sort_key);
CREATE TABLE IF NOT EXISTS webhook_outbox_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  position TEXT NOT NULL
);
`;

interface MessageRow {
  message_id: string;
  endpoint_id: string;
  merchant_id: string;
  event_id: string;
  position: string;
  webhook_type: string;
  payload: string;
  created_at_ms: number;
  state: OutboxMessage['state'];
  attempts: number;
  total_attempts: number;
  next_attempt_at_ms: number | null;
  last_status_code: number | null;
  last_error: string | null;
  updated_at_ms: number;
  claim_token: string | null;
  sort_key: string;
}

interface AttemptRow {
  attempt_id: string;
  message_id: string;
  endpoint_id: string;
  attempt_no: number;
  started_at_ms: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  outcome: DeliveryAttempt['outcome'];
  next_attempt_at_ms: number | null;
  sort_key: string;
}

function toMessage(row: MessageRow): OutboxMessage {
  return {
    messageId: row.message_id,
    endpointId: row.endpoint_id,
    merchantId: row.merchant_id,
    eventId: row.event_id,
    position: BigInt(row.position),
    webhookType: row.webhook_type,
    payload: row.payload,
    createdAtMs: row.created_at_ms,
    state: row.state,
    attempts: row.attempts,
    totalAttempts: row.total_attempts,
    nextAttemptAtMs: row.next_attempt_at_ms,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    updatedAtMs: row.updated_at_ms,
  };
}

function toAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    attemptId: row.attempt_id,
    messageId: row.message_id,
    endpointId: row.endpoint_id,
    attemptNo: row.attempt_no,
    startedAtMs: row.started_at_ms,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    error: row.error,
    outcome: row.outcome,
    nextAttemptAtMs: row.next_attempt_at_ms,
  };
}

/**
 * The webhook outbox in its own SQLite file under DATA_DIR (WAL, synchronous=FULL: an enqueued message
 * and its checkpoint are on disk before the subscription moves on; a settled attempt survives a power
 * cut). Several processes may share the file: a claim is one conditional UPDATE, which SQLite's write lock
 * makes atomic across them.
 */
export class SqliteWebhookOutbox implements WebhookOutboxStore {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insertMessage: Database.Statement;
  private readonly moveCheckpoint: Database.Statement;
  private readonly enqueueAll: (messages: readonly NewOutboxMessage[], checkpoint: bigint) => void;
  private readonly settleAll: (settlements: readonly ClaimSettlement[]) => boolean[];
  private readonly claimAll: (messageIds: readonly string[], nowMs: number, untilMs: number) => ClaimedMessage[];

  constructor(filePath: string) {
    this.db = openSqliteDatabase(filePath);
    this.db.exec(SCHEMA);
    this.insertMessage = this.db.prepare(`INSERT INTO webhook_messages
      (message_id, endpoint_id, merchant_id, event_id, position, webhook_type, payload, created_at_ms, state,
       attempts, total_attempts, next_attempt_at_ms, updated_at_ms, sort_key)
      VALUES (@messageId, @endpointId, @merchantId, @eventId, @position, @webhookType, @payload, @createdAtMs,
       'pending', 0, 0, @createdAtMs, @createdAtMs, @sortKey)
      ON CONFLICT (message_id) DO NOTHING`);
    // max() on fixed-width strings: the checkpoint never moves backwards.
    this.moveCheckpoint = this.db.prepare(`INSERT INTO webhook_outbox_checkpoint (id, position) VALUES (1, ?)
      ON CONFLICT (id) DO UPDATE SET position = max(position, excluded.position)`);
    this.enqueueAll = this.db.transaction((messages: readonly NewOutboxMessage[], checkpoint: bigint) => {
      for (const m of messages)
        this.insertMessage.run({
          ...m,
          position: positionKey(m.position),
          sortKey: `${positionKey(m.position)}|${m.messageId}`,
        });
      this.moveCheckpoint.run(positionKey(checkpoint));
    });
    const insertAttempt = this.db.prepare(`INSERT INTO webhook_attempts
      (attempt_id, message_id, endpoint_id, attempt_no, started_at_ms, duration_ms, status_code, error, outcome,
       next_attempt_at_ms, sort_key)
      VALUES (@attemptId, @messageId, @endpointId, @attemptNo, @startedAtMs, @durationMs, @statusCode, @error,
       @outcome, @nextAttemptAtMs, @sortKey)
      ON CONFLICT (attempt_id) DO NOTHING`);
    const updateSettled = this.db.prepare(`UPDATE webhook_messages SET state = @state,
      next_attempt_at_ms = @nextAttemptAtMs, attempts = attempts + @counted, total_attempts = total_attempts + @counted,
      last_status_code = CASE WHEN @counted = 1 THEN @statusCode ELSE last_status_code END,
      last_error = CASE WHEN @counted = 1 THEN @error ELSE last_error END,
      updated_at_ms = @nowMs, claim_token = NULL, claim_expires_at_ms = 0
      WHERE message_id = @messageId AND claim_token = @claimToken`);
    this.settleAll = this.db.transaction((settlements: readonly ClaimSettlement[]) =>
      settlements.map((s) => {
        if (s.attempt)
          insertAttempt.run({ ...s.attempt, sortKey: attemptKey(s.attempt.startedAtMs, s.attempt.attemptId) });
        return (
          updateSettled.run({
            messageId: s.messageId,
            claimToken: s.claimToken,
            state: s.state,
            nextAttemptAtMs: s.nextAttemptAtMs,
            counted: s.attempt ? 1 : 0,
            statusCode: s.attempt?.statusCode ?? null,
            error: s.attempt?.error ?? null,
            nowMs: s.nowMs,
          }).changes === 1
        );
      }),
    );
    const claimOne = this.db.prepare(
      `UPDATE webhook_messages SET claim_token = ?, claim_expires_at_ms = ?
       WHERE message_id = ? AND state = 'pending' AND next_attempt_at_ms <= ? AND claim_expires_at_ms <= ?
       RETURNING *`,
    );
    this.claimAll = this.db.transaction((messageIds: readonly string[], nowMs: number, untilMs: number) =>
      messageIds.flatMap((messageId) => {
        const claimToken = randomUUID();
        const row = claimOne.get(claimToken, untilMs, messageId, nowMs, nowMs) as MessageRow | undefined;
        return row ? [{ ...toMessage(row), claimToken }] : [];
      }),
    );
  }

  async getCheckpoint(): Promise<bigint | 'start'> {
    const position = this.db.prepare('SELECT position FROM webhook_outbox_checkpoint WHERE id = 1').pluck().get() as
      string | undefined;
    return position === undefined ? 'start' : BigInt(position);
  }

  async enqueue(messages: readonly NewOutboxMessage[], checkpoint: bigint): Promise<void> {
    if (messages.length > MAX_OUTBOX_ENQUEUE) throw new RangeError(`at most ${MAX_OUTBOX_ENQUEUE} messages at once`);
    this.enqueueAll(messages, checkpoint);
  }

  async dueMessages(nowMs: number, limit: number, excludeEndpoints: readonly string[] = []): Promise<OutboxMessage[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OUTBOX_PAGE) throw new RangeError('bad limit');
    checkOutboxBatch(excludeEndpoints.length);
    const excluded =
      excludeEndpoints.length === 0 ? '' : `AND endpoint_id NOT IN (${excludeEndpoints.map(() => '?').join(', ')})`;
    const rows = this.db
      .prepare(
        `SELECT * FROM webhook_messages WHERE state = 'pending' AND next_attempt_at_ms <= ? AND claim_expires_at_ms <= ?
         ${excluded} ORDER BY next_attempt_at_ms, message_id LIMIT ?`,
      )
      .all(nowMs, nowMs, ...excludeEndpoints, limit) as MessageRow[];
    return rows.map(toMessage);
  }

  async claim(messageIds: readonly string[], nowMs: number, untilMs: number): Promise<ClaimedMessage[]> {
    if (!(untilMs > nowMs)) throw new RangeError('a claim ends after it starts');
    checkOutboxBatch(messageIds.length);
    // One transaction, one disk flush, for the whole batch.
    return this.claimAll(messageIds, nowMs, untilMs);
  }

  async settle(settlements: readonly ClaimSettlement[]): Promise<boolean[]> {
    checkOutboxBatch(settlements.length);
    return this.settleAll(settlements);
  }

  async getMessage(messageId: string): Promise<OutboxMessage | null> {
    const row = this.db.prepare('SELECT * FROM webhook_messages WHERE message_id = ?').get(messageId) as
      MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async listMessages(endpointId: string, query: OutboxPageQuery): Promise<OutboxPage<OutboxMessage>> {
    checkOutboxPage(query);
    const [op, dir] = query.direction === 'asc' ? ['>', 'ASC'] : ['<', 'DESC'];
    const after = query.after === undefined ? undefined : decodeOutboxCursor(query.after);
    const rows = this.db
      .prepare(
        `SELECT * FROM webhook_messages WHERE endpoint_id = ? ${after === undefined ? '' : `AND sort_key ${op} ?`}
         ORDER BY sort_key ${dir} LIMIT ?`,
      )
      .all(...(after === undefined ? [endpointId] : [endpointId, after]), query.limit + 1) as MessageRow[];
    return outboxPageOf(rows, query.limit, (r) => r.sort_key, toMessage);
  }

  async listAttempts(
    endpointId: string,
    query: OutboxPageQuery & { readonly messageId?: string },
  ): Promise<OutboxPage<DeliveryAttempt>> {
    checkOutboxPage(query);
    const [op, dir] = query.direction === 'asc' ? ['>', 'ASC'] : ['<', 'DESC'];
    const after = query.after === undefined ? undefined : decodeOutboxCursor(query.after);
    const params: (string | number)[] = [endpointId];
    if (query.messageId !== undefined) params.push(query.messageId);
    if (after !== undefined) params.push(after);
    const rows = this.db
      .prepare(
        `SELECT * FROM webhook_attempts WHERE endpoint_id = ? ${query.messageId === undefined ? '' : 'AND message_id = ?'}
         ${after === undefined ? '' : `AND sort_key ${op} ?`} ORDER BY sort_key ${dir} LIMIT ?`,
      )
      .all(...params, query.limit + 1) as AttemptRow[];
    return outboxPageOf(rows, query.limit, (r) => r.sort_key, toAttempt);
  }

  async redeliver(messageId: string, nowMs: number): Promise<OutboxMessage | null> {
    const row = this.db
      .prepare(
        `UPDATE webhook_messages SET state = 'pending', attempts = 0, next_attempt_at_ms = ?, updated_at_ms = ?,
         claim_token = NULL, claim_expires_at_ms = 0 WHERE message_id = ? RETURNING *`,
      )
      .get(nowMs, nowMs, messageId) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

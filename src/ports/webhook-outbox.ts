/**
 * The webhook outbox: the messages owed to merchants' endpoints, their delivery state and every attempt.
 *
 * - `enqueue` inserts messages and moves the outbox subscription's checkpoint in ONE transaction; a
 *   message whose id is already there is left as it is (ids are derived from the event and the endpoint,
 *   so reading a range of the log twice creates nothing twice): at least once, idempotent by message id.
 * - A dispatcher `claim`s a due message until `untilMs`: while the claim lasts no other claim succeeds,
 *   so two dispatchers never send one message at once; a dead dispatcher's claim expires and the message
 *   is due again. `settle` records the attempt and the message's next state, the latter only while the
 *   claim is still the caller's (a claim taken over meanwhile keeps the newer dispatcher's state).
 * - Times are milliseconds since the epoch from the caller's clock (the service clock), never the store's.
 *
 * Adapters: SQLite (embedded default, a file under DATA_DIR) and MongoDB. Both are held to
 * tests/contract/webhook-outbox.contract.ts.
 */

export type OutboxMessageState = 'pending' | 'delivered' | 'failed' | 'discarded';

export interface NewOutboxMessage {
  readonly messageId: string;
  readonly endpointId: string;
  readonly merchantId: string;
  /** The ledger event it tells of, and that event's global position. */
  readonly eventId: string;
  readonly position: bigint;
  readonly webhookType: string;
  /** The JSON body, fixed at creation: every attempt sends the same bytes (re-signed). */
  readonly payload: string;
  readonly createdAtMs: number;
}

export interface OutboxMessage extends NewOutboxMessage {
  readonly state: OutboxMessageState;
  /** Attempts since the message was created or last redelivered (the retry schedule counts these). */
  readonly attempts: number;
  /** Attempts ever made (numbers the delivery log). */
  readonly totalAttempts: number;
  /** When a pending message is due; null once settled for good. */
  readonly nextAttemptAtMs: number | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly updatedAtMs: number;
}

export interface ClaimedMessage extends OutboxMessage {
  /** Unique to this claim: settle with it. */
  readonly claimToken: string;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'gone';

export interface DeliveryAttempt {
  /** `<messageId>:<attemptNo>`. */
  readonly attemptId: string;
  readonly messageId: string;
  readonly endpointId: string;
  readonly attemptNo: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
  /** The endpoint's HTTP status; null when no answer came (timeout, refused address, network error). */
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly outcome: AttemptOutcome;
  readonly nextAttemptAtMs: number | null;
}

/** What the message becomes after a claim. */
export interface MessageSettlement {
  readonly state: OutboxMessageState;
  readonly nextAttemptAtMs: number | null;
  /** The attempt made under the claim; null when none was (an endpoint disabled or deleted meanwhile). */
  readonly attempt: DeliveryAttempt | null;
  readonly nowMs: number;
}

export interface ClaimSettlement extends MessageSettlement {
  readonly messageId: string;
  readonly claimToken: string;
}

export interface OutboxPageQuery {
  readonly limit: number;
  readonly direction: 'asc' | 'desc';
  /** Opaque: a previous page's nextCursor. */
  readonly after?: string;
}

export interface OutboxPage<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface WebhookOutboxStore {
  readonly engine: 'sqlite' | 'mongo';
  /** The last log position the subscription has fully turned into messages. */
  getCheckpoint(): Promise<bigint | 'start'>;
  /** Inserts the messages not already there and moves the checkpoint to `checkpoint` (never backwards), atomically. */
  enqueue(messages: readonly NewOutboxMessage[], checkpoint: bigint): Promise<void>;
  /**
   * Pending messages due at `nowMs` and not claimed (or whose claim expired), soonest first, but none of
   * `excludeEndpoints` (those the caller cannot send more to now: a busy endpoint's backlog must not fill
   * every page while other endpoints' messages wait behind it).
   */
  dueMessages(nowMs: number, limit: number, excludeEndpoints?: readonly string[]): Promise<OutboxMessage[]>;
  /**
   * Claims those of the messages that are due and unclaimed, until `untilMs`, in one write; the others
   * (not due, held by someone else) are left out of the answer.
   */
  claim(messageIds: readonly string[], nowMs: number, untilMs: number): Promise<ClaimedMessage[]>;
  /**
   * Records each attempt (always) and each message's new state (only while its claim is still
   * `claimToken`'s), all in one write: per settlement, whether the claim was still held.
   */
  settle(settlements: readonly ClaimSettlement[]): Promise<boolean[]>;
  getMessage(messageId: string): Promise<OutboxMessage | null>;
  /** An endpoint's messages in log order. */
  listMessages(endpointId: string, query: OutboxPageQuery): Promise<OutboxPage<OutboxMessage>>;
  /** An endpoint's attempts in time order, or one message's. */
  listAttempts(
    endpointId: string,
    query: OutboxPageQuery & { readonly messageId?: string },
  ): Promise<OutboxPage<DeliveryAttempt>>;
  /**
   * Makes a message due again at `nowMs` with a fresh count of attempts (manual redelivery), whatever its
   * state, dropping any claim (a delivery in flight then finds its claim gone). Null when there is none.
   */
  redeliver(messageId: string, nowMs: number): Promise<OutboxMessage | null>;
  close(): Promise<void>;
}

/** Largest page a list or `dueMessages` returns, and most messages one `claim` or `settle` takes. */
export const MAX_OUTBOX_PAGE = 1_000;
export const MAX_OUTBOX_ENQUEUE = 10_000;

/** Attempts ordered by time, ties by id: the key both adapters sort and page them by. */
export function attemptKey(startedAtMs: number, attemptId: string): string {
  return `${String(startedAtMs).padStart(15, '0')}|${attemptId}`;
}

/** A page cursor: the last item's sort key, base64url. */
export function encodeOutboxCursor(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

export function decodeOutboxCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (key.length === 0 || key.length > 400) throw new RangeError('malformed cursor');
  return key;
}

/** A page from `rows` read with one more than the limit: the items, and the cursor when there are more. */
export function outboxPageOf<R, T>(
  rows: readonly R[],
  limit: number,
  sortKeyOf: (row: R) => string,
  map: (row: R) => T,
): OutboxPage<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items: items.map(map), nextCursor: more ? encodeOutboxCursor(sortKeyOf(items.at(-1)!)) : null };
}

export function checkOutboxBatch(size: number): void {
  if (size > MAX_OUTBOX_PAGE) throw new RangeError(`at most ${MAX_OUTBOX_PAGE} messages at once`);
}

export function checkOutboxPage(query: OutboxPageQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_OUTBOX_PAGE)
    throw new RangeError(`limit must be from 1 to ${MAX_OUTBOX_PAGE}`);
}

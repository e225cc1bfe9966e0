import { Webhook } from 'standardwebhooks';
import type { CommandContext } from '../../commands/command-context.js';
import type { WebhookEndpointCommands } from '../../commands/webhooks/webhook-endpoint-commands.js';
import { nextAttempt, type RetrySchedule } from '../../domain/webhooks/retry-schedule.js';
import { signingVersionsAt, type WebhookEndpoint } from '../../domain/webhooks/webhook-endpoint-state.js';
import type { Clock } from '../../ports/clock.js';
import {
  MAX_OUTBOX_PAGE,
  type ClaimedMessage,
  type ClaimSettlement,
  type DeliveryAttempt,
  type MessageSettlement,
  type WebhookOutboxStore,
} from '../../ports/webhook-outbox.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import type { SendResult, WebhookSender } from './webhook-sender.js';

export interface DispatcherLimits {
  /** Deliveries in flight in this process, over all endpoints. */
  readonly maxInFlight: number;
  /** Deliveries in flight to one endpoint in this process. */
  readonly perEndpointConcurrency: number;
  /** Due messages read per look at the outbox. */
  readonly batchSize: number;
  /** How long a claim lasts: longer than a request may take, so a live delivery never loses it. */
  readonly claimTtlMs: number;
  /** How often the outbox is looked at when nothing wakes the dispatcher. */
  readonly pollIntervalMs: number;
}

type Send = Pick<WebhookSender, 'send'>;

/**
 * Sends the outbox's due messages, off the request path: a timer and bounded concurrency, so a slow or
 * dead endpoint costs at most its share of the in-flight slots, never a command's time.
 *
 * Each message is claimed before it is sent (two instances never send one message at once; a dead
 * instance's claims expire), signed afresh on every attempt with the endpoint's current secret (and the
 * previous one during a rotation's overlap), and settled with its attempt:
 *   - 2xx: delivered;
 *   - 410 Gone: the endpoint is disabled (Standard Webhooks) and the message fails;
 *   - anything else, or no answer: again on the retry schedule (Retry-After honoured within its bounds),
 *     until the schedule's last attempt; then failed.
 * A message whose endpoint was disabled or deleted meanwhile is discarded without an attempt.
 */
export class WebhookDispatcher {
  private inFlight = 0;
  private readonly perEndpoint = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private looking = false;
  private lookAgain = false;
  private stopped = false;
  private readonly settling: { item: ClaimSettlement; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing = false;
  private flushScheduled = false;
  /** Aborts the requests in flight at stop: each is then settled as unanswered and retried later. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly outbox: WebhookOutboxStore,
    private readonly endpoints: Pick<WebhookEndpointCommands, 'get' | 'disable'>,
    private readonly secrets: WebhookSecrets,
    private readonly sender: Send,
    private readonly clock: Clock,
    private readonly schedule: RetrySchedule,
    private readonly limits: DispatcherLimits,
    private readonly onError: (error: unknown) => void,
    private readonly random: () => number = Math.random,
  ) {
    for (const [name, value] of Object.entries(limits))
      if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`${name} must be a positive integer`);
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.limits.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks at the outbox now (new messages were stored, or a delivery finished). */
  wake(): void {
    if (this.stopped) return;
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    this.looking = true;
    this.dispatchDue()
      .catch(this.onError)
      .finally(() => {
        this.looking = false;
        if (this.lookAgain) {
          this.lookAgain = false;
          this.wake();
        }
      });
  }

  /** Stops claiming; aborts the requests in flight and waits for their attempts to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.stopping.abort(new Error('the service is stopping'));
    await Promise.allSettled([...this.running]);
  }

  get deliveriesInFlight(): number {
    return this.inFlight;
  }

  private async dispatchDue(): Promise<void> {
    const free = this.limits.maxInFlight - this.inFlight;
    if (free <= 0) return;
    const nowMs = this.clock.now().toMillis();
    const busy = [...this.perEndpoint]
      .filter(([, count]) => count >= this.limits.perEndpointConcurrency)
      .map(([endpointId]) => endpointId);
    const due = await this.outbox.dueMessages(nowMs, Math.min(this.limits.batchSize, free), busy);
    // Within both bounds, counting what this look picks: one claim (one write) for them all.
    const picked: string[] = [];
    const perEndpoint = new Map(this.perEndpoint);
    for (const message of due) {
      const inFlightThere = perEndpoint.get(message.endpointId) ?? 0;
      if (inFlightThere >= this.limits.perEndpointConcurrency) continue;
      perEndpoint.set(message.endpointId, inFlightThere + 1);
      picked.push(message.messageId);
    }
    if (picked.length === 0 || this.stopped) return;
    const claimed = await this.outbox.claim(picked, nowMs, nowMs + this.limits.claimTtlMs);
    for (const message of claimed) this.track(message);
  }

  private track(message: ClaimedMessage): void {
    this.inFlight += 1;
    this.perEndpoint.set(message.endpointId, (this.perEndpoint.get(message.endpointId) ?? 0) + 1);
    const delivery = this.deliver(message)
      .catch(this.onError)
      .finally(() => {
        this.inFlight -= 1;
        const left = (this.perEndpoint.get(message.endpointId) ?? 1) - 1;
        if (left === 0) this.perEndpoint.delete(message.endpointId);
        else this.perEndpoint.set(message.endpointId, left);
        this.running.delete(delivery);
        // Once half the slots are free (not at every finish): one look and one claim then take many.
        if (this.inFlight <= this.limits.maxInFlight / 2) this.wake();
      });
    this.running.add(delivery);
  }

  private async deliver(message: ClaimedMessage): Promise<void> {
    const endpoint = await this.endpoints.get(message.endpointId);
    const startedAt = this.clock.now();
    if (!endpoint || endpoint.status !== 'enabled') {
      await this.settle(message, {
        state: 'discarded',
        nextAttemptAtMs: null,
        attempt: null,
        nowMs: startedAt.toMillis(),
      });
      return;
    }
    const headers = this.signedHeaders(endpoint, message, startedAt.toJSDate(), startedAt.toUTC().toISO()!);
    const result = await this.sender.send(
      endpoint.url,
      headers,
      message.payload,
      startedAt.toMillis(),
      this.stopping.signal,
    );
    const endedAtMs = this.clock.now().toMillis();
    const attemptNo = message.attempts + 1;
    const base = {
      attemptId: `${message.messageId}:${message.totalAttempts + 1}`,
      messageId: message.messageId,
      endpointId: message.endpointId,
      attemptNo: message.totalAttempts + 1,
      startedAtMs: startedAt.toMillis(),
      durationMs: Math.max(0, endedAtMs - startedAt.toMillis()),
      statusCode: result.kind === 'answered' ? result.statusCode : null,
      error: result.kind === 'answered' ? null : result.error,
    };
    const settled = this.outcomeOf(result, attemptNo, endedAtMs);
    const attempt: DeliveryAttempt = { ...base, outcome: settled.outcome, nextAttemptAtMs: settled.nextAttemptAtMs };
    await this.settle(message, {
      state: settled.state,
      nextAttemptAtMs: settled.nextAttemptAtMs,
      attempt,
      nowMs: endedAtMs,
    });
    if (settled.outcome === 'gone') await this.endpoints.disable(message.endpointId, 'gone', this.contextOf(message));
  }

  private outcomeOf(
    result: SendResult,
    attemptNo: number,
    nowMs: number,
  ): Pick<DeliveryAttempt, 'outcome' | 'nextAttemptAtMs'> & { state: MessageSettlement['state'] } {
    if (result.kind === 'answered' && result.statusCode >= 200 && result.statusCode < 300)
      return { outcome: 'delivered', state: 'delivered', nextAttemptAtMs: null };
    if (result.kind === 'answered' && result.statusCode === 410)
      return { outcome: 'gone', state: 'failed', nextAttemptAtMs: null };
    const next = nextAttempt(
      this.schedule,
      attemptNo,
      this.random(),
      result.kind === 'answered' ? result.retryAfterMs : null,
    );
    return next.retry
      ? { outcome: 'retry', state: 'pending', nextAttemptAtMs: nowMs + next.delayMs }
      : { outcome: 'failed', state: 'failed', nextAttemptAtMs: null };
  }

  /** Standard Webhooks headers, signed now: one `v1,<sig>` per valid secret, space-separated. */
  private signedHeaders(endpoint: WebhookEndpoint, message: ClaimedMessage, at: Date, atIso: string) {
    const signatures = signingVersionsAt(endpoint, atIso).map((version) =>
      new Webhook(this.secrets.secretOf(endpoint.endpointId, version)).sign(message.messageId, at, message.payload),
    );
    return {
      'webhook-id': message.messageId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1_000)),
      'webhook-signature': signatures.join(' '),
    };
  }

  /**
   * Group commit: settlements queue while one write is in flight, and the next write takes them all. A
   * false answer means the claim was taken over (it expired, or a redelivery dropped it): the attempt is
   * logged anyway, the newer claim's state stands.
   */
  private settle(message: ClaimedMessage, settlement: MessageSettlement): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settling.push({
        item: { ...settlement, messageId: message.messageId, claimToken: message.claimToken },
        resolve,
        reject,
      });
      void this.flushSettlements();
    });
  }

  private async flushSettlements(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.settling.length > 0) {
        const batch = this.settling.splice(0, MAX_OUTBOX_PAGE);
        try {
          await this.outbox.settle(batch.map((queued) => queued.item));
          for (const queued of batch) queued.resolve();
        } catch (error) {
          for (const queued of batch) queued.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The 410's command, under a key derived from the attempt (disabling a disabled endpoint records nothing). */
  private contextOf(message: ClaimedMessage): CommandContext {
    return {
      actor: 'webhook-dispatcher',
      correlationId: message.messageId,
      causationId: message.eventId,
      idempotencyKey: null,
      operationKey: `webhook-gone\u0000${message.messageId}\u0000${message.totalAttempts + 1}`,
      occurredAt: this.clock.now().toUTC().toISO()!,
    };
  }
}

import type { WebhookConfig } from '../../config.js';
import type { WebhookEndpointCommands } from '../../commands/webhooks/webhook-endpoint-commands.js';
import {
  checkRetrySchedule,
  DEFAULT_RETRY_SCHEDULE,
  type RetrySchedule,
} from '../../domain/webhooks/retry-schedule.js';
import type { Clock } from '../../ports/clock.js';
import type { EventStore } from '../../ports/event-store.js';
import type { WebhookOutboxStore } from '../../ports/webhook-outbox.js';
import { WebhookOutboxSubscription } from './outbox-subscription.js';
import { UrlGuard } from './url-guard.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import { WebhookSender } from './webhook-sender.js';

/** Due messages read per look at the outbox. */
const DISPATCH_BATCH = 100;

export function retryScheduleOf(config: WebhookConfig): RetrySchedule {
  const schedule = {
    ...DEFAULT_RETRY_SCHEDULE,
    initialDelayMs: config.retryInitialDelayMs,
    maxDelayMs: config.retryMaxDelayMs,
    factor: config.retryFactor,
    maxAttempts: config.maxAttempts,
  };
  checkRetrySchedule(schedule);
  return schedule;
}

export interface WebhookNotifications {
  readonly guard: UrlGuard;
  readonly dispatcher: WebhookDispatcher | undefined;
  /** Runs the subscription once to the log's end (tests, and the periodic loop). */
  catchUp(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Merchant notifications, wired: the outbox subscription (where `subscribe` says: the instance holding the
 * projections lease) and the dispatcher (every instance: claims keep them apart), both on timers off the
 * request path. WEBHOOK_POLL_INTERVAL_MS=0 runs neither (tools, and tests that drive them by hand).
 */
export function startWebhookNotifications(
  config: WebhookConfig,
  deps: {
    readonly eventStore: EventStore;
    readonly outbox: WebhookOutboxStore;
    readonly endpoints: WebhookEndpointCommands;
    readonly secrets: WebhookSecrets;
    readonly clock: Clock;
    readonly background: boolean;
    readonly subscribe: () => boolean;
    readonly onError: (error: unknown) => void;
  },
): WebhookNotifications {
  const guard = new UrlGuard({ allowPrivate: config.allowPrivate, allowedHosts: config.allowedHosts });
  const subscription = new WebhookOutboxSubscription(deps.eventStore, deps.outbox);
  const run = deps.background && config.pollIntervalMs > 0;
  const dispatcher = run
    ? new WebhookDispatcher(
        deps.outbox,
        deps.endpoints,
        deps.secrets,
        new WebhookSender(guard, config.timeoutMs),
        deps.clock,
        retryScheduleOf(config),
        {
          maxInFlight: config.maxInFlight,
          perEndpointConcurrency: config.endpointConcurrency,
          batchSize: DISPATCH_BATCH,
          // A delivery takes at most the timeout (plus the DNS lookup): twice that and a margin.
          claimTtlMs: 2 * config.timeoutMs + 5_000,
          pollIntervalMs: config.pollIntervalMs,
        },
        deps.onError,
      )
    : undefined;
  let catchingUp: Promise<number> | undefined;
  const catchUp = () => {
    // One run at a time: the timer and a test's call share it.
    catchingUp ??= subscription.catchUp().finally(() => {
      catchingUp = undefined;
    });
    return catchingUp;
  };
  let timer: NodeJS.Timeout | undefined;
  if (run) {
    timer = setInterval(() => {
      if (catchingUp || !deps.subscribe()) return;
      catchUp()
        .then((stored) => {
          if (stored > 0) dispatcher?.wake();
        })
        .catch(deps.onError);
    }, config.pollIntervalMs);
    timer.unref();
    dispatcher!.start();
  }
  return {
    guard,
    dispatcher,
    catchUp,
    async stop() {
      clearInterval(timer);
      await catchingUp?.catch(() => undefined);
      await dispatcher?.stop();
    },
  };
}

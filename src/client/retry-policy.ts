/**
 * When and how long the client waits before sending a request again. Only answers that say "try again"
 * are retried: 503 (storage, channel or read model not ready, overloaded: never recorded under the
 * Idempotency-Key, so the retry runs the command again, safely), 409 concurrent_modification and 409
 * idempotency_request_in_progress; and a request that got no answer at all (connection lost, timeout).
 * Commands keep their Idempotency-Key across attempts, so a retry never applies a command twice.
 */
export interface RetryOptions {
  /** Requests in all, the first included: 1 turns retries off. 1 to 10; default 5. */
  readonly maxAttempts?: number;
  /** Wait before the first retry; doubles with each retry (with jitter). Default 100 ms. */
  readonly baseDelayMs?: number;
  /** Longest wait between two attempts; a longer Retry-After is cut to it. Default 5000 ms. */
  readonly maxDelayMs?: number;
}

export const RETRY_MAX_ATTEMPTS_LIMIT = 10;
const DEFAULTS = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 } as const;

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = { ...DEFAULTS, ...options };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > RETRY_MAX_ATTEMPTS_LIMIT)
    throw new RangeError(`retry.maxAttempts must be an integer from 1 to ${RETRY_MAX_ATTEMPTS_LIMIT}`);
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= policy.baseDelayMs))
    throw new RangeError('retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs');
  return policy;
}

const RETRYABLE_CONFLICTS: ReadonlySet<string> = new Set([
  'concurrent_modification',
  'idempotency_request_in_progress',
]);

export function isRetryableAnswer(status: number, code: string): boolean {
  return status === 503 || (status === 409 && RETRYABLE_CONFLICTS.has(code));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1_000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * The wait before attempt `attempt + 1`: exponential back-off with jitter (so many clients refused at
 * once do not come back at once), at least what Retry-After asks, at most maxDelayMs.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: number | null,
  random: () => number = Math.random,
): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = backoff / 2 + (random() * backoff) / 2;
  return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfter ?? 0));
}

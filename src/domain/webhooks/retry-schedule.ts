/**
 * When a failed webhook delivery is tried again: growing intervals with jitter, from seconds to about a
 * day, for a bounded number of attempts. Pure: attempt n -> the bounds of the delay after it, and a draw
 * within them from a random number the caller supplies (so tests and replays can fix it).
 *
 * The nominal delay after attempt n is initialDelayMs * factor^(n-1), capped at maxDelayMs; the jitter
 * takes up to `jitterRatio` of it off, so receivers that failed together are not retried together.
 * Both bounds are non-decreasing in n and lie within [initialDelayMs * (1 - jitterRatio), maxDelayMs].
 */
export interface RetrySchedule {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  /** 0 to 1: the share of the nominal delay the jitter may take off. */
  readonly jitterRatio: number;
  /** Attempts of one message (the first included) before it is marked failed. */
  readonly maxAttempts: number;
}

/** 5 s, 15 s, 45 s, 2.3 min, 7 min, 20 min, 1 h, 3 h, 9 h, then 24 h: 12 attempts over about 2.6 days. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  initialDelayMs: 5_000,
  maxDelayMs: 86_400_000,
  factor: 3,
  jitterRatio: 0.2,
  maxAttempts: 12,
};

export function checkRetrySchedule(schedule: RetrySchedule): void {
  const { initialDelayMs, maxDelayMs, factor, jitterRatio, maxAttempts } = schedule;
  if (!(Number.isInteger(initialDelayMs) && initialDelayMs >= 1)) throw new RangeError('initialDelayMs must be >= 1');
  if (!(Number.isInteger(maxDelayMs) && maxDelayMs >= initialDelayMs && maxDelayMs <= 7 * 86_400_000))
    throw new RangeError('maxDelayMs must be from initialDelayMs to 7 days');
  if (!(factor >= 1 && factor <= 100)) throw new RangeError('factor must be from 1 to 100');
  if (!(jitterRatio >= 0 && jitterRatio <= 1)) throw new RangeError('jitterRatio must be from 0 to 1');
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 100))
    throw new RangeError('maxAttempts must be from 1 to 100');
}

/** The delay after failed attempt `attemptNo` (1 = the first), as [minMs, maxMs]. */
export function retryDelayBounds(schedule: RetrySchedule, attemptNo: number): { minMs: number; maxMs: number } {
  if (!(Number.isInteger(attemptNo) && attemptNo >= 1)) throw new RangeError('attemptNo starts at 1');
  // factor^(n-1) overflows to Infinity for large n; the cap takes it back to maxDelayMs.
  const nominal = Math.min(
    schedule.maxDelayMs,
    Math.round(schedule.initialDelayMs * schedule.factor ** (attemptNo - 1)),
  );
  return { minMs: Math.floor(nominal * (1 - schedule.jitterRatio)), maxMs: nominal };
}

/** A delay within the bounds; `random` in [0, 1). */
export function retryDelayMs(schedule: RetrySchedule, attemptNo: number, random: number): number {
  const { minMs, maxMs } = retryDelayBounds(schedule, attemptNo);
  return Math.min(maxMs, minMs + Math.floor(random * (maxMs - minMs + 1)));
}

/**
 * What happens after attempt `attemptNo` failed: another at `delayMs` from now, or none (failed for good).
 * A receiver's Retry-After is honoured within the schedule's own bounds [initialDelayMs, maxDelayMs], so a
 * receiver can slow us down to a day but neither stop us for longer nor make us hammer it.
 */
export function nextAttempt(
  schedule: RetrySchedule,
  attemptNo: number,
  random: number,
  retryAfterMs: number | null,
): { retry: true; delayMs: number } | { retry: false } {
  if (attemptNo >= schedule.maxAttempts) return { retry: false };
  if (retryAfterMs !== null)
    return { retry: true, delayMs: Math.min(schedule.maxDelayMs, Math.max(schedule.initialDelayMs, retryAfterMs)) };
  return { retry: true, delayMs: retryDelayMs(schedule, attemptNo, random) };
}

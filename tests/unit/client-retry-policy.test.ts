import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isRetryableAnswer,
  retryAfterMs,
  retryDelayMs,
  retryPolicy,
  RETRY_MAX_ATTEMPTS_LIMIT,
} from '../../src/client/retry-policy.js';

describe('client retry policy', () => {
  it('retries only the answers that say "try again"', () => {
    expect(isRetryableAnswer(503, 'storage_unavailable')).toBe(true);
    expect(isRetryableAnswer(503, 'read_model_behind')).toBe(true);
    expect(isRetryableAnswer(409, 'concurrent_modification')).toBe(true);
    expect(isRetryableAnswer(409, 'idempotency_request_in_progress')).toBe(true);
    expect(isRetryableAnswer(409, 'duplicate_order_no')).toBe(false);
    expect(isRetryableAnswer(422, 'idempotency_key_reused')).toBe(false);
    expect(isRetryableAnswer(429, 'payer_password_locked')).toBe(false);
    expect(isRetryableAnswer(500, 'internal_error')).toBe(false);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  it('has an explicit attempt limit', () => {
    expect(retryPolicy().maxAttempts).toBe(5);
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => retryPolicy({ maxAttempts: RETRY_MAX_ATTEMPTS_LIMIT + 1 })).toThrow(RangeError);
    expect(() => retryPolicy({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
  });

  it('waits at least what Retry-After asks and never longer than maxDelayMs', () => {
    const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 5_000 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: RETRY_MAX_ATTEMPTS_LIMIT }),
        fc.option(fc.integer({ min: 0, max: 600_000 })),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, retryAfter, random) => {
          const delay = retryDelayMs(policy, attempt, retryAfter, () => random);
          expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
          expect(delay).toBeGreaterThanOrEqual(Math.min(retryAfter ?? 0, policy.maxDelayMs));
          // Back-off with jitter: between half and all of base * 2^(attempt - 1), capped.
          expect(delay).toBeGreaterThanOrEqual(
            Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) / 2,
          );
        },
      ),
    );
  });
});

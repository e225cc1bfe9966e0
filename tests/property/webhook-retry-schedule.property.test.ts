import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkRetrySchedule,
  retryDelayBounds,
  retryDelayMs,
  type RetrySchedule,
} from '../../src/domain/webhooks/retry-schedule.js';

const schedule: fc.Arbitrary<RetrySchedule> = fc
  .record({
    initialDelayMs: fc.integer({ min: 1, max: 3_600_000 }),
    extraMs: fc.integer({ min: 0, max: 7 * 86_400_000 }),
    factor: fc.double({ min: 1, max: 100, noNaN: true }),
    jitterRatio: fc.double({ min: 0, max: 1, noNaN: true }),
    maxAttempts: fc.integer({ min: 1, max: 100 }),
  })
  .map(({ initialDelayMs, extraMs, ...rest }) => ({
    ...rest,
    initialDelayMs,
    maxDelayMs: Math.min(7 * 86_400_000, initialDelayMs + extraMs),
  }));

describe('webhook retry schedule, for any valid schedule', () => {
  it('has non-decreasing bounds within [initial * (1 - jitter), max], and draws within them', () => {
    fc.assert(
      fc.property(
        schedule,
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (s, n, random) => {
          checkRetrySchedule(s);
          const here = retryDelayBounds(s, n);
          const next = retryDelayBounds(s, n + 1);
          expect(next.minMs).toBeGreaterThanOrEqual(here.minMs);
          expect(next.maxMs).toBeGreaterThanOrEqual(here.maxMs);
          expect(here.minMs).toBeLessThanOrEqual(here.maxMs);
          expect(here.minMs).toBeGreaterThanOrEqual(Math.floor(s.initialDelayMs * (1 - s.jitterRatio)));
          expect(here.maxMs).toBeLessThanOrEqual(s.maxDelayMs);
          const drawn = retryDelayMs(s, n, random);
          expect(drawn).toBeGreaterThanOrEqual(here.minMs);
          expect(drawn).toBeLessThanOrEqual(here.maxMs);
        },
      ),
      { numRuns: 500 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkRetrySchedule,
  DEFAULT_RETRY_SCHEDULE,
  nextAttempt,
  retryDelayBounds,
  retryDelayMs,
} from '../../src/domain/webhooks/retry-schedule.js';
import { parseRetryAfter } from '../../src/adapters/webhooks/webhook-sender.js';

/** Given attempt n failed, then the next attempt is due within these bounds (pure). */
describe('webhook retry schedule', () => {
  const s = DEFAULT_RETRY_SCHEDULE;

  it('grows from seconds to a day, with up to 20% jitter off', () => {
    const nominal = Array.from({ length: 11 }, (_, i) => retryDelayBounds(s, i + 1).maxMs);
    expect(nominal).toEqual([
      5_000, 15_000, 45_000, 135_000, 405_000, 1_215_000, 3_645_000, 10_935_000, 32_805_000, 86_400_000, 86_400_000,
    ]);
    expect(retryDelayBounds(s, 1)).toEqual({ minMs: 4_000, maxMs: 5_000 });
    expect(retryDelayBounds(s, 1_000)).toEqual({ minMs: 69_120_000, maxMs: 86_400_000 });
  });

  it('draws within the bounds: the lowest and highest random numbers give the ends', () => {
    expect(retryDelayMs(s, 2, 0)).toBe(12_000);
    expect(retryDelayMs(s, 2, 0.999_999_999)).toBe(15_000);
  });

  it('stops after the last attempt, and honours Retry-After within the bounds', () => {
    expect(nextAttempt(s, s.maxAttempts, 0.5, null)).toEqual({ retry: false });
    expect(nextAttempt(s, 1, 0.5, 60_000)).toEqual({ retry: true, delayMs: 60_000 });
    expect(nextAttempt(s, 1, 0.5, 0)).toEqual({ retry: true, delayMs: s.initialDelayMs });
    expect(nextAttempt(s, 1, 0.5, 30 * 86_400_000)).toEqual({ retry: true, delayMs: s.maxDelayMs });
  });

  it('refuses a schedule outside its limits', () => {
    expect(() => checkRetrySchedule({ ...s, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => checkRetrySchedule({ ...s, maxDelayMs: s.initialDelayMs - 1 })).toThrow(RangeError);
    expect(() => checkRetrySchedule({ ...s, jitterRatio: 1.5 })).toThrow(RangeError);
    expect(() => retryDelayBounds(s, 0)).toThrow(RangeError);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('webhook configuration', () => {
  it('requires WEBHOOK_SECRET_KEY when the stores are shared, so every instance signs alike', async () => {
    const { checkWebhookKeyShared, loadConfig, ConfigError } = await import('../../src/config.js');
    expect(() => checkWebhookKeyShared(loadConfig({ MONGODB_URL: 'mongodb://db:27017/ledger' }))).toThrow(ConfigError);
    expect(() => checkWebhookKeyShared(loadConfig({ EVENTSTORE_URL: 'esdb://db:2113' }))).toThrow(/WEBHOOK_SECRET_KEY/);
    const key = Buffer.alloc(32, 9).toString('base64');
    const shared = loadConfig({ MONGODB_URL: 'mongodb://db:27017/ledger', WEBHOOK_SECRET_KEY: key });
    expect(() => checkWebhookKeyShared(shared)).not.toThrow();
    expect(shared.webhooks.secretKey).toBe(key);
    expect(() => checkWebhookKeyShared(loadConfig({}))).not.toThrow();
  });
});

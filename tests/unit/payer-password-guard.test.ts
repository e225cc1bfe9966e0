import { describe, expect, it } from 'vitest';
import { PayerPasswordGuard } from '../../src/adapters/http/payer-password-guard.js';

describe('payer password guard', () => {
  it('locks a payer after too many wrong passwords, until the window has passed', () => {
    let nowMs = 0;
    const guard = new PayerPasswordGuard({ maxFailures: 3, windowMs: 60_000, maxTrackedPayers: 10 }, () => nowMs);
    for (let i = 0; i < 3; i += 1) {
      expect(guard.lockedForMs('u-1')).toBe(0);
      guard.recordFailure('u-1');
      nowMs += 1_000;
    }
    expect(guard.lockedForMs('u-1')).toBe(57_000);
    expect(guard.lockedForMs('u-2')).toBe(0);
    nowMs = 60_000;
    expect(guard.lockedForMs('u-1')).toBe(0);
  });

  it('forgets failures after a right password', () => {
    const guard = new PayerPasswordGuard({ maxFailures: 2, windowMs: 60_000, maxTrackedPayers: 10 }, () => 0);
    guard.recordFailure('a');
    guard.recordSuccess('a');
    guard.recordFailure('a');
    expect(guard.lockedForMs('a')).toBe(0);
    guard.recordFailure('a');
    expect(guard.lockedForMs('a')).toBe(60_000);
  });

  it('keeps a bounded number of payers, forgetting the oldest', () => {
    const guard = new PayerPasswordGuard({ maxFailures: 2, windowMs: 60_000, maxTrackedPayers: 2 }, () => 0);
    guard.recordFailure('a');
    guard.recordFailure('a');
    expect(guard.lockedForMs('a')).toBe(60_000);
    guard.recordFailure('b');
    guard.recordFailure('c');
    expect(guard.lockedForMs('a')).toBe(0);
    expect(guard.lockedForMs('b')).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { assertFeeSchedule, feeMinor, type FeeSchedule } from '../../src/domain/channels/fee-schedule.js';

const schedule = (ratePpm: bigint, fixedMinor: bigint, minMinor: bigint, maxMinor: bigint | null): FeeSchedule => ({
  ratePpm,
  fixedMinor,
  minMinor,
  maxMinor,
});

describe('fee schedules', () => {
  it.each([
    // rate 0.6 %: 2000 fen -> 12 fen exactly
    ['0.6 % of 20.00', schedule(6_000n, 0n, 0n, null), 2_000n, 12n],
    // 0.38 % of 1.31 = 0.4978 fen -> rounds half up to 0 fen; of 1.32 = 0.5016 -> 1 fen
    ['rounds below one half down', schedule(3_800n, 0n, 0n, null), 131n, 0n],
    ['rounds one half and above up', schedule(3_800n, 0n, 0n, null), 132n, 1n],
    // 0.5 % of 1.00 = 0.5 fen exactly: half up gives 1
    ['an exact half goes up', schedule(5_000n, 0n, 0n, null), 100n, 1n],
    ['adds the fixed part after rounding', schedule(2_000n, 30n, 0n, null), 10_000n, 50n],
    ['raises to the minimum', schedule(2_000n, 0n, 10n, 2_000n), 100n, 10n],
    ['caps at the maximum', schedule(2_000n, 0n, 10n, 2_000n), 5_000_000n, 2_000n],
    ['a flat fee (min = max)', schedule(0n, 100n, 100n, 100n), 123_456n, 100n],
    ['zero amount pays the minimum', schedule(6_000n, 0n, 1n, null), 0n, 1n],
  ])('%s', (_name, fees, amountMinor, expected) => {
    expect(feeMinor(fees, amountMinor)).toBe(expected);
  });

  it.each([
    ['a negative rate', schedule(-1n, 0n, 0n, null)],
    ['a rate above 100 %', schedule(1_000_001n, 0n, 0n, null)],
    ['a negative fixed part', schedule(0n, -1n, 0n, null)],
    ['a negative minimum', schedule(0n, 0n, -1n, null)],
    ['a maximum below the minimum', schedule(0n, 0n, 10n, 9n)],
  ])('refuses %s', (_name, fees) => {
    expect(() => assertFeeSchedule(fees)).toThrow(RangeError);
  });

  it('refuses a negative amount', () => {
    expect(() => feeMinor(schedule(0n, 0n, 0n, null), -1n)).toThrow(RangeError);
  });
});

/**
 * What a channel charges us for one transaction: a rate plus a fixed part, kept between a minimum and a
 * maximum. Bigint arithmetic in minor units, no floating point anywhere.
 *
 * Rounding (stated, because statements are matched against it fee by fee): the rate part
 * `amountMinor * ratePpm / 1_000_000` is rounded **half up** to a whole minor unit (0.5 fen -> 1 fen), as the
 * channels' settlement files do; then the fixed part is added; then the sum is clamped to [min, max].
 */
export interface FeeSchedule {
  /** Parts per million of the amount: 6000n is 0.6 %. */
  readonly ratePpm: bigint;
  readonly fixedMinor: bigint;
  readonly minMinor: bigint;
  /** null: no maximum. */
  readonly maxMinor: bigint | null;
}

const PPM = 1_000_000n;
/** 100 %: a fee rate above the whole amount is a configuration error, not a schedule. */
export const MAX_RATE_PPM = PPM;

export function assertFeeSchedule(schedule: FeeSchedule): void {
  if (schedule.ratePpm < 0n || schedule.ratePpm > MAX_RATE_PPM)
    throw new RangeError(`fee rate ${schedule.ratePpm} ppm is outside 0..${MAX_RATE_PPM}`);
  if (schedule.fixedMinor < 0n) throw new RangeError(`fixed fee ${schedule.fixedMinor} is negative`);
  if (schedule.minMinor < 0n) throw new RangeError(`minimum fee ${schedule.minMinor} is negative`);
  if (schedule.maxMinor !== null && schedule.maxMinor < schedule.minMinor)
    throw new RangeError(`maximum fee ${schedule.maxMinor} is below the minimum ${schedule.minMinor}`);
}

/** The rate part rounded half up: floor((amount * rate + 500_000) / 1_000_000) for non-negative operands. */
export function ratePartMinor(amountMinor: bigint, ratePpm: bigint): bigint {
  return (amountMinor * ratePpm + PPM / 2n) / PPM;
}

export function feeMinor(schedule: FeeSchedule, amountMinor: bigint): bigint {
  assertFeeSchedule(schedule);
  if (amountMinor < 0n) throw new RangeError(`amount ${amountMinor} is negative`);
  const raw = ratePartMinor(amountMinor, schedule.ratePpm) + schedule.fixedMinor;
  const atLeastMin = raw < schedule.minMinor ? schedule.minMinor : raw;
  return schedule.maxMinor !== null && atLeastMin > schedule.maxMinor ? schedule.maxMinor : atLeastMin;
}

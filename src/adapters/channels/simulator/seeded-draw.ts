import { createHmac } from 'node:crypto';

/**
 * The simulator's randomness: every draw is a keyed hash of the seed and what it is for (channel, order
 * number, purpose, attempt), not the next number of one shared generator. A run with the same seed and
 * the same requests therefore draws the same outcomes whatever order concurrent requests arrive in.
 * (node:crypto's HMAC is the whole generator: a library PRNG would add a sequence to keep in step.)
 */
export function drawPpm(seed: string, ...purpose: readonly (string | number)[]): number {
  const digest = createHmac('sha256', seed).update(purpose.join('\u0000')).digest();
  // 48 bits, well inside a double's exact integers, scaled to [0, 1_000_000).
  return Math.floor((digest.readUIntBE(0, 6) / 2 ** 48) * 1_000_000);
}

/** A draw in [min, max], whole numbers. */
export function drawBetween(
  seed: string,
  range: { min: number; max: number },
  ...purpose: readonly (string | number)[]
): number {
  return range.min + Math.floor((drawPpm(seed, ...purpose) * (range.max - range.min + 1)) / 1_000_000);
}

/** True for a share of `ratePpm` of the draws. */
export function happens(seed: string, ratePpm: number, ...purpose: readonly (string | number)[]): boolean {
  return ratePpm > 0 && drawPpm(seed, ...purpose) < ratePpm;
}

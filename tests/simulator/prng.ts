/**
 * The simulator's only source of chance: mulberry32, a 32-bit generator whose whole state is one number,
 * so a seed replays every draw (operations, clients, faults, timing) exactly. Never Math.random.
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed ${seed} is not a non-negative integer`);
    // Fold the high bits in, so seeds above 2^32 do not collide with their low halves.
    this.#state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). The modulo bias is below 2^-20 for the small n used here. */
  below(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 20) throw new RangeError(`below(${n})`);
    return this.next() % n;
  }

  /** True with `percent` % probability. */
  chance(percent: number): boolean {
    return this.below(10_000) < percent * 100;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from nothing');
    return items[this.below(items.length)]!;
  }

  /** A weighted choice: `[weight, value]` pairs, weights positive integers. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let draw = this.below(total);
    for (const [weight, value] of choices) {
      if (draw < weight) return value;
      draw -= weight;
    }
    throw new Error('unreachable: weights exhausted');
  }
}

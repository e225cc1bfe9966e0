import { createSecretKey, type KeyObject } from 'node:crypto';
import { assert } from '../../domain/shared/domain-error.js';

/**
 * Seeds opened from the vault, kept by this instance for a while as HMAC key objects, so that a seed's
 * next redemption (the next code of a payer at the till, on the bus, the payment right after login)
 * checks its code without the vault's two reads, the data key's unwrapping and AES-GCM.
 *
 * Bounded both ways: at most `maxSeeds` (the least recently used goes first) and each for `ttlMs` from
 * when it was opened, however often it is used (a hot seed is opened again every `ttlMs`). Evicted at once
 * on this instance when its seed is revoked (before the vault forgets it). docs/payment-codes.md says
 * what this trades: a cached key never verifies a revoked or expired seed's code, since every redemption
 * reads the seed's stream first, on any instance; what it keeps is the seed's key in this process's
 * memory, which already holds the vault's key-encryption key (it can open every seed).
 */
export interface OpenedSeedLimits {
  readonly maxSeeds: number;
  readonly ttlMs: number;
}

/** 10,000 keys of a few hundred bytes each; ten minutes covers a payer's next codes and the window. */
export const OPENED_SEED_LIMITS: OpenedSeedLimits = { maxSeeds: 10_000, ttlMs: 10 * 60_000 };

export class OpenedSeeds {
  /** Least recently used first (a Map keeps insertion order; a hit is moved to the end). */
  readonly #entries = new Map<string, { readonly key: KeyObject; readonly expiresAtMs: number }>();

  constructor(
    private readonly limits: OpenedSeedLimits,
    private readonly nowMs: () => number,
  ) {
    assert(Number.isInteger(limits.maxSeeds) && limits.maxSeeds >= 0, 'opened seeds: maxSeeds >= 0');
    assert(Number.isInteger(limits.ttlMs) && limits.ttlMs > 0, 'opened seeds: ttlMs > 0');
  }

  get size(): number {
    return this.#entries.size;
  }

  get(seedId: string): KeyObject | undefined {
    const entry = this.#entries.get(seedId);
    if (entry === undefined) return undefined;
    this.#entries.delete(seedId);
    if (this.nowMs() >= entry.expiresAtMs) return undefined;
    this.#entries.set(seedId, entry);
    return entry.key;
  }

  /** Keeps the seed's key (the bytes are the caller's to wipe) and answers it. */
  put(seedId: string, seed: Uint8Array): KeyObject {
    const key = createSecretKey(seed);
    if (this.limits.maxSeeds === 0) return key;
    this.#entries.delete(seedId);
    this.#entries.set(seedId, { key, expiresAtMs: this.nowMs() + this.limits.ttlMs });
    while (this.#entries.size > this.limits.maxSeeds) this.#entries.delete(this.#entries.keys().next().value!);
    return key;
  }

  evict(seedId: string): void {
    this.#entries.delete(seedId);
  }
}

/**
 * Remembers the nonces of signed requests, so a captured request cannot be replayed: a nonce is
 * accepted once per key while the request it came with could still pass the clock-skew check.
 *
 * A claim is refused while the (keyId, nonce) row exists. Rows are removed only once expired (by
 * `purgeExpired`, or a TTL index), and by then the request's timestamp is outside the skew window, so
 * a replay is refused by the timestamp check instead.
 *
 * A claim is acknowledged only once it survives a failover (MongoDB: majority write concern): a claim
 * rolled back with a failed primary would let the same request through again.
 *
 * Adapters: `sqlite` (embedded default) and `mongo` (MongoDB). Both are held to
 * tests/contract/nonce-registry.contract.ts.
 */
export interface NonceRegistry {
  readonly engine: 'sqlite' | 'mongo';
  /** True when this nonce was not yet held for this key (it is now, until `expiresAt`); false on a replay. */
  claim(keyId: string, nonce: string, expiresAt: Date): Promise<boolean>;
  /** Removes at most `maxRows` rows that expired at or before `now`; returns how many it removed. */
  purgeExpired(now: Date, maxRows: number): Promise<number>;
  close(): Promise<void>;
}

/** The registry refuses whatever the retry (credentials, permissions): an operator has to act. */
export class NonceRegistryRefusedError extends Error {
  override readonly name = 'NonceRegistryRefusedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The registry could not say whether the nonce is new (nothing reachable, or a claim it could not confirm):
 * the request is refused, never let through.
 */
export class NonceRegistryUnavailableError extends Error {
  override readonly name = 'NonceRegistryUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Longest key id and nonce a registry stores; the HTTP layer refuses longer ones before asking. */
export const MAX_KEY_ID_LENGTH = 100;
export const MAX_NONCE_LENGTH = 64;

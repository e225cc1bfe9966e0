/**
 * The vault: card and identity data (card numbers, ID numbers, real names, reserved phones) held as
 * ciphertext in a store of its own, never in the event log, a read model or a log line.
 *
 * - `seal` encrypts under the subject's data key (created on first use) and answers an opaque reference:
 *   safe to put in an event (no key material, no plaintext, not even the subject).
 * - `open` answers the plaintext, or `'erased'` once the subject was forgotten; it throws
 *   `VaultReferenceUnknown` for a reference it never issued and `VaultIntegrityError` when the ciphertext,
 *   its subject or its purpose was changed in the store (AES-GCM authenticates all three).
 * - `forget` is crypto-shredding: the subject's data key is destroyed, its ciphertexts stay and can never be
 *   opened again. Idempotent. Sealing for a forgotten subject is refused (`VaultSubjectErased`).
 * - `rewrapDataKeys` rotates the key-encryption key: it rewraps up to `limit` data keys still under an older
 *   KEK onto the current one, never touching the ciphertexts. Run it until `remaining` is 0 (resumable: a
 *   crash loses nothing, the next call continues); only then may the old KEK be removed.
 *
 * One implementation (src/adapters/crypto/envelope-vault.ts) over the `VaultKeyStore` below, whose adapters
 * (SQLite, MongoDB) are held to tests/contract/secret-vault.contract.ts.
 */
export type VaultReference = string;

export interface KekRotationProgress {
  /** Data keys rewrapped by this call. */
  readonly rewrapped: number;
  /** Data keys still under an older KEK after this call. */
  readonly remaining: number;
  readonly currentKekVersion: number;
}

export interface SecretVault {
  seal(subjectId: string, purpose: string, plaintext: Uint8Array): Promise<VaultReference>;
  open(reference: VaultReference): Promise<Uint8Array | 'erased'>;
  forget(subjectId: string, reason: string): Promise<void>;
  /** Whether the subject was forgotten. */
  isForgotten(subjectId: string): Promise<boolean>;
  rewrapDataKeys(limit?: number): Promise<KekRotationProgress>;
  close(): Promise<void>;
}

/** Limits: what one seal takes, and what one rotation batch rewraps. */
export const MAX_VAULT_PLAINTEXT_BYTES = 4_096;
export const MAX_VAULT_SUBJECT_ID_LENGTH = 128;
export const MAX_VAULT_PURPOSE_LENGTH = 64;
export const MAX_VAULT_ERASE_REASON_LENGTH = 500;
export const MAX_REWRAP_BATCH = 1_000;
export const DEFAULT_REWRAP_BATCH = 200;

export class VaultReferenceUnknown extends Error {
  override readonly name = 'VaultReferenceUnknown';
}

export class VaultIntegrityError extends Error {
  override readonly name = 'VaultIntegrityError';
}

export class VaultSubjectErased extends Error {
  override readonly name = 'VaultSubjectErased';
}

// ---- the storage under the vault: bytes only, it never sees a key in clear ----

/** A subject's data key as stored: wrapped under KEK `kekVersion`, or null once erased. */
export interface StoredDataKey {
  readonly subjectId: string;
  readonly wrappedKey: Buffer | null;
  readonly kekVersion: number;
  readonly createdAtMs: number;
  readonly erasedAtMs: number | null;
}

export interface StoredSecret {
  readonly reference: string;
  readonly subjectId: string;
  readonly purpose: string;
  /** 12-byte GCM nonce. */
  readonly nonce: Buffer;
  /** Ciphertext followed by the 16-byte GCM tag. */
  readonly sealed: Buffer;
  readonly createdAtMs: number;
}

export interface VaultKeyStore {
  readonly engine: 'sqlite' | 'mongo';
  getDataKey(subjectId: string): Promise<StoredDataKey | null>;
  /**
   * Stores `key` unless the subject already has one (created by a concurrent seal, or erased): answers
   * the subject's key as stored after the call, so two first seals at once agree on one key.
   */
  createDataKey(key: StoredDataKey): Promise<StoredDataKey>;
  /**
   * Destroys the wrapped key (an erased tombstone when the subject had none), keeping the first erasure's
   * time and reason. Idempotent.
   */
  eraseDataKey(subjectId: string, reason: string, nowMs: number): Promise<void>;
  /** Up to `limit` live data keys wrapped under a KEK other than `kekVersion`. */
  dataKeysNotUnder(kekVersion: number, limit: number): Promise<StoredDataKey[]>;
  /** How many live data keys are wrapped under a KEK other than `kekVersion`. */
  countDataKeysNotUnder(kekVersion: number): Promise<number>;
  /**
   * Replaces a live key's wrapping only while it is still under `fromVersion` (compare-and-set: two
   * rotations at once, or an erasure meanwhile, never resurrect or double-wrap a key). True when replaced.
   */
  rewrapDataKey(subjectId: string, fromVersion: number, wrappedKey: Buffer, toVersion: number): Promise<boolean>;
  putSecret(secret: StoredSecret): Promise<void>;
  getSecret(reference: string): Promise<StoredSecret | null>;
  close(): Promise<void>;
}

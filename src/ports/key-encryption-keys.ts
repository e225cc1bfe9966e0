/**
 * Key-encryption keys (KEKs): the keys the vault wraps each subject's data key under. Versioned: one is
 * current (new data keys are wrapped under it, rotation rewraps onto it) and the previous ones stay
 * readable until every data key has been rewrapped. A KMS adapter can replace the configured one: the vault
 * only ever asks for key bytes by version.
 */
export interface KeyEncryptionKey {
  /** A positive integer, recorded beside every wrapped data key. */
  readonly version: number;
  /** 32 bytes (AES-256). */
  readonly key: Buffer;
}

export interface KeyEncryptionKeys {
  current(): KeyEncryptionKey;
  /** The key of `version`, or undefined when it is no longer (or never was) configured. */
  byVersion(version: number): KeyEncryptionKey | undefined;
}

export const KEK_BYTES = 32;
/** Most KEK versions configured at once (current and those still being rotated away from). */
export const MAX_KEK_VERSIONS = 16;

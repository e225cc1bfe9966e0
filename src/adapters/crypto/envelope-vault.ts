import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import { KEK_BYTES, type KeyEncryptionKeys } from '../../ports/key-encryption-keys.js';
import {
  DEFAULT_REWRAP_BATCH,
  MAX_REWRAP_BATCH,
  MAX_VAULT_ERASE_REASON_LENGTH,
  MAX_VAULT_PLAINTEXT_BYTES,
  MAX_VAULT_PURPOSE_LENGTH,
  MAX_VAULT_SUBJECT_ID_LENGTH,
  VaultIntegrityError,
  VaultReferenceUnknown,
  VaultSubjectErased,
  type KekRotationProgress,
  type SecretVault,
  type StoredDataKey,
  type VaultKeyStore,
  type VaultReference,
} from '../../ports/secret-vault.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const REFERENCE_PREFIX = 'vref_';
const REFERENCE_PATTERN = /^vref_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PURPOSE_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * Envelope encryption (AES-256-GCM, node:crypto) over a `VaultKeyStore`: each subject has a random data
 * key, stored only wrapped under the current key-encryption key; each secret is encrypted under its
 * subject's data key with a fresh random 96-bit nonce (random nonces are safe far beyond the 2^32 seals
 * per key NIST allows: a subject seals a handful of values). The additional authenticated data binds a
 * ciphertext to its reference, subject and purpose, and a wrapped key to its subject and KEK version, so
 * no row can be moved to another subject, purpose or reference in the store without `open` failing.
 */
export class EnvelopeVault implements SecretVault {
  constructor(
    private readonly store: VaultKeyStore,
    private readonly keks: KeyEncryptionKeys,
    private readonly clock: Clock,
  ) {}

  get engine(): VaultKeyStore['engine'] {
    return this.store.engine;
  }

  async seal(subjectId: string, purpose: string, plaintext: Uint8Array): Promise<VaultReference> {
    checkSubject(subjectId);
    if (purpose.length > MAX_VAULT_PURPOSE_LENGTH || !PURPOSE_PATTERN.test(purpose))
      throw new RangeError(
        `a vault purpose is 1 to ${MAX_VAULT_PURPOSE_LENGTH} of a-z 0-9 _ . - (got ${purpose.length})`,
      );
    if (plaintext.byteLength > MAX_VAULT_PLAINTEXT_BYTES)
      throw new RangeError(`at most ${MAX_VAULT_PLAINTEXT_BYTES} bytes are sealed at once`);
    const dataKey = await this.liveDataKey(subjectId);
    const reference = `${REFERENCE_PREFIX}${randomUUID()}`;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
    cipher.setAAD(secretAad(reference, subjectId, purpose));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    dataKey.fill(0);
    await this.store.putSecret({
      reference,
      subjectId,
      purpose,
      nonce,
      sealed,
      createdAtMs: this.clock.now().toMillis(),
    });
    return reference;
  }

  async open(reference: VaultReference): Promise<Uint8Array | 'erased'> {
    if (!REFERENCE_PATTERN.test(reference)) throw new VaultReferenceUnknown('not a vault reference');
    const secret = await this.store.getSecret(reference);
    if (secret === null) throw new VaultReferenceUnknown('no such vault reference');
    const stored = await this.store.getDataKey(secret.subjectId);
    if (stored === null) throw new VaultIntegrityError('the secret has no data key');
    if (stored.wrappedKey === null) return 'erased';
    if (secret.nonce.length !== NONCE_BYTES || secret.sealed.length < TAG_BYTES)
      throw new VaultIntegrityError('malformed ciphertext');
    const dataKey = this.unwrap(stored);
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, secret.nonce);
      decipher.setAAD(secretAad(secret.reference, secret.subjectId, secret.purpose));
      decipher.setAuthTag(secret.sealed.subarray(secret.sealed.length - TAG_BYTES));
      const body = secret.sealed.subarray(0, secret.sealed.length - TAG_BYTES);
      return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
    } catch {
      throw new VaultIntegrityError('the ciphertext does not authenticate (changed in the store?)');
    } finally {
      dataKey.fill(0);
    }
  }

  async forget(subjectId: string, reason: string): Promise<void> {
    checkSubject(subjectId);
    if (reason.length === 0 || reason.length > MAX_VAULT_ERASE_REASON_LENGTH)
      throw new RangeError(`an erasure reason is 1 to ${MAX_VAULT_ERASE_REASON_LENGTH} characters`);
    await this.store.eraseDataKey(subjectId, reason, this.clock.now().toMillis());
  }

  async isForgotten(subjectId: string): Promise<boolean> {
    checkSubject(subjectId);
    return (await this.store.getDataKey(subjectId))?.wrappedKey === null;
  }

  async rewrapDataKeys(limit = DEFAULT_REWRAP_BATCH): Promise<KekRotationProgress> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REWRAP_BATCH)
      throw new RangeError(`a rewrap batch is 1 to ${MAX_REWRAP_BATCH} data keys`);
    const current = this.keks.current();
    let rewrapped = 0;
    for (const stored of await this.store.dataKeysNotUnder(current.version, limit)) {
      const dataKey = this.unwrap(stored);
      const wrapped = wrap(dataKey, stored.subjectId, current.version, current.key);
      dataKey.fill(0);
      // Lost to a concurrent rotation or erasure: that one's outcome stands.
      if (await this.store.rewrapDataKey(stored.subjectId, stored.kekVersion, wrapped, current.version)) rewrapped += 1;
    }
    return {
      rewrapped,
      remaining: await this.store.countDataKeysNotUnder(current.version),
      currentKekVersion: current.version,
    };
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** The subject's data key in clear (the caller zeroes it), created and stored wrapped on first use. */
  private async liveDataKey(subjectId: string): Promise<Buffer> {
    let stored = await this.store.getDataKey(subjectId);
    if (stored === null) {
      const current = this.keks.current();
      const fresh = randomBytes(DATA_KEY_BYTES);
      stored = await this.store.createDataKey({
        subjectId,
        wrappedKey: wrap(fresh, subjectId, current.version, current.key),
        kekVersion: current.version,
        createdAtMs: this.clock.now().toMillis(),
        erasedAtMs: null,
      });
      fresh.fill(0);
    }
    if (stored.wrappedKey === null) throw new VaultSubjectErased('the subject was forgotten: nothing is sealed for it');
    return this.unwrap(stored);
  }

  private unwrap(stored: StoredDataKey): Buffer {
    const kek = this.keks.byVersion(stored.kekVersion);
    if (kek === undefined)
      throw new VaultIntegrityError(`the data key is wrapped under KEK version ${stored.kekVersion}, not configured`);
    const wrapped = stored.wrappedKey!;
    if (wrapped.length !== NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES)
      throw new VaultIntegrityError('malformed data key');
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek.key, wrapped.subarray(0, NONCE_BYTES));
      decipher.setAAD(dataKeyAad(stored.subjectId, stored.kekVersion));
      decipher.setAuthTag(wrapped.subarray(NONCE_BYTES + DATA_KEY_BYTES));
      return Buffer.concat([
        decipher.update(wrapped.subarray(NONCE_BYTES, NONCE_BYTES + DATA_KEY_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new VaultIntegrityError(
        `the data key does not unwrap under KEK version ${stored.kekVersion} (a wrong KEK?)`,
      );
    }
  }
}

function wrap(dataKey: Buffer, subjectId: string, kekVersion: number, kek: Buffer): Buffer {
  if (kek.length !== KEK_BYTES) throw new RangeError(`a KEK is ${KEK_BYTES} bytes`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(dataKeyAad(subjectId, kekVersion));
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

// NUL separates the fields: none may contain it (subject ids and purposes are checked, references are ours).
function secretAad(reference: string, subjectId: string, purpose: string): Buffer {
  return Buffer.from(`ledger-vault-secret:v1\u0000${reference}\u0000${subjectId}\u0000${purpose}`, 'utf8');
}

function dataKeyAad(subjectId: string, kekVersion: number): Buffer {
  return Buffer.from(`ledger-vault-data-key:v1\u0000${subjectId}\u0000${kekVersion}`, 'utf8');
}

function checkSubject(subjectId: string): void {
  if (subjectId.length === 0 || subjectId.length > MAX_VAULT_SUBJECT_ID_LENGTH || /\p{Cc}/u.test(subjectId))
    throw new RangeError(`a vault subject id is 1 to ${MAX_VAULT_SUBJECT_ID_LENGTH} printable characters`);
}

import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { DomainError } from '../../domain/shared/domain-error.js';

/** Largest public key text accepted (a PEM Ed25519 key is about 113 bytes; room for line endings). */
export const MAX_PUBLIC_KEY_TEXT_LENGTH = 1_000;

/**
 * Reads an Ed25519 public key given as PEM ("-----BEGIN PUBLIC KEY-----") or as base64 of the DER
 * SubjectPublicKeyInfo, and returns the base64 DER the ledger stores. Anything else is refused.
 */
export function parseEd25519PublicKey(text: string): string {
  let key: KeyObject;
  try {
    const trimmed = text.trim();
    key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey({ key: trimmed, format: 'pem' })
      : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new DomainError('invalid_public_key', 'the public key is neither PEM nor base64 DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new DomainError(
      'invalid_public_key',
      `the public key is ${key.asymmetricKeyType ?? 'of an unknown type'}, not Ed25519`,
    );
  }
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** The stored form as a key object for `crypto.verify`. */
export function ed25519KeyObject(spkiBase64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
}

/** SHA-256 of the DER, hex: what an operator compares with the key a merchant says it sent. */
export function publicKeyFingerprint(spkiBase64: string): string {
  return createHash('sha256').update(Buffer.from(spkiBase64, 'base64')).digest('hex');
}

/** A fresh key pair: the public half as the ledger stores it, the private half as PKCS#8 PEM for its holder. */
export function generateEd25519KeyPair(): { publicKey: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

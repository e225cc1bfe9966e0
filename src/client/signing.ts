import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * Request signing for the ledger API (see docs/authentication.md). Self-contained: the server verifies
 * with the same `signingString`, and a client may copy this file as it is.
 *
 * Every request carries four headers; the signature is Ed25519 over
 *
 *   METHOD \n PATH_WITH_QUERY \n TIMESTAMP \n NONCE \n SHA256_HEX_OF_RAW_BODY
 *
 * METHOD upper case; PATH_WITH_QUERY exactly as sent ("/v1/accounts/1015550123456782?minPosition=9");
 * TIMESTAMP the X-Ledger-Timestamp value (UTC ISO-8601, "2026-11-21T10:00:00.000Z"); NONCE the
 * X-Ledger-Nonce value; the body hash is over the exact bytes sent (an empty body hashes "").
 */
export const SIGNATURE_HEADERS = {
  keyId: 'x-ledger-key-id',
  timestamp: 'x-ledger-timestamp',
  nonce: 'x-ledger-nonce',
  signature: 'x-ledger-signature',
} as const;

export type SignatureHeaders = Record<(typeof SIGNATURE_HEADERS)[keyof typeof SIGNATURE_HEADERS], string>;

/** 16 to 64 URL-safe characters; 16 random bytes in base64url (22 characters) is plenty. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
/** UTC only, with a "Z": no offsets, so client and server read the same instant. */
export const TIMESTAMP_PATTERN = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?Z$/;
const NONCE_BYTES = 16;

export interface SigningInput {
  readonly method: string;
  readonly pathWithQuery: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly bodySha256Hex: string;
}

export function signingString(input: SigningInput): string {
  return [input.method.toUpperCase(), input.pathWithQuery, input.timestamp, input.nonce, input.bodySha256Hex].join(
    '\n',
  );
}

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export interface SignRequestInput {
  readonly method: string;
  /** Path and query exactly as the request line will carry them. */
  readonly pathWithQuery: string;
  /** The exact body bytes (or UTF-8 text) that will be sent; omit or null for none. */
  readonly body?: string | Uint8Array | null;
  readonly keyId: string;
  /** PKCS#8 PEM of the Ed25519 private key, or a key object made from it once. */
  readonly privateKeyPem: string | KeyObject;
  /** Defaults to the current time. */
  readonly now?: Date;
  /** Defaults to 16 random bytes, base64url. Never reuse one. */
  readonly nonce?: string;
}

export function signRequest(input: SignRequestInput): SignatureHeaders {
  if (!input.pathWithQuery.startsWith('/')) throw new Error('pathWithQuery must start with "/"');
  const timestamp = (input.now ?? new Date()).toISOString();
  const nonce = input.nonce ?? randomBytes(NONCE_BYTES).toString('base64url');
  if (!NONCE_PATTERN.test(nonce)) throw new Error('a nonce is 16 to 64 characters of A-Z a-z 0-9 _ -');
  const key = typeof input.privateKeyPem === 'string' ? createPrivateKey(input.privateKeyPem) : input.privateKeyPem;
  const text = signingString({
    method: input.method,
    pathWithQuery: input.pathWithQuery,
    timestamp,
    nonce,
    bodySha256Hex: sha256Hex(input.body ?? ''),
  });
  // Ed25519 hashes internally: the algorithm argument is null.
  const signature = sign(null, Buffer.from(text, 'utf8'), key).toString('base64url');
  return {
    [SIGNATURE_HEADERS.keyId]: input.keyId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signature,
  };
}

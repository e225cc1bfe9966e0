import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How the simulated channels sign their messages, the way real bank gateways do: HMAC-SHA256 with a
 * per-channel key over a canonical form of the message, carried in headers.
 *
 *   canonical = KIND \n PATH \n TIMESTAMP_MS \n NONCE \n hex(SHA-256(body))
 *
 * KIND is the request method (`POST`) for requests and callbacks, `RESPONSE` for answers. An answer
 * is signed over the request's path and nonce, which binds it to that request: an answer recorded for
 * another request does not verify. The timestamp bounds replay to `maxSkewMs`.
 */
export const SIGNATURE_HEADERS = {
  keyId: 'x-channel-key-id',
  timestamp: 'x-channel-timestamp',
  nonce: 'x-channel-nonce',
  signature: 'x-channel-signature',
} as const;

/** Answers and callbacks older or newer than this are refused: five minutes, as most gateways allow. */
export const MAX_SKEW_MS = 5 * 60_000;

export interface ChannelKey {
  readonly keyId: string;
  /** The shared secret, at least 32 bytes. */
  readonly secret: Buffer;
}

export function assertChannelKey(key: ChannelKey): void {
  if (key.secret.length < 32) throw new RangeError(`channel key ${key.keyId} is shorter than 32 bytes`);
}

export interface SignedParts {
  readonly kind: string;
  readonly path: string;
  readonly timestampMs: number;
  readonly nonce: string;
  readonly body: Buffer | string;
}

function canonical(parts: SignedParts): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return `${parts.kind}\n${parts.path}\n${parts.timestampMs}\n${parts.nonce}\n${bodyHash}`;
}

export function signatureOf(key: ChannelKey, parts: SignedParts): string {
  return createHmac('sha256', key.secret).update(canonical(parts)).digest('base64url');
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The headers of a message signed now. */
export function signatureHeaders(key: ChannelKey, parts: SignedParts): Record<string, string> {
  return {
    [SIGNATURE_HEADERS.keyId]: key.keyId,
    [SIGNATURE_HEADERS.timestamp]: String(parts.timestampMs),
    [SIGNATURE_HEADERS.nonce]: parts.nonce,
    [SIGNATURE_HEADERS.signature]: signatureOf(key, parts),
  };
}

export type SignatureCheck = 'valid' | 'bad_signature' | 'stale_timestamp' | 'malformed';

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' ? value : null;
}

/**
 * Checks a message's signature headers. `nonce` given: the message must carry that nonce (an answer to our
 * request); null: any nonce (a request or callback; replay is bounded by the timestamp, and receivers are
 * idempotent by order number and notification id).
 */
export function checkSignature(
  key: ChannelKey,
  message: {
    readonly kind: string;
    readonly path: string;
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    readonly body: Buffer | string;
  },
  nowMs: number,
  nonce: string | null = null,
): SignatureCheck {
  const keyId = header(message.headers, SIGNATURE_HEADERS.keyId);
  const timestamp = header(message.headers, SIGNATURE_HEADERS.timestamp);
  const sentNonce = header(message.headers, SIGNATURE_HEADERS.nonce);
  const signature = header(message.headers, SIGNATURE_HEADERS.signature);
  if (!keyId || !timestamp || !sentNonce || !signature || !/^[0-9]{1,16}$/.test(timestamp)) return 'malformed';
  if (keyId !== key.keyId) return 'bad_signature';
  if (nonce !== null && sentNonce !== nonce) return 'bad_signature';
  const timestampMs = Number(timestamp);
  const expected = Buffer.from(
    signatureOf(key, { kind: message.kind, path: message.path, timestampMs, nonce: sentNonce, body: message.body }),
  );
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
  return Math.abs(nowMs - timestampMs) > MAX_SKEW_MS ? 'stale_timestamp' : 'valid';
}

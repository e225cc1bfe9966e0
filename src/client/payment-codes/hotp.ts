import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/**
 * HOTP (RFC 4226 section 5.3) on `node:crypto` with a key object: the verifier's one-time value. The app
 * side computes the same value through `otpauth` (`PaymentCodes.oneTimeValue`); a unit test holds the two
 * equal on RFC 6238's vectors and on random seeds and steps.
 *
 * Why not `otpauth` on the server: it hands node:crypto the key as bytes on every call, and Node prepares a
 * key object from them each time, which costs about three HMACs; the verifier makes the key object once
 * per seed and checks up to `2 * window + 1` steps with it.
 */
const NODE_HASHES = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;
export type HotpAlgorithm = keyof typeof NODE_HASHES;

/** A seed as an HMAC key object: made once, used for every step checked. */
export function hotpKey(seed: Uint8Array): KeyObject {
  return createSecretKey(seed);
}

/**
 * The `digits`-digit HOTP value of `counter` (a step: a non-negative safe integer, as an 8-byte big-endian
 * counter), written as ASCII digits into `out` (its first `digits` bytes).
 */
export function writeHotp(
  key: KeyObject,
  algorithm: HotpAlgorithm,
  counter: number,
  digits: number,
  out: Buffer,
): void {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('an HOTP counter is a safe integer >= 0');
  if (!Number.isInteger(digits) || digits < 6 || digits > 9 || out.length < digits)
    throw new RangeError('HOTP digits 6..9');
  const message = Buffer.allocUnsafe(8);
  message.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  message.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac(NODE_HASHES[algorithm], key).update(message).digest();
  // Dynamic truncation: 31 bits from the offset the last nibble names.
  const offset = mac[mac.length - 1]! & 0x0f;
  let value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  for (let k = digits - 1; k >= 0; k -= 1) {
    out[k] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
}

import { createHmac, randomInt } from 'node:crypto';
import { secretText, type SensitiveText } from '../../domain/shared/sensitive-text.js';

/**
 * One-time SMS codes for step-up: six random digits, and their keyed hash for the challenge's events.
 * The hash is an HMAC under a server key and the challenge id: a million codes are quick to try against a
 * plain hash, not against an HMAC without the key; and the same code in two challenges hashes apart.
 */
export const ONE_TIME_CODE_DIGITS = 6;

export class OneTimeCodes {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new RangeError('the one-time code key is shorter than 32 bytes');
    this.#key = Buffer.from(key);
  }

  /** A fresh code from the system's CSPRNG, masked everywhere but `reveal()`. */
  issue(): SensitiveText {
    return secretText(String(randomInt(0, 10 ** ONE_TIME_CODE_DIGITS)).padStart(ONE_TIME_CODE_DIGITS, '0'));
  }

  /** HMAC-SHA256 (base64url) of the code as typed, bound to its challenge. */
  hmacOf(challengeId: string, code: SensitiveText): string {
    return createHmac('sha256', this.#key).update(`${challengeId}\u0000${code.reveal()}`).digest('base64url');
  }
}

import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { normalizeCardNumber } from '../../domain/cards/card-number.js';
import { readOrCreateKeyFile } from './key-file.js';

/** Where the embedded default keeps its generated fingerprint key, under DATA_DIR. */
export const CARD_FINGERPRINT_KEY_FILE = 'card-fingerprint.key';
const KEY_BYTES = 32;

/**
 * A keyed fingerprint of a card number: HMAC-SHA256(key, number), base64url, `cfp1_`-prefixed. Equal
 * cards give equal fingerprints, so one card bound twice is found before any channel call, and the
 * fingerprint may sit in events and read models: without the key nobody can test a guess (a plain hash of
 * a card number is reversed by trying the few billion numbers one BIN leaves).
 *
 * Its own key (CARD_FINGERPRINT_KEY), not one derived from the vault's KEK: the fingerprints stay in the
 * log for ever, so their key must outlive every KEK rotation (a derived key would change with the KEK and
 * no old fingerprint would match again), and the KEK stays confined to the vault (a KMS can hold it and
 * never release it). Erasure does not need it destroyed: a fingerprint reveals nothing without the key.
 */
export class CardFingerprints {
  private constructor(private readonly key: Buffer) {
    if (key.length < KEY_BYTES) throw new RangeError(`the card fingerprint key must be at least ${KEY_BYTES} bytes`);
  }

  /** The configured key, or the embedded default's key file under DATA_DIR (created, mode 0600, on first start). */
  static load(configuredKey: Buffer | undefined, dataDir: string): CardFingerprints {
    if (configuredKey !== undefined) return new CardFingerprints(configuredKey);
    const { text } = readOrCreateKeyFile(join(dataDir, CARD_FINGERPRINT_KEY_FILE), () =>
      randomBytes(KEY_BYTES).toString('base64'),
    );
    return new CardFingerprints(Buffer.from(text, 'base64'));
  }

  /** `digits`: a normalised card number (normalizeCardNumber), so spacing never changes the fingerprint. */
  of(digits: string): string {
    if (normalizeCardNumber(digits) !== digits) throw new RangeError('a fingerprint is of a normalised card number');
    return `cfp1_${createHmac('sha256', this.key).update(`card-fingerprint:v1\u0000${digits}`).digest('base64url')}`;
  }
}

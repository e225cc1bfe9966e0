import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import {
  ed25519PrivateKeyFromSeed,
  rawEd25519PublicKey,
  signCredential,
  verifyTap,
  type TapToCheck,
  type TapVerdict,
  type TransitCredential,
} from '../../client/transit.js';
import type { TransitConfig } from '../../config.js';
import type { TransitKeyring } from '../../ports/transit-keyring.js';
import { readOrCreateKeyFile } from './key-file.js';

/** Where the embedded default keeps its generated platform transit key (the Ed25519 seed), under DATA_DIR. */
export const TRANSIT_KEY_FILE = 'transit-signing.key';
const SEED_BYTES = 32;

/**
 * The configured seed (TRANSIT_SIGNING_KEY), or the embedded default's key file under DATA_DIR, created
 * (mode 0600) on first start and read back on every later one. A credential lives for its TTL, across
 * restarts: a key drawn afresh at each start would refuse every credential issued before it (each scan
 * `credential_signature_invalid`), which the crash soak found. With shared stores the key must be
 * configured (checkTransitKeyShared): instances with keys of their own would refuse each other's.
 */
export function transitSigningSeed(configured: Buffer | undefined, dataDir: string): Buffer {
  if (configured !== undefined) return configured;
  const { text } = readOrCreateKeyFile(join(dataDir, TRANSIT_KEY_FILE), () =>
    randomBytes(SEED_BYTES).toString('base64'),
  );
  const seed = Buffer.from(text, 'base64');
  if (seed.length !== SEED_BYTES)
    throw new RangeError(`${TRANSIT_KEY_FILE} must hold base64 of a 32-byte Ed25519 seed`);
  return seed;
}

/** The platform transit keys as configured: the current signing key and the retired ones that still verify. */
export class ConfiguredTransitKeyring implements TransitKeyring {
  readonly keyId: number;
  private readonly privateKey: KeyObject;
  private readonly publicKeys: ReadonlyMap<number, KeyObject>;

  constructor(config: Pick<TransitConfig, 'signingKeySeed' | 'keyId' | 'retiredKeys'>) {
    this.keyId = config.keyId;
    // Without a seed (a keyring built alone, in tests), credentials verify only until this process stops; the
    // service always passes one (transitSigningSeed).
    this.privateKey = config.signingKeySeed
      ? ed25519PrivateKeyFromSeed(config.signingKeySeed)
      : generateKeyPairSync('ed25519').privateKey;
    const keys = new Map<number, KeyObject>([[config.keyId, createPublicKey(this.privateKey)]]);
    for (const [keyId, raw] of config.retiredKeys) keys.set(keyId, rawEd25519PublicKey(raw));
    this.publicKeys = keys;
  }

  /** The keys a terminal is provisioned with (key id -> public key). */
  get verificationKeys(): ReadonlyMap<number, KeyObject> {
    return this.publicKeys;
  }

  sign(credential: TransitCredential): string {
    return signCredential(credential, this.privateKey);
  }

  verify(tap: TapToCheck): TapVerdict {
    return verifyTap(tap, this.publicKeys);
  }
}

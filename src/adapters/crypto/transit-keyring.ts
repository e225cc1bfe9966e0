import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
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

/** The platform transit keys as configured: the current signing key and the retired ones that still verify. */
export class ConfiguredTransitKeyring implements TransitKeyring {
  readonly keyId: number;
  private readonly privateKey: KeyObject;
  private readonly publicKeys: ReadonlyMap<number, KeyObject>;

  constructor(config: Pick<TransitConfig, 'signingKeySeed' | 'keyId' | 'retiredKeys'>) {
    this.keyId = config.keyId;
    // Without a configured key, credentials verify only until this process stops (tests, a first try).
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

import type { TapToCheck, TapVerdict, TransitCredential } from '../client/transit.js';

/**
 * The platform transit keys (src/adapters/crypto/transit-keyring.ts): signs new credentials with the
 * current key, and checks an uploaded scan exactly as a terminal does (src/client/transit.ts, verifyTap),
 * with the current and the retired keys. Types only from the client module: the wire format is defined once.
 */
export interface TransitKeyring {
  /** The id new credentials carry. */
  readonly keyId: number;
  sign(credential: TransitCredential): string;
  verify(tap: TapToCheck): TapVerdict;
}

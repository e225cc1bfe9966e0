import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Transit credentials and scan signatures (docs/transit.md): the byte layouts, the device's signer and
 * the terminal's offline verifier. Self-contained (node:crypto only): the server verifies uploaded scans
 * with this same code, so an app team, a terminal vendor and the ledger cannot disagree on a byte.
 *
 * Credential, version 1 (big-endian integers), shown as a QR code in base64url (no padding):
 *
 *   offset  size  field
 *   0       1     version = 0x01
 *   1       1     platform key id (1..255; which platform transit key signed it)
 *   2       16    credential id (UUID, its 16 bytes)
 *   18      32    device public key (raw Ed25519)
 *   50      4     issued at, Unix seconds (u32)
 *   54      4     expires at, Unix seconds (u32)
 *   58      3     currency, ISO 4217 letters (ASCII)
 *   61      8     fare cap per ride, minor units (u64)
 *   69      8     outstanding debt allowed, minor units (u64)
 *   77      1     user id length n (1..64)
 *   78      n     user id (UTF-8)
 *   78+n    64    platform signature: Ed25519 over CREDENTIAL_CONTEXT || bytes [0, 78+n)
 *
 * Scan signature: the device signs, with its private key, SCAN_CONTEXT || credential id (16) ||
 * terminal id length (1) || terminal id (UTF-8, 1..64) || scan time, Unix milliseconds (u64) ||
 * terminal nonce (16 bytes). The terminal sends its id, its clock's time and a fresh nonce (the
 * challenge); the device answers with its credential and that signature.
 */
export const TRANSIT_CREDENTIAL_VERSION = 1;
/** Domain separation: a credential signature can never pass as a scan signature, nor the reverse. */
export const CREDENTIAL_CONTEXT = 'ledger-core/transit-credential/v1\u0000';
export const SCAN_CONTEXT = 'ledger-core/transit-scan/v1\u0000';
export const TERMINAL_NONCE_BYTES = 16;
export const MAX_TRANSIT_USER_ID_BYTES = 64;
export const MAX_TERMINAL_ID_LENGTH = 64;
export const TERMINAL_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const FIXED_BYTES = 78;
const SIGNATURE_BYTES = 64;
const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;

export interface TransitCredential {
  readonly keyId: number;
  readonly credentialId: string;
  /** The device's raw Ed25519 public key, base64url (32 bytes). */
  readonly devicePublicKey: string;
  readonly issuedAtSeconds: number;
  readonly expiresAtSeconds: number;
  readonly currency: string;
  readonly fareCapMinor: bigint;
  readonly debtLimitMinor: bigint;
  readonly userId: string;
}

export interface DecodedCredential {
  readonly credential: TransitCredential;
  /** CREDENTIAL_CONTEXT || body is what the platform signed. */
  readonly body: Buffer;
  readonly signature: Buffer;
}

/** The payload is not a credential of this layout (length, version, fields out of range). */
export class TransitFormatError extends Error {
  override readonly name = 'TransitFormatError';
}

function uuidBytes(uuid: string): Buffer {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid))
    throw new TransitFormatError('credential id must be a UUID');
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function uuidText(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The credential's signed bytes (without the platform signature). */
export function encodeCredentialBody(credential: TransitCredential): Buffer {
  const user = Buffer.from(credential.userId, 'utf8');
  const device = Buffer.from(credential.devicePublicKey, 'base64url');
  if (user.length < 1 || user.length > MAX_TRANSIT_USER_ID_BYTES)
    throw new TransitFormatError('user id is 1..64 bytes');
  if (device.length !== 32) throw new TransitFormatError('device public key is 32 bytes');
  if (!Number.isInteger(credential.keyId) || credential.keyId < 1 || credential.keyId > 255)
    throw new TransitFormatError('key id is 1..255');
  for (const seconds of [credential.issuedAtSeconds, credential.expiresAtSeconds])
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > U32_MAX)
      throw new TransitFormatError('time out of range');
  for (const minor of [credential.fareCapMinor, credential.debtLimitMinor])
    if (minor < 0n || minor > U64_MAX) throw new TransitFormatError('amount out of range');
  if (!/^[A-Z]{3}$/.test(credential.currency)) throw new TransitFormatError('currency is three letters');
  const body = Buffer.alloc(FIXED_BYTES + user.length);
  body.writeUInt8(TRANSIT_CREDENTIAL_VERSION, 0);
  body.writeUInt8(credential.keyId, 1);
  uuidBytes(credential.credentialId).copy(body, 2);
  device.copy(body, 18);
  body.writeUInt32BE(credential.issuedAtSeconds, 50);
  body.writeUInt32BE(credential.expiresAtSeconds, 54);
  body.write(credential.currency, 58, 'ascii');
  body.writeBigUInt64BE(credential.fareCapMinor, 61);
  body.writeBigUInt64BE(credential.debtLimitMinor, 69);
  body.writeUInt8(user.length, 77);
  user.copy(body, FIXED_BYTES);
  return body;
}

/** The QR payload: the body and the platform's signature over it, base64url. */
export function signCredential(credential: TransitCredential, platformPrivateKey: KeyObject): string {
  const body = encodeCredentialBody(credential);
  const signature = sign(null, Buffer.concat([Buffer.from(CREDENTIAL_CONTEXT), body]), platformPrivateKey);
  return Buffer.concat([body, signature]).toString('base64url');
}

/** Largest payload text: the longest body and its signature in base64url. */
export const MAX_CREDENTIAL_PAYLOAD_LENGTH = Math.ceil(
  ((FIXED_BYTES + MAX_TRANSIT_USER_ID_BYTES + SIGNATURE_BYTES) * 4) / 3,
);

export function decodeCredential(payload: string): DecodedCredential {
  if (payload.length > MAX_CREDENTIAL_PAYLOAD_LENGTH || !/^[A-Za-z0-9_-]+$/.test(payload))
    throw new TransitFormatError('a credential is base64url text');
  const bytes = Buffer.from(payload, 'base64url');
  if (bytes.length < FIXED_BYTES + 1 + SIGNATURE_BYTES) throw new TransitFormatError('credential too short');
  if (bytes.readUInt8(0) !== TRANSIT_CREDENTIAL_VERSION) throw new TransitFormatError('unknown credential version');
  const userLength = bytes.readUInt8(77);
  if (
    userLength < 1 ||
    userLength > MAX_TRANSIT_USER_ID_BYTES ||
    bytes.length !== FIXED_BYTES + userLength + SIGNATURE_BYTES
  )
    throw new TransitFormatError('credential length does not match its user id length');
  const currency = bytes.toString('ascii', 58, 61);
  if (!/^[A-Z]{3}$/.test(currency)) throw new TransitFormatError('credential currency is not three letters');
  const keyId = bytes.readUInt8(1);
  if (keyId === 0) throw new TransitFormatError('key id 0 is not used');
  const userId = bytes.toString('utf8', FIXED_BYTES, FIXED_BYTES + userLength);
  if (Buffer.byteLength(userId, 'utf8') !== userLength) throw new TransitFormatError('user id is not UTF-8');
  return {
    credential: {
      keyId,
      credentialId: uuidText(bytes.subarray(2, 18)),
      devicePublicKey: bytes.subarray(18, 50).toString('base64url'),
      issuedAtSeconds: bytes.readUInt32BE(50),
      expiresAtSeconds: bytes.readUInt32BE(54),
      currency,
      fareCapMinor: bytes.readBigUInt64BE(61),
      debtLimitMinor: bytes.readBigUInt64BE(69),
      userId,
    },
    body: bytes.subarray(0, FIXED_BYTES + userLength),
    signature: bytes.subarray(FIXED_BYTES + userLength),
  };
}

export interface ScanChallenge {
  readonly credentialId: string;
  readonly terminalId: string;
  readonly scannedAtMs: number;
  /** 16 bytes, hex (32 characters). */
  readonly nonceHex: string;
}

/** What the device signs for one scan (see the layout above). */
export function scanMessage(challenge: ScanChallenge): Buffer {
  if (!TERMINAL_ID_PATTERN.test(challenge.terminalId))
    throw new TransitFormatError('terminal id is 1..64 of A-Z a-z 0-9 _ . : -');
  if (!/^[0-9a-f]{32}$/.test(challenge.nonceHex)) throw new TransitFormatError('nonce is 16 bytes of lower-case hex');
  if (!Number.isSafeInteger(challenge.scannedAtMs) || challenge.scannedAtMs < 0)
    throw new TransitFormatError('scan time is a non-negative integer of milliseconds');
  const terminal = Buffer.from(challenge.terminalId, 'ascii');
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(challenge.scannedAtMs));
  return Buffer.concat([
    Buffer.from(SCAN_CONTEXT),
    uuidBytes(challenge.credentialId),
    Buffer.from([terminal.length]),
    terminal,
    time,
    Buffer.from(challenge.nonceHex, 'hex'),
  ]);
}

/** The device's answer to a terminal's challenge: Ed25519, base64url (86 characters). */
export function signScan(challenge: ScanChallenge, devicePrivateKey: KeyObject): string {
  return sign(null, scanMessage(challenge), devicePrivateKey).toString('base64url');
}

/** A raw 32-byte Ed25519 public key (base64url) as a key object. */
export function rawEd25519PublicKey(rawBase64url: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: rawBase64url }, format: 'jwk' });
}

/** A key object's raw 32-byte Ed25519 public key, base64url. */
export function rawPublicKeyOf(key: KeyObject): string {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new TransitFormatError('not an Ed25519 key');
  return x;
}

/** The app's key pair: the private key stays on the device; the public key goes into the credential. */
export function generateDeviceKeyPair(): { publicKey: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: rawPublicKeyOf(publicKey), privateKey };
}

/** A device or platform private key from its 32-byte seed (test vectors, configuration). */
export function ed25519PrivateKeyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new TransitFormatError('an Ed25519 seed is 32 bytes');
  const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

/** Why a terminal (or the ledger, at upload) refuses a scan it can check with no network. */
export const OFFLINE_REFUSALS = [
  'credential_malformed',
  'platform_key_unknown',
  'credential_signature_invalid',
  'credential_not_yet_valid',
  'credential_expired',
  'scan_signature_invalid',
  'fare_above_cap',
  'currency_mismatch',
] as const;
export type OfflineRefusal = (typeof OFFLINE_REFUSALS)[number];

export interface TapToCheck {
  readonly credential: string;
  readonly deviceSignature: string;
  readonly terminalId: string;
  readonly scannedAtMs: number;
  readonly nonceHex: string;
  readonly fareMinor: bigint;
  readonly currency: string;
}

export type TapVerdict =
  | { readonly ok: true; readonly credential: TransitCredential }
  | { readonly ok: false; readonly refusal: OfflineRefusal; readonly credential: TransitCredential | null };

/**
 * The reference terminal verifier: everything a terminal can check with no network, judged at the scan
 * time (the terminal's clock; the ledger judges an upload at the scan time it carries). `platformKeys`
 * are the platform's transit public keys by key id, as the terminal was provisioned with them.
 * Revocation, duplicates across terminals and the payer's debt need the ledger: see docs/transit.md.
 */
export function verifyTap(tap: TapToCheck, platformKeys: ReadonlyMap<number, KeyObject>): TapVerdict {
  let decoded: DecodedCredential;
  try {
    decoded = decodeCredential(tap.credential);
  } catch (error) {
    if (error instanceof TransitFormatError) return { ok: false, refusal: 'credential_malformed', credential: null };
    throw error;
  }
  const { credential } = decoded;
  const refuse = (refusal: OfflineRefusal): TapVerdict => ({ ok: false, refusal, credential });
  const platformKey = platformKeys.get(credential.keyId);
  if (!platformKey) return refuse('platform_key_unknown');
  if (!verify(null, Buffer.concat([Buffer.from(CREDENTIAL_CONTEXT), decoded.body]), platformKey, decoded.signature))
    return refuse('credential_signature_invalid');
  if (tap.scannedAtMs < credential.issuedAtSeconds * 1000) return refuse('credential_not_yet_valid');
  if (tap.scannedAtMs >= credential.expiresAtSeconds * 1000) return refuse('credential_expired');
  const message = scanMessage({ ...tap, credentialId: credential.credentialId });
  let deviceKey: KeyObject;
  try {
    deviceKey = rawEd25519PublicKey(credential.devicePublicKey);
  } catch {
    // Signed by the platform, so never expected: the platform checks the key before it issues.
    return refuse('credential_malformed');
  }
  const signature = Buffer.from(tap.deviceSignature, 'base64url');
  if (signature.length !== SIGNATURE_BYTES || !verify(null, message, deviceKey, signature))
    return refuse('scan_signature_invalid');
  if (tap.currency !== credential.currency) return refuse('currency_mismatch');
  if (tap.fareMinor > credential.fareCapMinor) return refuse('fare_above_cap');
  return { ok: true, credential };
}

import { createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCredential,
  ed25519PrivateKeyFromSeed,
  encodeCredentialBody,
  rawPublicKeyOf,
  scanMessage,
  signCredential,
  signScan,
  verifyTap,
  type TapToCheck,
  type TransitCredential,
} from '../../src/client/transit.js';

/** The test vectors of docs/transit.md: the seeds, fields and expected bytes are printed there. */
const platformKey = ed25519PrivateKeyFromSeed(Buffer.alloc(32, 0x01));
const deviceKey = ed25519PrivateKeyFromSeed(Buffer.alloc(32, 0x02));
const platformKeys = new Map([[1, createPublicKey(platformKey)]]);
const credential: TransitCredential = {
  keyId: 1,
  credentialId: '0d7c6b6e-1d7e-4c59-8f71-0e1b2c3d4e5f',
  devicePublicKey: rawPublicKeyOf(createPublicKey(deviceKey)),
  issuedAtSeconds: 1_796_104_800,
  expiresAtSeconds: 1_796_709_600,
  currency: 'CNY',
  fareCapMinor: 500n,
  debtLimitMinor: 1000n,
  userId: 'u-5b0f1f0e-2f6e-4d7a-9a55-2c1d9e4b7a10',
};
const challenge = {
  credentialId: credential.credentialId,
  terminalId: 'bus-42-front',
  scannedAtMs: 1_796_111_112_345,
  nonceHex: '00112233445566778899aabbccddeeff',
};
const VECTORS = {
  platformPublicKey: 'iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w',
  devicePublicKey: 'gTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5Q',
  credentialBodyHex:
    '01010d7c6b6e1d7e4c598f710e1b2c3d4e5f8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b3946b0e62606b179ce0434e5900000000000001f400000000000003e826752d35623066316630652d326636652d346437612d396135352d326331643965346237613130',
  payload:
    'AQENfGtuHX5MWY9xDhssPU5fgTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5RrDmJgaxec4ENOWQAAAAAAAAH0AAAAAAAAA-gmdS01YjBmMWYwZS0yZjZlLTRkN2EtOWE1NS0yYzFkOWU0YjdhMTAibxH2eZG4kXJmnHQRBn1kkvfGKkBDZa_J6y9nicy1dNV8CBCJCyTVxR_6EqViP-owiwCGPCSVVvv3EpVKKgMB',
  scanMessageHex:
    '6c65646765722d636f72652f7472616e7369742d7363616e2f7631000d7c6b6e1d7e4c598f710e1b2c3d4e5f0c6275732d34322d66726f6e74000001a23090989900112233445566778899aabbccddeeff',
  deviceSignature: 'Uc4vHuPUj8y63ksixRqZodSoHMY47JgPyjuZvKz4BTWmowakUi81U_wponQ8_IWkgHnkyoIHfgS1-u-iAKwzDg',
};

const tapOf = (overrides: Partial<TapToCheck> = {}): TapToCheck => ({
  credential: VECTORS.payload,
  deviceSignature: VECTORS.deviceSignature,
  terminalId: challenge.terminalId,
  scannedAtMs: challenge.scannedAtMs,
  nonceHex: challenge.nonceHex,
  fareMinor: 200n,
  currency: 'CNY',
  ...overrides,
});

describe('transit credential and scan signature (docs/transit.md)', () => {
  it('derives Ed25519 keys from seeds as RFC 8032 does (test 1)', () => {
    const key = ed25519PrivateKeyFromSeed(
      Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'),
    );
    expect(Buffer.from(rawPublicKeyOf(createPublicKey(key)), 'base64url').toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    expect(sign(null, Buffer.alloc(0), key).toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('produces the documented vectors, byte for byte', () => {
    expect(rawPublicKeyOf(createPublicKey(platformKey))).toBe(VECTORS.platformPublicKey);
    expect(credential.devicePublicKey).toBe(VECTORS.devicePublicKey);
    expect(encodeCredentialBody(credential).toString('hex')).toBe(VECTORS.credentialBodyHex);
    expect(signCredential(credential, platformKey)).toBe(VECTORS.payload);
    expect(scanMessage(challenge).toString('hex')).toBe(VECTORS.scanMessageHex);
    expect(signScan(challenge, deviceKey)).toBe(VECTORS.deviceSignature);
    const doc = readFileSync(join(import.meta.dirname, '../../docs/transit.md'), 'utf8');
    for (const [name, value] of Object.entries(VECTORS)) expect(doc, name).toContain(value);
  });

  it('decodes what it encodes, for any fields in range', () => {
    fc.assert(
      fc.property(
        fc.record({
          keyId: fc.integer({ min: 1, max: 255 }),
          credentialId: fc.uuid(),
          issuedAtSeconds: fc.integer({ min: 0, max: 0xffff_ffff }),
          expiresAtSeconds: fc.integer({ min: 0, max: 0xffff_ffff }),
          currency: fc.constantFrom('CNY', 'USD', 'JPY'),
          fareCapMinor: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          debtLimitMinor: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          userId: fc.string({ minLength: 1, maxLength: 16 }),
        }),
        (fields) => {
          const value = { ...fields, devicePublicKey: VECTORS.devicePublicKey };
          const decoded = decodeCredential(signCredential(value, platformKey));
          expect(decoded.credential).toEqual(value);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('verifies a good tap offline, at its scan time', () => {
    expect(verifyTap(tapOf(), platformKeys)).toEqual({ ok: true, credential });
  });

  it('refuses what a terminal can see is wrong', () => {
    const refusal = (tap: Partial<TapToCheck>, keys = platformKeys) => {
      const verdict = verifyTap(tapOf(tap), keys);
      return verdict.ok ? 'ok' : verdict.refusal;
    };
    expect(refusal({ credential: 'not*base64url' })).toBe('credential_malformed');
    expect(refusal({ credential: VECTORS.payload.slice(0, 100) })).toBe('credential_malformed');
    expect(refusal({}, new Map([[2, createPublicKey(platformKey)]]))).toBe('platform_key_unknown');
    // Any changed byte of the signed body (here the fare cap) breaks the platform's signature.
    const bytes = Buffer.from(VECTORS.payload, 'base64url');
    bytes[68] = bytes[68]! ^ 0x01;
    expect(refusal({ credential: bytes.toString('base64url') })).toBe('credential_signature_invalid');
    expect(refusal({ scannedAtMs: credential.issuedAtSeconds * 1000 - 1 })).toBe('credential_not_yet_valid');
    expect(refusal({ scannedAtMs: credential.expiresAtSeconds * 1000 })).toBe('credential_expired');
    // The device signed another terminal, time or nonce: a replay elsewhere, or a forgery.
    expect(refusal({ terminalId: 'bus-42-rear' })).toBe('scan_signature_invalid');
    expect(refusal({ scannedAtMs: challenge.scannedAtMs + 1 })).toBe('scan_signature_invalid');
    expect(refusal({ nonceHex: 'ff112233445566778899aabbccddeeff' })).toBe('scan_signature_invalid');
    expect(refusal({ currency: 'USD' })).toBe('currency_mismatch');
    expect(refusal({ fareMinor: 501n })).toBe('fare_above_cap');
    expect(refusal({ fareMinor: 500n })).toBe('ok');
  });

  it('never takes one signature for the other (domain separation)', () => {
    const decoded = decodeCredential(VECTORS.payload);
    // The platform's credential signature, offered as a device's scan signature, fails.
    expect(verifyTap(tapOf({ deviceSignature: decoded.signature.toString('base64url') }), platformKeys).ok).toBe(false);
  });
});

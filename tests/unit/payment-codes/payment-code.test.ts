import fc from 'fast-check';
import { HOTP, Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { hotpKey, writeHotp } from '../../../src/client/payment-codes/hotp.js';
import {
  MAX_SLOT,
  PaymentCodes,
  SEED_BYTES,
  type PaymentCodeAlgorithm,
} from '../../../src/client/payment-codes/payment-code.js';

const ascii = (text: string) => Buffer.from(text, 'ascii');
const KEYS = new Map([[10, Buffer.alloc(16, 0x2b)]]);

describe('the one-time value is TOTP (RFC 6238 appendix B, 8 digits, X = 30 s, T0 = 0)', () => {
  const seeds: Record<PaymentCodeAlgorithm, Buffer> = {
    SHA1: ascii('12345678901234567890'),
    SHA256: ascii('12345678901234567890123456789012'),
    SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const vectors: [number, Record<PaymentCodeAlgorithm, string>][] = [
    [59, { SHA1: '94287082', SHA256: '46119246', SHA512: '90693936' }],
    [1111111109, { SHA1: '07081804', SHA256: '68084774', SHA512: '25091201' }],
    [1111111111, { SHA1: '14050471', SHA256: '67062674', SHA512: '99943326' }],
    [1234567890, { SHA1: '89005924', SHA256: '91819424', SHA512: '93441116' }],
    [2000000000, { SHA1: '69279037', SHA256: '90698825', SHA512: '38618901' }],
    [20000000000, { SHA1: '65353130', SHA256: '77737706', SHA512: '47863826' }],
  ];
  for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
    it(algorithm, () => {
      const codes = new PaymentCodes({ algorithm, stepSeconds: 30, keys: KEYS });
      for (const [unixSeconds, expected] of vectors) {
        const step = codes.stepAt(unixSeconds * 1000);
        expect(codes.oneTimeValue(seeds[algorithm], step)).toBe(expected[algorithm]);
        expect(
          codes.matchingStep({ seed: seeds[algorithm], oneTimeValue: expected[algorithm], step, windowSteps: 0 }),
        ).toBe(step);
      }
    });
  }
});

describe("the verifier's HOTP (node:crypto, a key object) is otpauth's", () => {
  const otpauth = (seed: Uint8Array, algorithm: PaymentCodeAlgorithm, counter: number) =>
    HOTP.generate({ secret: new Secret({ buffer: Uint8Array.from(seed).buffer }), algorithm, digits: 8, counter });
  const ours = (seed: Uint8Array, algorithm: PaymentCodeAlgorithm, counter: number) => {
    const out = Buffer.alloc(8);
    writeHotp(hotpKey(seed), algorithm, counter, 8, out);
    return out.toString('latin1');
  };

  it('on random seeds and steps of every algorithm, counters past 2^32 included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<PaymentCodeAlgorithm>('SHA1', 'SHA256', 'SHA512'),
        fc.integer({ min: 0, max: 255 }),
        fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
        (algorithm, fill, counter) => {
          const seed = Buffer.alloc(SEED_BYTES[algorithm], fill);
          seed.writeUInt32BE(counter % 2 ** 32, 0);
          expect(ours(seed, algorithm, counter)).toBe(otpauth(seed, algorithm, counter));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches with the seed as bytes or as its key object, the own step first', () => {
    const codes = new PaymentCodes({ algorithm: 'SHA256', stepSeconds: 60, keys: KEYS });
    const seed = Buffer.alloc(32, 5);
    const step = 29_935_440;
    for (const candidate of [step - 1, step, step + 1]) {
      const oneTimeValue = codes.oneTimeValue(seed, candidate);
      expect(codes.matchingStep({ seed, oneTimeValue, step, windowSteps: 1 })).toBe(candidate);
      expect(codes.matchingStep({ seed: hotpKey(seed), oneTimeValue, step, windowSteps: 1 })).toBe(candidate);
    }
    expect(() =>
      codes.matchingStep({ seed: hotpKey(Buffer.alloc(20)), oneTimeValue: '00000000', step, windowSteps: 1 }),
    ).toThrow(RangeError);
    expect(codes.matchingStep({ seed, oneTimeValue: '1234567', step, windowSteps: 1 })).toBeUndefined();
  });
});

describe('the payment code', () => {
  const codes = new PaymentCodes({
    algorithm: 'SHA1',
    stepSeconds: 60,
    keys: new Map([
      [10, Buffer.alloc(16, 1)],
      [11, Buffer.alloc(32, 2)],
    ]),
  });
  const seed = Buffer.alloc(SEED_BYTES.SHA1, 9);

  it('is 18 digits with its prefix in clear, and decodes to its slot and one-time value', () => {
    const atMs = Date.UTC(2026, 11, 1, 12, 0, 30);
    const code = codes.generate({ seed, slot: 42, prefix: 11, atMs });
    expect(code).toMatch(/^11[0-9]{16}$/);
    const decoded = codes.decode(code);
    expect(decoded).toEqual({ prefix: 11, slot: 42, oneTimeValue: codes.oneTimeValue(seed, codes.stepAt(atMs)) });
    expect(code.slice(2)).not.toContain('00000042');
  });

  it('changes every step and matches within the window only', () => {
    const atMs = Date.UTC(2026, 11, 1, 12, 0, 0);
    const now = codes.generate({ seed, slot: 7, prefix: 10, atMs });
    const next = codes.generate({ seed, slot: 7, prefix: 10, atMs: atMs + 60_000 });
    expect(next).not.toBe(now);
    const { oneTimeValue } = codes.decode(now)!;
    const step = codes.stepAt(atMs);
    expect(codes.matchingStep({ seed, oneTimeValue, step: step + 1, windowSteps: 1 })).toBe(step);
    expect(codes.matchingStep({ seed, oneTimeValue, step: step - 1, windowSteps: 1 })).toBe(step);
    expect(codes.matchingStep({ seed, oneTimeValue, step: step + 2, windowSteps: 1 })).toBeUndefined();
    expect(codes.matchingStep({ seed: Buffer.alloc(20, 8), oneTimeValue, step, windowSteps: 1 })).toBeUndefined();
  });

  it('decodes nothing from a malformed code or an unknown prefix', () => {
    expect(codes.decode('12' + '0'.repeat(16))).toBeUndefined(); // prefix 12 has no key here
    expect(codes.decode('16' + '0'.repeat(16))).toBeUndefined();
    expect(codes.decode('10' + '0'.repeat(15))).toBeUndefined();
    expect(codes.decode('10' + '0'.repeat(15) + 'a')).toBeUndefined();
  });

  it('refuses parameters outside the scheme', () => {
    expect(
      () => new PaymentCodes({ algorithm: 'SHA1', stepSeconds: 60, keys: new Map([[16, Buffer.alloc(16)]]) }),
    ).toThrow(RangeError);
    expect(() => new PaymentCodes({ algorithm: 'SHA1', stepSeconds: 5, keys: KEYS })).toThrow(RangeError);
    expect(() => codes.generate({ seed, slot: MAX_SLOT + 1, prefix: 10, atMs: 0 })).toThrow(RangeError);
    expect(() => codes.generate({ seed: Buffer.alloc(19), slot: 1, prefix: 10, atMs: 0 })).toThrow(RangeError);
  });

  it('codes of distinct live seeds never collide at any step (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: MAX_SLOT }), { minLength: 2, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 255 }),
        (slots, atMs, seedByte) => {
          // Every seed may even hold the same secret (the worst case: equal one-time values): still distinct.
          const shown = slots.map((slot, index) =>
            codes.generate({ seed: Buffer.alloc(20, (seedByte + (index % 2)) % 256), slot, prefix: 10, atMs }),
          );
          expect(new Set(shown).size).toBe(slots.length);
        },
      ),
    );
  });
});

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { PaymentCodes } from '../../../src/client/payment-codes/payment-code.js';
import { generatePaymentCode } from '../../../src/client/payment-codes/reference-client.js';

const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/payment-codes.md'), 'utf8');
const ROW = /^\| (\d+) +\| (1[0-5]) +\| `([^`]+)` \| (\d+) +\| (\d{8}) +\| `(\d{18})` \|$/gm;
const rows = [...doc.matchAll(ROW)].map(([, slot, prefix, at, step, oneTime, code]) => ({
  slot: Number(slot),
  prefix: Number(prefix),
  atMs: Date.parse(at!),
  step: Number(step),
  oneTime: oneTime!,
  code: code!,
}));

const parameters = {
  algorithm: 'SHA1' as const,
  stepSeconds: 60,
  keys: new Map([
    [10, Buffer.from('2B7E151628AED2A6ABF7158809CF4F3C', 'hex')],
    [15, Buffer.from('2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94', 'hex')],
  ]),
};

describe("docs/payment-codes.md's test vectors", () => {
  const seed = Secret.fromBase32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ').bytes;

  it('the base32 seed is the RFC 6238 SHA-1 seed', () => {
    expect(Buffer.from(seed).toString('ascii')).toBe('12345678901234567890');
  });

  it('are what the reference client shows and what the server decodes', () => {
    expect(rows.length).toBe(6);
    const codes = new PaymentCodes(parameters);
    for (const row of rows) {
      const shown = generatePaymentCode({ seed, slot: row.slot, prefix: row.prefix, atMs: row.atMs, parameters });
      expect(shown).toEqual({
        code: row.code,
        step: row.step,
        refreshAt: new Date((row.step + 1) * 60_000).toISOString(),
      });
      expect(codes.decode(row.code)).toEqual({ prefix: row.prefix, slot: row.slot, oneTimeValue: row.oneTime });
    }
  });
});

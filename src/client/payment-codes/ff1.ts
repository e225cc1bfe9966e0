import { createCipheriv } from 'node:crypto';

/**
 * FF1 (NIST SP 800-38G, section 5.1): a format-preserving permutation of numeral strings under an AES key
 * and a tweak. The payment code runs its 16 digits through it so that two seeds' codes can never be equal
 * (a permutation maps distinct inputs to distinct outputs) and the seed's slot is not readable off a
 * code without the key.
 *
 * It lives in the client because the payer's app computes it too (the server's verifier imports it, as it
 * imports the client's request signing): one implementation, checked against NIST's samples.
 *
 * Numbers are bigint (NUM and STR of the standard); radix up to 36 so the samples in radix 36 run too.
 * AES is one long-lived ECB cipher per key, fed one block at a time (never finalised), so a round costs
 * one block encryption and no cipher set-up. PRF(P || Q) is the CBC-MAC of two blocks when Q is one block;
 * AES(P) depends only on the key, the length and the tweak's length, so it is kept per (n, t).
 */
export const FF1_MAX_RADIX = 36;
/** The standard's minimum domain is radix^minlen >= 1,000,000; the length bound keeps a code's work bounded. */
export const FF1_MAX_LENGTH = 64;
export const FF1_MAX_TWEAK_BYTES = 64;

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
const ROUNDS = 10;
const BLOCK_BYTES = 16;
/** radix^v up to this takes the plain-number rounds (y mod m by Horner: m * 256 + 255 stays exact). */
const SMALL_MODULUS_LIMIT = 2 ** 32;

export class Ff1 {
  readonly #radix: number;
  readonly #ecb: ReturnType<typeof createCipheriv>;
  readonly #encryptedP = new Map<string, Buffer>();

  constructor(key: Uint8Array, radix = 10) {
    if (![16, 24, 32].includes(key.length)) throw new RangeError('an FF1 key is 16, 24 or 32 bytes (AES)');
    if (!Number.isInteger(radix) || radix < 2 || radix > FF1_MAX_RADIX) throw new RangeError('FF1 radix 2..36');
    this.#radix = radix;
    this.#ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.#ecb.setAutoPadding(false);
  }

  encrypt(numerals: string, tweak: Uint8Array = new Uint8Array(0)): string {
    return this.#run(numerals, tweak, 'encrypt');
  }

  decrypt(numerals: string, tweak: Uint8Array = new Uint8Array(0)): string {
    return this.#run(numerals, tweak, 'decrypt');
  }

  #block(input: Buffer): Buffer {
    const out = this.#ecb.update(input);
    if (out.length !== BLOCK_BYTES) throw new Error('AES-ECB answered other than one block');
    return out;
  }

  #run(numerals: string, tweak: Uint8Array, direction: 'encrypt' | 'decrypt'): string {
    const radix = this.#radix;
    const n = numerals.length;
    if (n < 2 || n > FF1_MAX_LENGTH) throw new RangeError(`FF1 takes 2..${FF1_MAX_LENGTH} numerals`);
    if (radix ** n < 1_000_000) throw new RangeError('FF1 domain below radix^n >= 1,000,000 (SP 800-38G)');
    if (tweak.length > FF1_MAX_TWEAK_BYTES) throw new RangeError(`FF1 tweak over ${FF1_MAX_TWEAK_BYTES} bytes`);
    const alphabet = DIGITS.slice(0, radix);
    for (const c of numerals) if (!alphabet.includes(c)) throw new RangeError(`not a radix-${radix} numeral`);

    const u = Math.floor(n / 2);
    const v = n - u;
    const b = Math.ceil(Math.ceil(v * Math.log2(radix)) / 8);
    const d = 4 * Math.ceil(b / 4) + 4;
    const t = tweak.length;
    const bigRadix = BigInt(radix);
    const modU = bigRadix ** BigInt(u);
    const modV = bigRadix ** BigInt(v);
    const encryptedP = this.#encryptedPFor(n, u, t);
    const qLength = t + ((((-t - b - 1) % 16) + 16) % 16) + 1 + b;
    const q = Buffer.alloc(qLength);
    q.set(tweak, 0);

    if (radix ** v <= SMALL_MODULUS_LIMIT) return this.#runSmall(numerals, u, v, b, d, encryptedP, q, direction);
    let a = parse(numerals.slice(0, u), bigRadix);
    let bNum = parse(numerals.slice(u), bigRadix);
    for (let step = 0; step < ROUNDS; step += 1) {
      const i = direction === 'encrypt' ? step : ROUNDS - 1 - step;
      const m = i % 2 === 0 ? modU : modV;
      const roundInput = direction === 'encrypt' ? bNum : a;
      q[qLength - b - 1] = i;
      writeBig(q, qLength - b, b, roundInput);
      const y = BigInt(`0x${this.#roundBytes(encryptedP, q, d).toString('hex')}`);
      if (direction === 'encrypt') {
        const c = (a + y) % m;
        a = bNum;
        bNum = c;
      } else {
        const c = (((bNum - y) % m) + m) % m;
        bNum = a;
        a = c;
      }
    }
    return format(a, bigRadix, u) + format(bNum, bigRadix, v);
  }

  /**
   * The same rounds in plain numbers when radix^v fits 32 bits (a payment code's 16 digits: 10^8): only
   * y mod radix^m matters, taken byte by byte (Horner), so no value ever leaves the exact integer range.
   * The bigint path above is the standard's text; the NIST samples and the round-trip property run both.
   */
  #runSmall(
    numerals: string,
    u: number,
    v: number,
    b: number,
    d: number,
    encryptedP: Buffer,
    q: Buffer,
    direction: 'encrypt' | 'decrypt',
  ): string {
    const radix = this.#radix;
    const modU = radix ** u;
    const modV = radix ** v;
    const qLength = q.length;
    let a = parseSmall(numerals.slice(0, u), radix);
    let bNum = parseSmall(numerals.slice(u), radix);
    for (let step = 0; step < ROUNDS; step += 1) {
      const i = direction === 'encrypt' ? step : ROUNDS - 1 - step;
      const m = i % 2 === 0 ? modU : modV;
      q[qLength - b - 1] = i;
      let rest = direction === 'encrypt' ? bNum : a;
      for (let k = qLength - 1; k >= qLength - b; k -= 1) {
        q[k] = rest % 256;
        rest = Math.floor(rest / 256);
      }
      const s = this.#roundBytes(encryptedP, q, d);
      let y = 0;
      for (let k = 0; k < d; k += 1) y = (y * 256 + s[k]!) % m;
      if (direction === 'encrypt') {
        const c = (a + y) % m;
        a = bNum;
        bNum = c;
      } else {
        const c = (bNum - y + m) % m;
        bNum = a;
        a = c;
      }
    }
    return formatSmall(a, radix, u) + formatSmall(bNum, radix, v);
  }

  /** S: the first d bytes of R || CIPH(R xor [1]) || CIPH(R xor [2]) ..., R = PRF(P || Q). */
  #roundBytes(encryptedP: Buffer, q: Buffer, d: number): Buffer {
    let r = encryptedP;
    for (let offset = 0; offset < q.length; offset += BLOCK_BYTES) {
      const x = Buffer.allocUnsafe(BLOCK_BYTES);
      for (let k = 0; k < BLOCK_BYTES; k += 1) x[k] = r[k]! ^ q[offset + k]!;
      r = this.#block(x);
    }
    const blocks = [r];
    for (let j = 1; j < Math.ceil(d / BLOCK_BYTES); j += 1) {
      const x = Buffer.from(r);
      x.writeUInt32BE(x.readUInt32BE(12) ^ j, 12);
      blocks.push(this.#block(x));
    }
    return blocks.length === 1 ? r.subarray(0, d) : Buffer.concat(blocks).subarray(0, d);
  }

  #encryptedPFor(n: number, u: number, t: number): Buffer {
    const id = `${n}/${t}`;
    const known = this.#encryptedP.get(id);
    if (known !== undefined) return known;
    const p = Buffer.alloc(BLOCK_BYTES);
    p.set([1, 2, 1], 0);
    p.writeUIntBE(this.#radix, 3, 3);
    p[6] = 10;
    p[7] = u % 256;
    p.writeUInt32BE(n, 8);
    p.writeUInt32BE(t, 12);
    const encrypted = this.#block(p);
    // Bounded: n is 2..64 and t 0..64, so at most 63 x 65 entries.
    this.#encryptedP.set(id, encrypted);
    return encrypted;
  }
}

function parse(numerals: string, radix: bigint): bigint {
  let x = 0n;
  for (const c of numerals) x = x * radix + BigInt(DIGITS.indexOf(c));
  return x;
}

function parseSmall(numerals: string, radix: number): number {
  let x = 0;
  for (let k = 0; k < numerals.length; k += 1) x = x * radix + DIGITS.indexOf(numerals[k]!);
  return x;
}

function formatSmall(x: number, radix: number, length: number): string {
  let out = '';
  let rest = x;
  for (let k = 0; k < length; k += 1) {
    out = DIGITS[rest % radix]! + out;
    rest = Math.floor(rest / radix);
  }
  return out;
}

function format(x: bigint, radix: bigint, length: number): string {
  const out: string[] = new Array<string>(length);
  let rest = x;
  for (let k = length - 1; k >= 0; k -= 1) {
    out[k] = DIGITS[Number(rest % radix)]!;
    rest /= radix;
  }
  return out.join('');
}

function writeBig(target: Buffer, offset: number, length: number, x: bigint): void {
  let rest = x;
  for (let k = offset + length - 1; k >= offset; k -= 1) {
    target[k] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

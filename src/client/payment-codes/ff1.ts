import { unsafe as aes } from '@noble/ciphers/aes.js';

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
 * AES is `@noble/ciphers`' block function on the key expanded once, in place on this instance's scratch
 * block: a round costs one block encryption, no cipher set-up and no allocation. (node:crypto's ECB
 * cipher, fed a block per `update()`, cost twice as much: a call into OpenSSL and a new Buffer per
 * block, and a code takes eleven sequential blocks.) The table-based AES is not constant-time, which
 * costs nothing here: the permutation keys are public parameters (docs/payment-codes.md). PRF(P || Q) is
 * the CBC-MAC of two blocks when Q is one block; AES(P) depends only on the key, the length and the
 * tweak's length, so it is kept per (n, t). An instance is not re-entrant (one scratch block), which
 * synchronous code never is.
 */
export const FF1_MAX_RADIX = 36;
/** The standard's minimum domain is radix^minlen >= 1,000,000; the length bound keeps a code's work bounded. */
export const FF1_MAX_LENGTH = 64;
export const FF1_MAX_TWEAK_BYTES = 64;

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
const ROUNDS = 10;
const BLOCK_BYTES = 16;
/** radix^v up to this takes the plain-number rounds (y mod m by Horner: m * 65,536 + 65,535 stays exact). */
const SMALL_MODULUS_LIMIT = 2 ** 32;

export class Ff1 {
  readonly #radix: number;
  /** The expanded AES key (the key is public: see above). */
  readonly #roundKeys: Uint32Array;
  /** R of the round, encrypted in place (aligned: the block function reads it as 32-bit words). */
  readonly #r = new Uint8Array(BLOCK_BYTES);
  readonly #encryptedP = new Map<string, Uint8Array>();

  constructor(key: Uint8Array, radix = 10) {
    if (![16, 24, 32].includes(key.length)) throw new RangeError('an FF1 key is 16, 24 or 32 bytes (AES)');
    if (!Number.isInteger(radix) || radix < 2 || radix > FF1_MAX_RADIX) throw new RangeError('FF1 radix 2..36');
    this.#radix = radix;
    this.#roundKeys = aes.expandKeyLE(Uint8Array.from(key));
  }

  encrypt(numerals: string, tweak: Uint8Array = new Uint8Array(0)): string {
    return this.#run(numerals, tweak, 'encrypt');
  }

  decrypt(numerals: string, tweak: Uint8Array = new Uint8Array(0)): string {
    return this.#run(numerals, tweak, 'decrypt');
  }

  /** AES-encrypts one 16-byte block in place. */
  #encryptInPlace(block: Uint8Array): void {
    aes.encryptBlock(this.#roundKeys, block);
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
      const s = this.#roundBytes(encryptedP, q, d);
      const y = BigInt(`0x${Buffer.from(s.buffer, s.byteOffset, s.length).toString('hex')}`);
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
    encryptedP: Uint8Array,
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
      // The round input is below radix^v <= 2^32: unsigned 32-bit shifts are exact.
      let rest = direction === 'encrypt' ? bNum : a;
      for (let k = qLength - 1; k >= qLength - b; k -= 1) {
        q[k] = rest & 0xff;
        rest = rest >>> 8;
      }
      const s = this.#roundBytes(encryptedP, q, d);
      // y mod m, two bytes at a time (d is a multiple of 4): y < m <= 2^32, so y * 2^16 + 65535 < 2^53.
      let y = 0;
      for (let k = 0; k < d; k += 2) y = (y * 65_536 + ((s[k]! << 8) | s[k + 1]!)) % m;
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
  #roundBytes(encryptedP: Uint8Array, q: Buffer, d: number): Uint8Array {
    const r = this.#r;
    r.set(encryptedP);
    for (let offset = 0; offset < q.length; offset += BLOCK_BYTES) {
      for (let k = 0; k < BLOCK_BYTES; k += 1) r[k] = r[k]! ^ q[offset + k]!;
      this.#encryptInPlace(r);
    }
    if (d <= BLOCK_BYTES) return r.subarray(0, d);
    const blockCount = Math.ceil(d / BLOCK_BYTES);
    const s = new Uint8Array(blockCount * BLOCK_BYTES);
    s.set(r, 0);
    for (let j = 1; j < blockCount; j += 1) {
      const x = s.subarray(j * BLOCK_BYTES, (j + 1) * BLOCK_BYTES);
      x.set(r);
      // [j] is 16 bytes big-endian; j < 2^32, so only the last four bytes change.
      for (let k = 0; k < 4; k += 1) x[12 + k] = x[12 + k]! ^ ((j >>> (8 * (3 - k))) & 0xff);
      this.#encryptInPlace(x);
    }
    return s.subarray(0, d);
  }

  #encryptedPFor(n: number, u: number, t: number): Uint8Array {
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
    const encrypted = new Uint8Array(p);
    this.#encryptInPlace(encrypted);
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

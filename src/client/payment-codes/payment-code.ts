import { KeyObject, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret } from 'otpauth';
import { Ff1 } from './ff1.js';
import { hotpKey, writeHotp } from './hotp.js';

/**
 * The offline payment code (docs/payment-codes.md): 18 digits, `PP SSSSSSSS OOOOOOOO` before the
 * permutation:
 *
 * - `PP`, the prefix, 10..15 in clear: names the platform permutation key (key rotation: a seed is issued
 *   with the newest prefix and keeps it for its life);
 * - `SSSSSSSS`, the seed's slot (0..99,999,999), a number the server gave this live seed, never the user id;
 * - `OOOOOOOO`, the one-time value: TOTP (RFC 6238, 8 digits) of the seed at the time step
 *   floor(unix seconds / stepSeconds), T0 = 0.
 *
 * The 16 digits after the prefix are FF1-encrypted under the prefix's key with the prefix's two ASCII digits
 * as the tweak. FF1 is a permutation, so two live seeds (distinct slots) give distinct codes at every step
 * whatever their one-time values: collision-free by construction, not by chance.
 */
export const PAYMENT_CODE_LENGTH = 18;
export const PAYMENT_CODE_PATTERN = /^1[0-5][0-9]{16}$/;
export const SLOT_DIGITS = 8;
export const ONE_TIME_DIGITS = 8;
export const MAX_SLOT = 10 ** SLOT_DIGITS - 1;
export const MIN_PREFIX = 10;
export const MAX_PREFIX = 15;
export const PAYMENT_CODE_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type PaymentCodeAlgorithm = (typeof PAYMENT_CODE_ALGORITHMS)[number];
/** Seed bytes per HMAC: the hash's output size (RFC 4226 section 4 asks at least 128 bits, advises 160). */
export const SEED_BYTES: Readonly<Record<PaymentCodeAlgorithm, number>> = { SHA1: 20, SHA256: 32, SHA512: 64 };
export const MIN_STEP_SECONDS = 15;
export const MAX_STEP_SECONDS = 300;

/** What every app holds (public: shipped in the app, so no secret rests on them; see the docs' threat model). */
export interface PaymentCodeParameters {
  readonly algorithm: PaymentCodeAlgorithm;
  readonly stepSeconds: number;
  /** Permutation keys by prefix (16, 24 or 32 bytes: AES-128/192/256). */
  readonly keys: ReadonlyMap<number, Uint8Array>;
}

export interface DecodedPaymentCode {
  readonly prefix: number;
  readonly slot: number;
  readonly oneTimeValue: string;
}

export class PaymentCodes {
  readonly algorithm: PaymentCodeAlgorithm;
  readonly stepSeconds: number;
  readonly #permutations = new Map<number, Ff1>();

  constructor(parameters: PaymentCodeParameters) {
    if (!PAYMENT_CODE_ALGORITHMS.includes(parameters.algorithm)) throw new RangeError('unknown code algorithm');
    const { stepSeconds } = parameters;
    if (!Number.isInteger(stepSeconds) || stepSeconds < MIN_STEP_SECONDS || stepSeconds > MAX_STEP_SECONDS) {
      throw new RangeError(`the code's time step is ${MIN_STEP_SECONDS}..${MAX_STEP_SECONDS} s`);
    }
    if (parameters.keys.size === 0) throw new RangeError('no permutation key');
    for (const [prefix, key] of parameters.keys) {
      assertPrefix(prefix);
      this.#permutations.set(prefix, new Ff1(key));
    }
    this.algorithm = parameters.algorithm;
    this.stepSeconds = stepSeconds;
  }

  /** The TOTP time step of an instant (RFC 6238: T = floor((unix time - T0) / X), T0 = 0). */
  stepAt(atMs: number): number {
    if (!Number.isSafeInteger(atMs) || atMs < 0) throw new RangeError('the instant is a non-negative ms count');
    return Math.floor(atMs / 1000 / this.stepSeconds);
  }

  /**
   * The one-time value of a seed at a step: HOTP over the step counter, 8 digits, through `otpauth` (what
   * an app uses; the verifier's `matchingStep` computes the same on node:crypto, see hotp.ts).
   */
  oneTimeValue(seed: Uint8Array, step: number): string {
    return HOTP.generate({
      secret: secretOf(seed, this.algorithm),
      algorithm: this.algorithm,
      digits: ONE_TIME_DIGITS,
      counter: step,
    });
  }

  /** The code a seed shows at an instant. */
  generate(input: { seed: Uint8Array; slot: number; prefix: number; atMs: number }): string {
    assertSlot(input.slot);
    const oneTime = this.oneTimeValue(input.seed, this.stepAt(input.atMs));
    const inner = `${String(input.slot).padStart(SLOT_DIGITS, '0')}${oneTime}`;
    return `${input.prefix}${this.#permutation(input.prefix).encrypt(inner, tweakOf(input.prefix))}`;
  }

  /** The slot and one-time value inside a code; `undefined` for a malformed code or an unknown prefix. */
  decode(code: string): DecodedPaymentCode | undefined {
    if (!PAYMENT_CODE_PATTERN.test(code)) return undefined;
    const prefix = Number(code.slice(0, 2));
    const permutation = this.#permutations.get(prefix);
    if (permutation === undefined) return undefined;
    const inner = permutation.decrypt(code.slice(2), tweakOf(prefix));
    return { prefix, slot: Number(inner.slice(0, SLOT_DIGITS)), oneTimeValue: inner.slice(SLOT_DIGITS) };
  }

  /**
   * The step, among `step - windowSteps .. step + windowSteps`, at which the seed gives this one-time value
   * (the server's own step first, so a fresh code costs one HMAC; then the nearest), or `undefined`.
   * Compared in constant time. The seed as bytes, or as the key object `hotpKey` made of it (a verifier
   * that keeps opened seeds keeps that).
   */
  matchingStep(input: {
    seed: Uint8Array | KeyObject;
    oneTimeValue: string;
    step: number;
    windowSteps: number;
  }): number | undefined {
    const { oneTimeValue, step, windowSteps } = input;
    if (!Number.isInteger(windowSteps) || windowSteps < 0 || windowSteps > 5) throw new RangeError('window 0..5 steps');
    const key = input.seed instanceof KeyObject ? input.seed : hotpKey(checkedSeed(input.seed, this.algorithm));
    if (key.symmetricKeySize !== SEED_BYTES[this.algorithm])
      throw new RangeError(`a ${this.algorithm} seed is ${SEED_BYTES[this.algorithm]} bytes`);
    if (oneTimeValue.length !== ONE_TIME_DIGITS) return undefined;
    const given = Buffer.from(oneTimeValue, 'latin1');
    const expected = Buffer.allocUnsafe(ONE_TIME_DIGITS);
    for (let distance = 0; distance <= windowSteps; distance += 1) {
      for (const candidate of distance === 0 ? [step] : [step - distance, step + distance]) {
        if (candidate < 0) continue;
        writeHotp(key, this.algorithm, candidate, ONE_TIME_DIGITS, expected);
        if (timingSafeEqual(expected, given)) return candidate;
      }
    }
    return undefined;
  }

  #permutation(prefix: number): Ff1 {
    const permutation = this.#permutations.get(prefix);
    if (permutation === undefined) throw new RangeError(`no permutation key for prefix ${prefix}`);
    return permutation;
  }
}

function checkedSeed(seed: Uint8Array, algorithm: PaymentCodeAlgorithm): Uint8Array {
  if (seed.length !== SEED_BYTES[algorithm])
    throw new RangeError(`a ${algorithm} seed is ${SEED_BYTES[algorithm]} bytes`);
  return seed;
}

function secretOf(seed: Uint8Array, algorithm: PaymentCodeAlgorithm): Secret {
  return new Secret({ buffer: Uint8Array.from(checkedSeed(seed, algorithm)).buffer });
}

function tweakOf(prefix: number): Buffer {
  return Buffer.from(String(prefix), 'ascii');
}

function assertPrefix(prefix: number): void {
  if (!Number.isInteger(prefix) || prefix < MIN_PREFIX || prefix > MAX_PREFIX) throw new RangeError('prefix 10..15');
}

function assertSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SLOT) throw new RangeError(`slot 0..${MAX_SLOT}`);
}

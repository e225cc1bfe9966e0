import { createPrivateKey } from 'node:crypto';
import { PaymentCodes } from '../src/client/payment-codes/payment-code.js';
import type { HttpRequestSpec } from './harness.js';
import { signedRequest, type RequestSigner } from './recharge-requests.js';

/**
 * The signed POST /v1/payment-codes/redeem requests of bench/payment-codes.ts, loaded by the load
 * generator's worker thread: each request shows its own seed's code for the step it is made in, as a
 * payer's phone would (seed `sequence % seeds.length`: a seed pays once per step, so a run has a seed
 * for every request it can make).
 *
 * The codes are computed before the timed round (for the step it starts in and the next: a round of a
 * few seconds crosses at most one step boundary), not per request: the phone computes a code, the till
 * only scans it, so a request costs the generator what a balance payment's does (a body and a signature)
 * and the generator's FF1 and HMAC do not take CPU from the server on a shared machine.
 */
export interface RedeemRequestArgs {
  readonly merchant: RequestSigner;
  readonly payeeAccountId: string;
  /** Seeds as the issuance answered them: hex of the seed, slot. */
  readonly seeds: readonly { readonly seedHex: string; readonly slot: number }[];
  readonly prefix: number;
  readonly permutationKeyHex: string;
  readonly stepSeconds: number;
  /** Distinct per load run (order numbers and Idempotency-Keys). */
  readonly keyPrefix: string;
}

export const REDEEM_PATH = '/v1/payment-codes/redeem';

export function redeemRequests(args: RedeemRequestArgs): (sequence: number) => HttpRequestSpec {
  const key = createPrivateKey(args.merchant.privateKeyPem);
  const codes = new PaymentCodes({
    algorithm: 'SHA1',
    stepSeconds: args.stepSeconds,
    keys: new Map([[args.prefix, Buffer.from(args.permutationKeyHex, 'hex')]]),
  });
  const seeds = args.seeds.map((s) => ({ seed: Buffer.from(s.seedHex, 'hex'), slot: s.slot }));
  const codesByStep = new Map<number, string[]>();
  const codesAt = (step: number): string[] => {
    let shown = codesByStep.get(step);
    if (shown === undefined) {
      const atMs = step * args.stepSeconds * 1_000;
      shown = seeds.map((seed) => codes.generate({ ...seed, prefix: args.prefix, atMs }));
      codesByStep.set(step, shown);
    }
    return shown;
  };
  const firstStep = codes.stepAt(Date.now());
  codesAt(firstStep);
  codesAt(firstStep + 1);
  return (sequence) => {
    const body = JSON.stringify({
      code: codesAt(codes.stepAt(Date.now()))[sequence % seeds.length]!,
      amount: `${1 + (sequence % 9)}.${String(sequence % 100).padStart(2, '0')}`,
      currency: 'CNY',
      merchantOrderNo: `${args.keyPrefix}-${sequence}`,
      terminalId: `till-${sequence % 16}`,
      payeeAccountId: args.payeeAccountId,
    });
    return signedRequest({
      method: 'POST',
      path: REDEEM_PATH,
      body,
      keyId: args.merchant.keyId,
      key,
      idempotencyKey: `${args.keyPrefix}-${sequence}`,
    }).spec;
  };
}

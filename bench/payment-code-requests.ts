import { createPrivateKey } from 'node:crypto';
import { PaymentCodes } from '../src/client/payment-codes/payment-code.js';
import type { HttpRequestSpec } from './harness.js';
import { signedRequest, type RequestSigner } from './recharge-requests.js';

/**
 * The signed POST /v1/payment-codes/redeem requests of bench/payment-codes.ts, loaded by the load
 * generator's worker thread: each request shows the code of its own seed at the moment it is made, as a
 * payer's phone would (seed `sequence % seeds.length`: a seed pays once per step, so a run has a seed
 * for every request it can make).
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
  return (sequence) => {
    const seed = seeds[sequence % seeds.length]!;
    const body = JSON.stringify({
      code: codes.generate({ ...seed, prefix: args.prefix, atMs: Date.now() }),
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

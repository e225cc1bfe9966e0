import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { SignatureHeaders } from '../src/client/signing.js';
import type { HttpRequestSpec } from './harness.js';
import { jsonRequest, signedRequest, type RequestSigner } from './recharge-requests.js';

/**
 * The signed POST /v1/payments requests of the payment benchmarks. Loaded by the load generator's worker
 * thread (see runHttpLoad), so it imports nothing heavy: the client signing module, no service.
 */

/** A merchant the benchmark pays: its API key and its own settlement account (the payee). */
export interface PayeeMerchant {
  readonly signer: RequestSigner;
  readonly accountId: string;
}

export interface PaymentRequestArgs {
  /** Payees, taken in turn (one merchant: every payment into one hot account). Each request is signed by its merchant's signer (the platform's cashier). */
  readonly merchants: readonly PayeeMerchant[];
  /** Funded wallets the money comes from, picked scattered. */
  readonly payerAccountIds: readonly string[];
  /**
   * Prefix of this run's Idempotency-Keys and merchant order numbers: distinct per load run, so no key or
   * order number is ever reused. Letters, digits and "-" only, at most 40 characters.
   */
  readonly keyPrefix: string;
  /** False only for a server that checks no signature (the bare baseline): see RechargeRequestArgs.signEachRequest. */
  readonly signEachRequest: boolean;
  /** Where the requests go: PAYMENT_PATH unless another route takes the same requests (the limit route). */
  readonly path?: string;
}

export const PAYMENT_PATH = '/v1/payments';

/** The request factory runHttpLoad names: one payment per sequence number. */
export function paymentRequests(args: PaymentRequestArgs): (sequence: number) => HttpRequestSpec {
  if (args.merchants.length === 0 || args.payerAccountIds.length === 0)
    throw new Error('payment requests need a merchant and a payer');
  // Parsing a PEM costs more than signing: once per merchant and load run, not per request.
  const keys: KeyObject[] = args.merchants.map((m) => createPrivateKey(m.signer.privateKeyPem));
  let firstSignature: SignatureHeaders | undefined;
  return (sequence) => {
    const merchantIndex = sequence % args.merchants.length;
    const merchant = args.merchants[merchantIndex]!;
    const body = paymentBody(args, sequence);
    const request = {
      method: 'POST',
      path: args.path ?? PAYMENT_PATH,
      body,
      idempotencyKey: `${args.keyPrefix}-${sequence}`,
    } as const;
    if (args.signEachRequest || firstSignature === undefined) {
      const signed = signedRequest({ ...request, keyId: merchant.signer.keyId, key: keys[merchantIndex]! });
      firstSignature ??= signed.signature;
      return signed.spec;
    }
    return jsonRequest(request, firstSignature);
  };
}

/** The JSON body of payment `sequence`: a unique order number, a small amount (1.00 to 9.99). */
export function paymentBody(
  args: Pick<PaymentRequestArgs, 'merchants' | 'payerAccountIds' | 'keyPrefix'>,
  sequence: number,
): string {
  const merchant = args.merchants[sequence % args.merchants.length]!;
  // A scattered but deterministic pick: concurrent payments mostly come from different wallets.
  const payerAccountId = args.payerAccountIds[(Math.imul(sequence, 0x9e3779b1) >>> 0) % args.payerAccountIds.length]!;
  return JSON.stringify({
    payerAccountId,
    payeeAccountId: merchant.accountId,
    amount: `${1 + (sequence % 9)}.${String(sequence % 100).padStart(2, '0')}`,
    currency: 'CNY',
    merchantOrderNo: `${args.keyPrefix}-${sequence}`,
    description: 'bench order',
  });
}

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { signRequest, type SignatureHeaders } from '../src/client/signing.js';
import type { HttpRequestSpec } from './harness.js';

/**
 * The signed API requests of the http-recharge benchmark. Loaded by the load generator's worker thread
 * (see runHttpLoad), so it imports nothing heavy: the self-contained client signing module, no service.
 */

/** The API key requests are signed with (docs/authentication.md). */
export interface RequestSigner {
  /** "<entityId>/<keyNo>" */
  readonly keyId: string;
  /** PKCS#8 PEM of the Ed25519 private key. */
  readonly privateKeyPem: string;
}

export interface RechargeRequestArgs {
  /** Wallets to recharge, opened beforehand. */
  readonly accountIds: readonly string[];
  /** How every request pays: quick pay with a card bound at the service's channels (plain JSON for the worker). */
  readonly payer: unknown;
  /** Prefix of this run's Idempotency-Keys: distinct per load run, so no key is ever reused. */
  readonly keyPrefix: string;
  readonly signer: RequestSigner;
  /**
   * False only for a server that checks no signature (the bare baseline): the first request's signature
   * headers go with every request, the same bytes on the wire without an Ed25519 signing per request,
   * which would make the load generator, not the server, the bottleneck.
   */
  readonly signEachRequest: boolean;
  /** Where the requests go: RECHARGE_PATH unless another route takes the same requests (the limit route). */
  readonly path?: string;
}

export const RECHARGE_PATH = '/v1/recharges';

/** The request factory runHttpLoad names: one request per sequence number. */
export function rechargeRequests(args: RechargeRequestArgs): (sequence: number) => HttpRequestSpec {
  if (args.accountIds.length === 0) throw new Error('recharge requests need at least one wallet');
  // Parsing the PEM costs more than signing: once per load run, not per request.
  const key = createPrivateKey(args.signer.privateKeyPem);
  let firstSignature: SignatureHeaders | undefined;
  return (sequence) => {
    // A scattered but deterministic pick: concurrent requests mostly hit different wallets, sometimes the same.
    const accountId = args.accountIds[(Math.imul(sequence, 0x9e3779b1) >>> 0) % args.accountIds.length]!;
    const body = JSON.stringify({ accountId, amount: benchAmount(sequence), currency: 'CNY', payer: args.payer });
    const request = {
      method: 'POST',
      path: args.path ?? RECHARGE_PATH,
      body,
      idempotencyKey: `${args.keyPrefix}-${sequence}`,
    } as const;
    if (args.signEachRequest || firstSignature === undefined) {
      const signed = signedRequest({ ...request, keyId: args.signer.keyId, key });
      firstSignature ??= signed.signature;
      return signed.spec;
    }
    return jsonRequest(request, firstSignature);
  };
}

/**
 * Any JSON API request, signed: the one place the benchmarks apply the API's authentication. When it
 * changes, adapt this function (and RequestSigner) only.
 */
export function signedRequest(input: {
  method: HttpRequestSpec['method'];
  path: string;
  body: string;
  keyId: string;
  key: KeyObject;
  idempotencyKey?: string;
}): { spec: HttpRequestSpec; signature: SignatureHeaders } {
  const signature = signRequest({
    method: input.method,
    pathWithQuery: input.path,
    body: input.body,
    keyId: input.keyId,
    privateKeyPem: input.key,
  });
  return { spec: jsonRequest(input, signature), signature };
}

/** A JSON API request carrying `signature` (already computed over exactly this method, path and body). */
export function jsonRequest(
  input: { method: HttpRequestSpec['method']; path: string; body: string; idempotencyKey?: string },
  signature: SignatureHeaders,
): HttpRequestSpec {
  return {
    method: input.method,
    path: input.path,
    headers: {
      'content-type': 'application/json',
      ...(input.idempotencyKey === undefined ? {} : { 'idempotency-key': input.idempotencyKey }),
      ...signature,
    },
    body: input.body,
  };
}

/** "1.00" to "500.98": varied, and never ending in .99, which the simulated bank declines. */
function benchAmount(sequence: number): string {
  return `${1 + (sequence % 500)}.${String(sequence % 99).padStart(2, '0')}`;
}

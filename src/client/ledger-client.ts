import { createPrivateKey, type KeyObject } from 'node:crypto';
import { signRequest } from './signing.js';

/**
 * A small client for the ledger API: fetch, with every request signed (see signing.ts). Errors come
 * back as LedgerApiError carrying the RFC 9457 problem the server sent.
 */
export interface LedgerClientOptions {
  /** "https://ledger.example.com" (no trailing path). */
  readonly baseUrl: string;
  /** "<entityId>/<keyNo>". */
  readonly keyId: string;
  /** PKCS#8 PEM of the Ed25519 private key. */
  readonly privateKeyPem: string;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly [extra: string]: unknown;
}

export class LedgerApiError extends Error {
  override readonly name = 'LedgerApiError';
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}: ${problem.detail}`);
  }
}

export interface RequestOptions {
  /** Sent as Idempotency-Key: retrying with the same key is safe. */
  readonly idempotencyKey?: string;
}

type Json = Record<string, unknown>;
const DEFAULT_TIMEOUT_MS = 30_000;

export class LedgerClient {
  private readonly privateKey: KeyObject;
  private readonly baseUrl: string;

  constructor(private readonly options: LedgerClientOptions) {
    this.privateKey = createPrivateKey(options.privateKeyPem);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Any API call; `pathWithQuery` starts with "/". */
  async request<T = Json>(
    method: string,
    pathWithQuery: string,
    body?: Json,
    options: RequestOptions = {},
  ): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...signRequest({
        method,
        pathWithQuery,
        body: text ?? null,
        keyId: this.options.keyId,
        privateKeyPem: this.privateKey,
      }),
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
    };
    const response = await (this.options.fetch ?? fetch)(`${this.baseUrl}${pathWithQuery}`, {
      method,
      headers,
      ...(text !== undefined ? { body: text } : {}),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    const payload: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const problem = isProblem(payload)
        ? payload
        : {
            type: 'about:blank',
            title: response.statusText,
            status: response.status,
            code: 'http_error',
            detail: response.statusText,
          };
      throw new LedgerApiError(response.status, problem);
    }
    return payload as T;
  }

  openAccount(
    account: { ownerId: string; type: string; currency: string; displayName?: string },
    options?: RequestOptions,
  ) {
    return this.request('POST', '/v1/accounts', account, options);
  }

  getAccount(accountId: string, query: { minPosition?: string } = {}) {
    const suffix = query.minPosition !== undefined ? `?minPosition=${encodeURIComponent(query.minPosition)}` : '';
    return this.request('GET', `/v1/accounts/${encodeURIComponent(accountId)}${suffix}`);
  }

  recharge(
    recharge: { accountId: string; amount: string; currency: string; channel: string },
    options: RequestOptions & { idempotencyKey: string },
  ) {
    return this.request('POST', '/v1/recharges', recharge, options);
  }

  registerEntity(
    entity: {
      kind: 'user' | 'merchant';
      displayName: string;
      mayPay?: boolean;
      phone?: string;
      email?: string;
      securityLevel?: string;
    },
    options?: RequestOptions,
  ) {
    return this.request('POST', '/v1/entities', entity, options);
  }

  getEntity(entityId: string) {
    return this.request('GET', `/v1/entities/${encodeURIComponent(entityId)}`);
  }

  addKey(entityId: string, publicKey: string, options?: RequestOptions) {
    return this.request('POST', `/v1/entities/${encodeURIComponent(entityId)}/keys`, { publicKey }, options);
  }

  revokeKey(entityId: string, keyNo: number, reason: string, options?: RequestOptions) {
    return this.request(
      'POST',
      `/v1/entities/${encodeURIComponent(entityId)}/keys/${keyNo}/revoke`,
      { reason },
      options,
    );
  }

  setPaymentPassword(
    entityId: string,
    passwords: { newPassword: string; currentPassword?: string; reset?: { verifiedVia: 'phone' | 'email' } },
    options?: RequestOptions,
  ) {
    return this.request('POST', `/v1/entities/${encodeURIComponent(entityId)}/payment-password`, passwords, options);
  }
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Problem).code === 'string' &&
    typeof (value as Problem).status === 'number'
  );
}

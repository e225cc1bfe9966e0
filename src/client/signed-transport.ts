import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { ProblemError, problemOfAnswer } from './problem-error.js';
import {
  isRetryableAnswer,
  retryAfterMs,
  retryDelayMs,
  retryPolicy,
  type RetryOptions,
  type RetryPolicy,
} from './retry-policy.js';
import { signRequest } from './signing.js';

export interface TransportOptions {
  /** "https://ledger.example.com" (no path). */
  readonly baseUrl: string;
  /** "<entityId>/<keyNo>". */
  readonly keyId: string;
  /** PKCS#8 PEM of the Ed25519 private key. */
  readonly privateKeyPem: string;
  /** Per attempt; default 30 s. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  readonly fetch?: typeof fetch;
}

export interface SendInput {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Starts with "/"; path parameters already encoded. */
  readonly pathWithQuery: string;
  readonly body?: unknown;
  /** Bytes sent as they are (application/octet-stream), instead of a JSON body: a file upload. */
  readonly bytes?: Uint8Array;
  /** Commands only: the same key on every attempt. */
  readonly idempotencyKey?: string;
  /** Statuses besides 2xx that are an answer, not a refusal (readiness answers 503 with its checks). */
  readonly answerStatuses?: readonly number[];
}

export interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Sends signed requests (a fresh signature and nonce per attempt) and retries what may be retried. */
export class SignedTransport {
  private readonly privateKey: KeyObject;
  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TransportOptions) {
    this.privateKey = createPrivateKey(options.privateKeyPem);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.policy = retryPolicy(options.retry);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetch = options.fetch ?? fetch;
  }

  /** A fresh Idempotency-Key for a command the caller did not name one for. */
  static newIdempotencyKey(): string {
    return randomUUID();
  }

  async send(input: SendInput): Promise<Answer> {
    // Serialised once: the signature covers these exact bytes, on every attempt.
    const text = input.body === undefined ? undefined : JSON.stringify(input.body);
    for (let attempt = 1; ; attempt += 1) {
      let answer: Answer;
      try {
        answer = await this.attempt(input, text);
      } catch (error) {
        // No answer at all (connection refused or lost, timeout): the server may or may not have acted.
        // A read may be sent again, and so may a command under its unchanged Idempotency-Key.
        if (attempt >= this.policy.maxAttempts) throw error;
        await sleep(retryDelayMs(this.policy, attempt, null));
        continue;
      }
      if ((answer.status >= 200 && answer.status < 300) || input.answerStatuses?.includes(answer.status)) return answer;
      const problem = problemOfAnswer(answer.status, answer.statusText, parseJson(answer.text));
      if (attempt < this.policy.maxAttempts && isRetryableAnswer(answer.status, problem.code)) {
        await sleep(retryDelayMs(this.policy, attempt, retryAfterMs(answer.headers.get('retry-after'))));
        continue;
      }
      throw new ProblemError(problem, input.idempotencyKey ?? null, attempt);
    }
  }

  private async attempt(input: SendInput, text: string | undefined): Promise<Answer> {
    const body = input.bytes ?? text;
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json, text/csv',
      ...signRequest({
        method: input.method,
        pathWithQuery: input.pathWithQuery,
        body: body ?? null,
        keyId: this.options.keyId,
        privateKeyPem: this.privateKey,
      }),
      ...(input.bytes !== undefined
        ? { 'content-type': 'application/octet-stream' }
        : text !== undefined
          ? { 'content-type': 'application/json' }
          : {}),
      ...(input.idempotencyKey !== undefined ? { 'idempotency-key': input.idempotencyKey } : {}),
    };
    const response = await this.fetch(`${this.baseUrl}${input.pathWithQuery}`, {
      method: input.method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      text: await response.text(),
    };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { UrlGuard } from './url-guard.js';

/** What one POST to a merchant's endpoint came to. */
export type SendResult =
  | { readonly kind: 'answered'; readonly statusCode: number; readonly retryAfterMs: number | null }
  | { readonly kind: 'no_answer'; readonly error: string };

/** Most of an answer's body read (then dropped): a receiver cannot make us buffer more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Retry-After as seconds or an HTTP date, in ms from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return null;
  if (/^\s*\d{1,10}\s*$/.test(value)) return Number(value) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * POSTs one signed message: to the address the guard checked (never a second DNS answer), with a hard
 * timeout over the whole exchange, no redirects followed (a 3xx is an answer like any other non-2xx), and
 * the answer's body drained up to a bound.
 */
export class WebhookSender {
  constructor(
    private readonly guard: UrlGuard,
    private readonly timeoutMs: number,
  ) {}

  async send(
    urlText: string,
    headers: Record<string, string>,
    body: string,
    nowMs: number,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    const url = new URL(urlText);
    let lookup;
    try {
      lookup = await this.guard.pinnedLookup(url);
    } catch (error) {
      if (error instanceof DomainError) return { kind: 'no_answer', error: error.message };
      throw error;
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = request(
        url,
        {
          method: 'POST',
          lookup,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': 'ledger-core-webhooks/1',
          },
          agent: false,
          ...(signal ? { signal } : {}),
        },
        (res: IncomingMessage) => {
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > MAX_RESPONSE_BYTES) res.destroy();
          });
          const answered = () =>
            finish({
              kind: 'answered',
              statusCode: res.statusCode ?? 0,
              retryAfterMs: parseRetryAfter(res.headers['retry-after'], nowMs),
            });
          res.on('end', answered);
          res.on('close', answered);
          res.on('error', answered);
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      req.on('error', (error) => finish({ kind: 'no_answer', error: error.message.slice(0, 300) }));
      req.end(body);
    });
  }
}

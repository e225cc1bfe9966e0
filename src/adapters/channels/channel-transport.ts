import type { FastifyInstance } from 'fastify';

/**
 * How an adapter's signed message reaches the channel: over HTTP (fetch) in service and in tests against
 * the simulator process, or straight into an in-process simulator (Fastify `inject`, no socket) in unit
 * tests and benchmarks. Either way the result says what is known about delivery: an answer; a timeout
 * (it may have arrived); refused (nothing was sent); failed after sending (it may have arrived).
 */
export interface OutboundMessage {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type TransportResult =
  | {
      readonly kind: 'answer';
      readonly statusCode: number;
      readonly headers: Readonly<Record<string, string | string[] | undefined>>;
      readonly body: string;
    }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'refused'; readonly detail: string }
  | { readonly kind: 'failed'; readonly detail: string };

export type ChannelTransport = (message: OutboundMessage, timeoutMs: number) => Promise<TransportResult>;

/** Errors raised before a byte left: the connection was never made. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function errorCode(error: unknown): string | null {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' ? cause.code : null;
}

export function fetchTransport(baseUrl: string): ChannelTransport {
  const base = baseUrl.replace(/\/+$/, '');
  return async (message, timeoutMs) => {
    // One signal bounds the whole exchange: connecting, sending, and reading the answer to its end.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(`${base}${message.path}`, {
        method: 'POST',
        headers: message.headers,
        body: message.body,
        signal,
      });
      const body = await response.text();
      return { kind: 'answer', statusCode: response.status, headers: Object.fromEntries(response.headers), body };
    } catch (error) {
      if (signal.aborted) return { kind: 'timeout' };
      const code = errorCode(error);
      if (code !== null && NOT_SENT.has(code)) return { kind: 'refused', detail: code };
      return { kind: 'failed', detail: code ?? (error instanceof Error ? error.message : String(error)) };
    }
  };
}

export function injectTransport(app: FastifyInstance): ChannelTransport {
  return async (message, timeoutMs) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const response = await Promise.race([
        app.inject({ method: 'POST', url: message.path, headers: message.headers, payload: message.body }),
        timedOut,
      ]);
      if (response === 'timeout') return { kind: 'timeout' };
      const headers = Object.fromEntries(
        Object.entries(response.headers).map(([name, value]) => [
          name,
          typeof value === 'number' ? String(value) : value,
        ]),
      );
      return { kind: 'answer', statusCode: response.statusCode, headers, body: response.body };
    } finally {
      clearTimeout(timer);
    }
  };
}

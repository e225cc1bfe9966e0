import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problem-details.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body exactly as received, for the request signature; dropped once verified. */
    rawBody?: Buffer;
    /**
     * The SHA-256 (hex) of a body a route's own parser streamed elsewhere (a statement upload), for the
     * request signature instead of rawBody: such a body is never held whole.
     */
    bodySha256?: string;
  }
}

/**
 * Replaces the JSON body parser with one that keeps the bytes it parsed: a signature covers the exact
 * bytes sent, and re-serialising the parsed body would not give them back. Parsing (including the
 * prototype-poisoning checks and error codes) is Fastify's own; the body limit is the server's. Fastify
 * answers valid JSON that holds a prototype-poisoning key as if it were not JSON at all: such a body is
 * refused as what it is, naming the key, so a client is not sent looking for a syntax error.
 * JSON is the only body the API takes: Fastify's text/plain parser goes too, so any other media type is
 * 415 `unsupported_media_type` (said as such) rather than a body the signature check cannot verify.
 */
export function keepRawJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    const text = bytes.toString('utf8');
    void parseJson(request, text, (error, parsed) => {
      const forbidden = error ? forbiddenKeyIn(text) : null;
      if (forbidden === null) return done(error, parsed);
      return done(
        new HttpProblem(
          400,
          'validation_failed',
          'Invalid request',
          `${forbidden}: the key "${forbidden.slice(forbidden.lastIndexOf('.') + 1)}" is not allowed in a request body`,
          { errors: [{ path: forbidden, message: 'a prototype key is not allowed' }] },
        ),
        undefined,
      );
    });
  });
}

/**
 * Where a body that is valid JSON holds a key the prototype-poisoning checks refuse (`__proto__`, or
 * `constructor` with `prototype`), as a `body.` path; null for a body that is not JSON (a syntax error).
 * JSON.parse makes such keys own properties, so reading them here is harmless.
 */
function forbiddenKeyIn(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const pending: [unknown, string][] = [[value, 'body']];
  // Bounded by the body size limit: each node is visited once.
  while (pending.length > 0) {
    const [node, path] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    for (const [key, child] of Object.entries(node)) {
      if (key === '__proto__') return `${path}.${key}`;
      if (key === 'constructor' && child !== null && typeof child === 'object' && 'prototype' in child)
        return `${path}.${key}`;
      pending.push([child, `${path}.${key}`]);
    }
  }
  return null;
}

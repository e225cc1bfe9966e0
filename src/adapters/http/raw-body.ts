import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body exactly as received, for the request signature; dropped once verified. */
    rawBody?: Buffer;
  }
}

/**
 * Replaces the JSON body parser with one that keeps the bytes it parsed: a signature covers the exact
 * bytes sent, and re-serialising the parsed body would not give them back. Parsing (including the
 * prototype-poisoning checks and error codes) is Fastify's own; the body limit is the server's.
 */
export function keepRawJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    void parseJson(request, bytes.toString('utf8'), done);
  });
}

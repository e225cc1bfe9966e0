import type { FastifyReply, FastifyRequest } from 'fastify';
import { WIRE_VERSION } from '../wire/wire-messages.js';
import { signatureHeaders, SIGNATURE_HEADERS, type ChannelKey } from '../wire/wire-signing.js';
import type { SimulatedAnswer } from './channel-simulator.js';

/**
 * Sends a simulated peer's answer (a channel's or the SMS gateway's): enveloped, and signed over the
 * request's path and nonce, which binds it to that request.
 */
export function sendSignedAnswer(
  reply: FastifyReply,
  request: FastifyRequest,
  key: ChannelKey,
  statusCode: number,
  given: SimulatedAnswer,
): FastifyReply {
  const body = JSON.stringify({ ver: WIRE_VERSION, ret_code: given.code, ret_msg: given.message, data: given.data });
  const nonce = request.headers[SIGNATURE_HEADERS.nonce];
  const headers = signatureHeaders(key, {
    kind: 'RESPONSE',
    path: request.url,
    // The wire's clock is the real one: a test that moves the simulator's business clock keeps valid signatures.
    timestampMs: Date.now(),
    nonce: typeof nonce === 'string' ? nonce : '',
    body,
  });
  return reply.code(statusCode).headers(headers).type('application/json').send(body);
}

import type { z } from 'zod';
import type { ChannelTransport } from '../channel-transport.js';
import { responseEnvelope, WIRE_VERSION } from './wire-messages.js';
import { checkSignature, newNonce, signatureHeaders, type ChannelKey } from './wire-signing.js';

/**
 * One signed request on the wire the simulated peers speak (the channels' envelope and signing: the SMS
 * provider, the identity service), and what is known of its answer: none (and why: it may or may not have
 * arrived, or it was never sent), one we cannot believe (not signed over our nonce, not JSON, not the
 * envelope), or a verified envelope with its HTTP status. What each means is the adapter's to say.
 */
export type SignedWireAnswer =
  | { readonly kind: 'none'; readonly sent: 'maybe' | 'no'; readonly detail: string }
  | { readonly kind: 'unverified'; readonly statusCode: number; readonly detail: string }
  | {
      readonly kind: 'answer';
      readonly statusCode: number;
      readonly envelope: z.output<typeof responseEnvelope>;
    };

export async function signedWireCall(
  peer: { readonly key: ChannelKey; readonly accountId: string; readonly transport: ChannelTransport },
  path: string,
  data: Readonly<Record<string, unknown>>,
  timeoutMs: number,
): Promise<SignedWireAnswer> {
  const body = JSON.stringify({ ver: WIRE_VERSION, mch_id: peer.accountId, data });
  const nonce = newNonce();
  const headers = {
    'content-type': 'application/json',
    ...signatureHeaders(peer.key, { kind: 'POST', path, timestampMs: Date.now(), nonce, body }),
  };
  const result = await peer.transport({ path, headers, body }, timeoutMs);
  switch (result.kind) {
    case 'timeout':
      return { kind: 'none', sent: 'maybe', detail: `no answer within ${timeoutMs} ms` };
    case 'failed':
      return { kind: 'none', sent: 'maybe', detail: `connection lost after sending: ${result.detail}` };
    case 'refused':
      return { kind: 'none', sent: 'no', detail: `not sent: ${result.detail}` };
    case 'answer':
      break;
  }
  const { statusCode } = result;
  const check = checkSignature(
    peer.key,
    { kind: 'RESPONSE', path, headers: result.headers, body: result.body },
    Date.now(),
    nonce,
  );
  if (check !== 'valid') return { kind: 'unverified', statusCode, detail: `answer not verified: ${check}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.body);
  } catch {
    return { kind: 'unverified', statusCode, detail: 'answer not JSON' };
  }
  const envelope = responseEnvelope.safeParse(parsed);
  if (!envelope.success) return { kind: 'unverified', statusCode, detail: 'answer not in the expected shape' };
  return { kind: 'answer', statusCode, envelope: envelope.data };
}

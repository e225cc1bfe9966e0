import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requestEnvelope } from '../wire/wire-messages.js';
import { checkSignature } from '../wire/wire-signing.js';
import type { ChannelSimulator, SimulatedAnswer } from './channel-simulator.js';
import { sendSignedAnswer } from './signed-answer.js';
import { SMS_CODES, SMS_SEND_PATH, smsSendRequest } from '../../sms/sms-wire.js';
import { smsGatewayFailures } from './simulator-config.js';

/**
 * The SMS gateway on the simulator's server: `POST /sms/v1/send` (signed request, signed answer, the same
 * envelope as the channels' wire) and `PUT /control/sms/failures`. Its messages are read with the banks'
 * at `GET /control/sms-outbox`.
 */
export function addSmsGatewayRoutes(app: FastifyInstance, simulator: ChannelSimulator, closing: AbortSignal): void {
  const gateway = simulator.smsGateway;
  if (!gateway) return;

  const answer = (reply: FastifyReply, request: FastifyRequest, statusCode: number, given: SimulatedAnswer) =>
    sendSignedAnswer(reply, request, gateway.key(), statusCode, given);

  app.post(SMS_SEND_PATH, async (request, reply) => {
    const raw = request.channelBody ?? Buffer.alloc(0);
    const check = checkSignature(
      gateway.key(),
      { kind: 'POST', path: request.url, headers: request.headers, body: raw },
      Date.now(),
    );
    if (check !== 'valid')
      return answer(reply, request, 401, gateway.refusal(SMS_CODES.signatureInvalid, 'signature not valid'));
    const parsed = parseSend(raw, simulator.config.merchantId);
    if (!parsed) return answer(reply, request, 400, gateway.refusal(SMS_CODES.paramError, 'request not valid'));
    const sent = gateway.send(parsed);
    if (sent.kind === 'busy') return answer(reply, request, 503, sent.answer);
    try {
      if (sent.delayMs > 0) await sleep(sent.delayMs, undefined, { signal: closing });
    } catch {
      return reply.hijack();
    }
    return answer(reply, request, sent.answer.code === SMS_CODES.ok ? 200 : 400, sent.answer);
  });

  app.put('/control/sms/failures', async (request, reply) => {
    const changes = smsGatewayFailures
      .partial()
      .safeParse(JSON.parse((request.channelBody ?? Buffer.from('{}')).toString('utf8')));
    if (!changes.success) return reply.code(400).send({ error: z.prettifyError(changes.error) });
    return reply.send(gateway.setFailures(changes.data));
  });
}

function parseSend(raw: Buffer, merchantId: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  const envelope = requestEnvelope.safeParse(parsed);
  if (!envelope.success || envelope.data.mch_id !== merchantId) return null;
  const data = smsSendRequest.safeParse(envelope.data.data);
  return data.success ? data.data : null;
}

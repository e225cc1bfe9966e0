import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requestEnvelope, WIRE_OPERATIONS, wireRequests, type WireOperation } from '../wire/wire-messages.js';
import { checkSignature } from '../wire/wire-signing.js';
import { ChannelSimulator, type SimulatedAnswer } from './channel-simulator.js';
import type { CallbackPost } from './notice-dispatcher.js';
import { failureModes, type SimulatorConfig } from './simulator-config.js';
import { sendSignedAnswer } from './signed-answer.js';
import { addSmsGatewayRoutes } from './sms-gateway-routes.js';

/**
 * The channel simulator on the network: `POST /{channel}/v1/{operation}` speaks each channel's signed wire
 * protocol (requests verified, answers signed over the request's nonce), and `/control/...` lets tests
 * and operators set failure modes, fix the clock and read what the channels recorded (their orders,
 * callback deliveries, SMS outbox), and `/sms/v1/send` is a simulated SMS provider. It listens on loopback only: the control endpoints are not
 * authenticated, as a test double's are not.
 */
declare module 'fastify' {
  interface FastifyRequest {
    channelBody?: Buffer;
  }
}

/** Posts a callback with fetch, giving up after `timeoutMs`. */
export const fetchCallbackPost: CallbackPost = async (url, headers, body, timeoutMs) => {
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  return response.status;
};

function json(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) => (typeof field === 'bigint' ? field.toString() : field));
}

/**
 * The simulator's HTTP server. `ownsSimulator` false: the simulator outlives this server (a test restarting
 * the service in front of the same channels, as a real bank outlives our process); its owner closes it.
 */
export function buildSimulatorServer(simulator: ChannelSimulator, { ownsSimulator = true } = {}): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 1024 * 1024 });
  // Held answers (injected timeouts) and latency sleeps end when the server closes.
  const closing = new AbortController();
  app.addHook('onClose', async () => {
    closing.abort();
    if (ownsSimulator) simulator.close();
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.channelBody = body as Buffer;
    done(null, null);
  });

  const answer = (
    reply: FastifyReply,
    request: FastifyRequest,
    channelId: string,
    statusCode: number,
    given: SimulatedAnswer,
  ) => sendSignedAnswer(reply, request, simulator.key(channelId), statusCode, given);

  app.post<{ Params: { channelId: string; operation: string } }>(
    '/:channelId/v1/:operation',
    async (request, reply) => {
      const { channelId, operation } = request.params;
      if (!simulator.channel(channelId)) return reply.code(404).send({ error: `no channel ${channelId}` });
      if (!(WIRE_OPERATIONS as string[]).includes(operation))
        return answer(reply, request, channelId, 404, simulator.refusal(channelId, 'not_supported'));
      const raw = request.channelBody ?? Buffer.alloc(0);
      const check = checkSignature(
        simulator.key(channelId),
        { kind: 'POST', path: request.url, headers: request.headers, body: raw },
        Date.now(),
      );
      if (check !== 'valid')
        return answer(reply, request, channelId, 401, simulator.refusal(channelId, 'signature_invalid'));
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        parsed = null;
      }
      const envelope = requestEnvelope.safeParse(parsed);
      const op = operation as WireOperation;
      const data = envelope.success ? wireRequests[op].safeParse(envelope.data.data) : null;
      if (!envelope.success || envelope.data.mch_id !== simulator.config.merchantId || !data?.success)
        return answer(reply, request, channelId, 400, simulator.refusal(channelId, 'param_error'));
      const replyPlan = simulator.handle(channelId, op, data.data);
      if (replyPlan.kind === 'busy') return answer(reply, request, channelId, 503, replyPlan.answer);
      try {
        if (replyPlan.latencyMs > 0) await sleep(replyPlan.latencyMs, undefined, { signal: closing.signal });
        if (replyPlan.heldMs !== null) await sleep(replyPlan.heldMs, undefined, { signal: closing.signal });
      } catch {
        return reply.hijack();
      }
      return answer(reply, request, channelId, 200, replyPlan.answer);
    },
  );

  app.get<{ Params: { tradeNo: string } }>('/pay/:tradeNo', async (request, reply) =>
    reply
      .type('text/plain')
      .send(`simulated payer page for ${request.params.tradeNo}: the result is sent to the notify URL`),
  );

  app.get('/control/channels', async (_request, reply) =>
    reply.type('application/json').send(
      json(
        Object.entries(simulator.config.channels).map(([channelId, channel]) => ({
          channelId,
          kind: channel.kind,
          keyId: channel.keyId,
          failures: channel.failures,
          busy: simulator.isBusy(channelId),
        })),
      ),
    ),
  );

  const knownChannel = (channelId: string, reply: FastifyReply) => {
    if (simulator.channel(channelId)) return true;
    void reply.code(404).send({ error: `no channel ${channelId}` });
    return false;
  };

  app.put<{ Params: { channelId: string } }>('/control/channels/:channelId/failures', async (request, reply) => {
    if (!knownChannel(request.params.channelId, reply)) return reply;
    const changes = failureModes
      .partial()
      .safeParse(JSON.parse((request.channelBody ?? Buffer.from('{}')).toString('utf8')));
    if (!changes.success) return reply.code(400).send({ error: z.prettifyError(changes.error) });
    return reply.type('application/json').send(json(simulator.setFailures(request.params.channelId, changes.data)));
  });

  app.get<{ Params: { channelId: string } }>('/control/channels/:channelId/records', async (request, reply) => {
    if (!knownChannel(request.params.channelId, reply)) return reply;
    const records = simulator.records(request.params.channelId);
    return reply.type('application/json').send(
      json({
        merchantBalanceMinor: records.merchantBalanceMinor,
        orders: [...records.orders.values()].map(({ requestKey: _key, ...order }) => order),
        refunds: [...records.refunds.values()].map(({ requestKey: _key, ...refund }) => refund),
        contracts: [...records.contracts.values()].map(({ cardholder: _holder, ...contract }) => contract),
        callbacks: records.callbacks,
      }),
    );
  });

  app.get('/control/sms-outbox', async (_request, reply) =>
    reply.type('application/json').send(json(simulator.smsOutbox())),
  );

  app.put('/control/clock', async (request, reply) => {
    const body = z
      .strictObject({ now: z.iso.datetime().nullable() })
      .safeParse(JSON.parse((request.channelBody ?? Buffer.from('{}')).toString('utf8')));
    if (!body.success) return reply.code(400).send({ error: z.prettifyError(body.error) });
    simulator.setNow(body.data.now === null ? null : Date.parse(body.data.now));
    return reply.send({ now: new Date(simulator.nowMs()).toISOString() });
  });

  addSmsGatewayRoutes(app, simulator, closing.signal);

  app.get('/control/health', async (_request, reply) => reply.send({ status: 'ok' }));
  return app;
}

export interface RunningSimulator {
  readonly url: string;
  readonly simulator: ChannelSimulator;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts the simulator on loopback (`port` 0: a free one). */
export async function startChannelSimulator(
  config: SimulatorConfig,
  options: { readonly port?: number; readonly post?: CallbackPost } = {},
): Promise<RunningSimulator> {
  const simulator = new ChannelSimulator(config, { post: options.post ?? fetchCallbackPost });
  const app = buildSimulatorServer(simulator);
  const url = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  simulator.publicBaseUrl = url;
  return { url, simulator, app, close: () => app.close() };
}

import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requestEnvelope } from '../../channels/wire/wire-messages.js';
import { checkSignature } from '../../channels/wire/wire-signing.js';
import { sendSignedAnswer } from '../../channels/simulator/signed-answer.js';
import { IDENTITY_CODES, IDENTITY_VERIFY_PATH, identityVerifyRequest } from '../identity-wire.js';
import { IdentitySimulator } from './identity-simulator.js';
import { identityFailures, simulatedPerson, type IdentitySimulatorConfig } from './identity-simulator-config.js';

/**
 * The identity simulator on the network: `POST /identity/v1/verify` (signed request, signed answer), and
 * `/control/identity/...` to inject failures (`PUT .../failures`: timeouts, 500s, an outage, latency), add
 * test persons and read the queries answered (masked). Loopback only: the control endpoints are not
 * authenticated, as a test double's are not.
 */
declare module 'fastify' {
  interface FastifyRequest {
    identityBody?: Buffer;
  }
}

function bodyJson(raw: Buffer | undefined): unknown {
  try {
    return JSON.parse((raw ?? Buffer.from('{}')).toString('utf8'));
  } catch {
    return null;
  }
}

export function buildIdentitySimulatorServer(simulator: IdentitySimulator): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 64 * 1024 });
  // Held answers and latency sleeps end when the server closes.
  const closing = new AbortController();
  app.addHook('onClose', async () => closing.abort());
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.identityBody = body as Buffer;
    done(null, null);
  });

  app.post(IDENTITY_VERIFY_PATH, async (request, reply) => {
    const raw = request.identityBody ?? Buffer.alloc(0);
    const check = checkSignature(
      simulator.key(),
      { kind: 'POST', path: request.url, headers: request.headers, body: raw },
      Date.now(),
    );
    const answer = (statusCode: number, given: Parameters<typeof sendSignedAnswer>[4]) =>
      sendSignedAnswer(reply, request, simulator.key(), statusCode, given);
    if (check !== 'valid')
      return answer(401, simulator.refusal(IDENTITY_CODES.signatureInvalid, 'signature not valid'));
    const envelope = requestEnvelope.safeParse(bodyJson(raw));
    const data = envelope.success ? identityVerifyRequest.safeParse(envelope.data.data) : null;
    if (!envelope.success || envelope.data.mch_id !== simulator.config.accountId || !data?.success)
      return answer(400, simulator.refusal(IDENTITY_CODES.paramError, 'request not valid'));
    const replyPlan = simulator.verify(data.data);
    try {
      if (replyPlan.latencyMs > 0) await sleep(replyPlan.latencyMs, undefined, { signal: closing.signal });
      if (replyPlan.heldMs !== null) await sleep(replyPlan.heldMs, undefined, { signal: closing.signal });
    } catch {
      return reply.hijack();
    }
    return answer(replyPlan.statusCode, replyPlan.answer);
  });

  app.put('/control/identity/failures', async (request, reply) => {
    const changes = identityFailures.partial().safeParse(bodyJson(request.identityBody));
    if (!changes.success) return reply.code(400).send({ error: z.prettifyError(changes.error) });
    return reply.send(simulator.setFailures(changes.data));
  });

  app.post('/control/identity/persons', async (request, reply) => {
    const person = simulatedPerson.safeParse(bodyJson(request.identityBody));
    if (!person.success) return reply.code(400).send({ error: z.prettifyError(person.error) });
    simulator.addPerson(person.data);
    return reply.code(201).send({ added: true });
  });

  app.get('/control/identity/queries', async (_request, reply) =>
    reply.send({ attempts: simulator.attempts(), queries: simulator.queries() }),
  );

  app.get('/control/health', async (_request, reply) => reply.send({ status: 'ok' }));
  return app;
}

export interface RunningIdentitySimulator {
  readonly url: string;
  readonly simulator: IdentitySimulator;
  close(): Promise<void>;
}

/** Starts the identity simulator on loopback (`port` 0: a free one). */
export async function startIdentitySimulator(
  config: IdentitySimulatorConfig,
  options: { readonly port?: number } = {},
): Promise<RunningIdentitySimulator> {
  const simulator = new IdentitySimulator(config);
  const app = buildIdentitySimulatorServer(simulator);
  const url = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  return { url, simulator, close: () => app.close() };
}

import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LedgerService } from '../ledger-service.js';
import { HttpProblem, problemOf, sendProblem } from './problem-details.js';
import { healthRoutes } from './routes/health.js';
import { apiRoutes } from './routes/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; scopes idempotency keys and is recorded on every event. */
    actor?: string;
  }
}

export interface HttpServerOptions {
  /** false for tests and benchmarks; otherwise pino options. */
  readonly logger?: boolean | { level: string };
}

/** Largest request body accepted: commands are small; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;

export async function buildHttpServer(service: LedgerService, options: HttpServerOptions = {}): Promise<FastifyInstance> {
  let shuttingDown = false;
  const app = Fastify({
    logger:
      options.logger === false || options.logger === undefined
        ? false
        : {
            ...(typeof options.logger === 'object' ? options.logger : {}),
            // Credentials never reach the logs.
            redact: ['req.headers.authorization', 'req.headers["x-signature"]', 'req.headers.cookie'],
          },
    bodyLimit: MAX_BODY_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = problemOf(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new HttpProblem(404, 'not_found', 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ledger core API',
        version: '0.1.0',
        description:
          'Command and query API of the event-sourced payment ledger. Amounts are decimal strings in major units; errors are RFC 9457 problem details with a stable `code`.',
      },
      tags: [
        { name: 'accounts', description: 'Payment accounts and balances' },
        { name: 'recharges', description: 'Top-ups from payment channels' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes(service, () => shuttingDown));
  await app.register(apiRoutes(service));

  app.addHook('preClose', async () => {
    shuttingDown = true;
  });
  return app;
}

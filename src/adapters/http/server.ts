import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { ZodObject } from 'zod';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { eventMetadataSchema } from '../../ports/event-store.js';
import type { LedgerService } from '../ledger-service.js';
import type { Principal } from './authorization.js';
import { answerClientError } from './client-errors.js';
import { keepRawJsonBody } from './raw-body.js';
import { installRequestAuthentication } from './request-authentication.js';
import { HttpProblem, problemOf, sendProblem } from './problem-details.js';
import { codesOf, impliedProblemCodes, problemResponses } from './problem-responses.js';
import { healthRoutes } from './routes/health.js';
import { apiRoutes } from './routes/index.js';
import { describeRawNotificationBody } from './routes/channel-notifications.js';
import { consoleRoutes } from './console/console-routes.js';
import { InProcessCalls } from './in-process-calls.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; scopes idempotency keys and is recorded on every event. */
    actor?: string;
    /** The verified signer of the request (absent only on the exempt health and docs routes). */
    principal?: Principal;
  }
}

export interface HttpServerOptions {
  /** false for tests and benchmarks; otherwise pino options (a `stream` to write the lines to, else stdout). */
  readonly logger?: boolean | { level: string; stream?: { write(line: string): void } };
}

/** Largest request body accepted: commands are small; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Longest path parameter routed (ids are at most 64 characters); longer answers 400 path_parameter_too_long. */
export const MAX_PATH_PARAM_LENGTH = 100;
/** What the events' correlation id takes: the event metadata schema's own limit. */
export const MAX_REQUEST_ID_LENGTH = eventMetadataSchema.shape.correlationId.maxLength ?? 200;
const REQUEST_ID_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$`);

function acceptedRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : undefined;
}

export async function buildHttpServer(
  service: LedgerService,
  options: HttpServerOptions = {},
): Promise<FastifyInstance> {
  let shuttingDown = false;
  const app = Fastify({
    logger:
      options.logger === false || options.logger === undefined
        ? false
        : {
            ...(typeof options.logger === 'object' ? options.logger : {}),
            // Credentials never reach the logs.
            redact: [
              'req.headers.authorization',
              'req.headers["x-ledger-signature"]',
              'req.headers.cookie',
              'req.headers["x-ledger-in-process-call"]',
              'req.body.payerPassword',
              'req.body.newPassword',
              'req.body.currentPassword',
              // Fastify logs no bodies; should a log line ever carry one, card numbers stay out of it.
              'req.body.cardNumber',
            ],
          },
    bodyLimit: MAX_BODY_BYTES,
    // A client's X-Request-Id becomes the events' correlation id: only one the event schema takes is
    // adopted, any other is refused (400) by the hook below before anything is claimed or recorded.
    requestIdHeader: false,
    genReqId: (request) => acceptedRequestId(request.headers['x-request-id']) ?? randomUUID(),
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // Requests that reach a closing instance (pipelined on a busy keep-alive connection) are answered by
    // the hook below, as problem+json, not by Fastify's own JSON.
    return503OnClosing: false,
    // Router errors (a bad %-escape, an over-long path parameter) and HTTP framing errors answer problem+json.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(request, reply, problemOf(error));
    },
    clientErrorHandler: answerClientError,
    // Node answers an HTTP/1.1 request without Host with a bare 400 of its own; the hook below answers it
    // as problem+json instead.
    http: { requireHostHeader: false },
  }).withTypeProvider<ZodTypeProvider>();

  // Before any route: every route documents the problems its inputs imply (see impliedProblemCodes).
  app.addHook('onRoute', (route) => {
    const schema = route.schema as
      | {
          headers?: unknown;
          querystring?: unknown;
          body?: unknown;
          response?: Record<number, unknown>;
          hide?: boolean;
        }
      | undefined;
    if (!schema || schema.hide) return;
    const own = schema.response ?? {};
    const implied = impliedProblemCodes({
      url: route.url,
      takesBody: schema.body !== undefined,
      takesMinPosition: schema.querystring instanceof ZodObject && 'minPosition' in schema.querystring.shape,
      takesIdempotencyKey: schema.headers instanceof ZodObject && 'idempotency-key' in schema.headers.shape,
      takesPayerPassword: schema.body instanceof ZodObject && 'payerPassword' in schema.body.shape,
    });
    // The route's own codes and the implied ones, one response per status; its success responses as they are.
    schema.response = { ...own, ...problemResponses(...codesOf(own), ...implied) };
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!shuttingDown) return;
    reply.header('connection', 'close');
    throw new HttpProblem(
      503,
      'shutting_down',
      'Shutting down',
      'this instance is shutting down; retry (another instance answers)',
      {},
      1,
    );
  });
  app.addHook('onRequest', async (request, reply) => {
    // RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request without Host (HTTP/1.0 may omit it).
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      reply.header('connection', 'close');
      throw new HttpProblem(400, 'malformed_request', 'Bad Request', 'an HTTP/1.1 request must carry a Host header');
    }
  });
  app.addHook('onRequest', async (request) => {
    const given = request.headers['x-request-id'];
    if (given !== undefined && acceptedRequestId(given) === undefined) {
      throw new HttpProblem(
        400,
        'invalid_request_id',
        'Invalid X-Request-Id',
        `X-Request-Id must be 1 to ${MAX_REQUEST_ID_LENGTH} printable ASCII characters without spaces`,
      );
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = problemOf(error);
    // A bug gets its stack in the log; an expected outage answer (read model behind, overloaded, storage or
    // channel unavailable) is a warning with its code, not a stack trace per request.
    if (problem.code === 'internal_error') request.log.error({ err: error }, 'request failed');
    else if (problem.status >= 500)
      request.log.warn({ code: problem.code, detail: problem.message }, 'request refused');
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new HttpProblem(404, 'not_found', 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`),
    ),
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
        { name: 'payments', description: 'Balance payments, cancellations, refunds, order status' },
        {
          name: 'channel payments',
          description: 'Payments through payment channels: routing, risk and step-up, asynchronous results',
        },
        { name: 'channels', description: "The channels' routing table and health; their notify endpoint" },
        { name: 'freezes', description: 'Freeze, release, deduct' },
        { name: 'pre-authorisations', description: 'Authorise, cancel, complete, cancel completion' },
        { name: 'transfers', description: 'Transfers between accounts' },
        { name: 'transit', description: 'Transit credentials, offline scans uploaded in batches, fares and debts' },
        { name: 'withdrawals', description: 'Payouts to external cards' },
        { name: 'cards', description: 'Card identification (BIN, network, Luhn); card data never in clear at rest' },
        { name: 'entities', description: 'Users, merchants and operators; payment passwords and API signing keys' },
        { name: 'identity', description: "Users' real-name verification (2, 3 or 4 elements) and erasure (operators)" },
        { name: 'statements', description: 'Account statements (the single-entry external ledger), JSON and CSV' },
        {
          name: 'books',
          description: 'Internal double-entry books: chart of accounts, journal, general ledger, trial balance',
        },
        {
          name: 'log',
          description:
            'The global event log: its head position, for read-your-writes; projection checkpoints and lease',
        },
        {
          name: 'reconciliation',
          description: 'Reconciliation breaks: the review queue, its operator commands and CSV export',
        },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'console', description: "Sign-in links into the operators' web console (docs/console.md)" },
      ],
      // OpenAPI cannot express a request signature; these name the four headers (docs/authentication.md).
      components: {
        securitySchemes: {
          ledgerKeyId: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Ledger-Key-Id',
            description: '<entityId>/<keyNo> of the signing key',
          },
          ledgerTimestamp: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Ledger-Timestamp',
            description:
              'UTC ISO-8601 ("2026-11-21T10:00:00Z"), within AUTH_MAX_CLOCK_SKEW_MS (default 300 s) of the server clock',
          },
          ledgerNonce: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Ledger-Nonce',
            description: '16-64 URL-safe characters, never reused',
          },
          ledgerSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Ledger-Signature',
            description:
              'base64url Ed25519 signature of METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX_OF_BODY',
          },
        },
      },
      security: [{ ledgerKeyId: [], ledgerTimestamp: [], ledgerNonce: [], ledgerSignature: [] }],
    },
    transform: (input) => describeRawNotificationBody(jsonSchemaTransform(input)),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Before any route: routes registered later inherit the body parser and the hooks.
  keepRawJsonBody(app);
  const inProcessCalls = new InProcessCalls();
  installRequestAuthentication(app, {
    inProcessCalls,
    entities: service.entities.directory,
    nonces: service.nonces,
    clock: service.clock,
    maxClockSkewMs: service.config.authMaxClockSkewMs,
  });
  await app.register(healthRoutes(service, () => shuttingDown));
  await app.register(apiRoutes(service));
  await app.register(consoleRoutes(service, inProcessCalls));

  app.addHook('preClose', async () => {
    shuttingDown = true;
  });
  return app;
}

import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ConsoleSessionStore } from '../../../ports/console-session-store.js';
import type { LedgerService } from '../../ledger-service.js';
import { requireOperator } from '../authorization.js';
import { problemResponses } from '../problem-responses.js';
import {
  CONSOLE_LINK_TTL_MS,
  CONSOLE_SESSION_TTL_MS,
  MAX_SESSIONS_PURGED_PER_RUN,
  randomToken,
  tokenHash,
} from './console-session.js';

export const consoleLinkBody = z
  .strictObject({
    role: z
      .enum(['operator', 'auditor'])
      .default('operator')
      .describe('auditor: a read-only session (no revokes), to hand to an auditor'),
  })
  .meta({ example: { role: 'operator' } });

export const consoleLinkView = z
  .object({
    sessionId: z.uuid().describe('The session the link opens (named on the sessions page, revocable there)'),
    role: z.enum(['operator', 'auditor']),
    path: z.string().describe('Open `<the ledger URL><path>` in a browser, once, before linkExpiresAt'),
    linkExpiresAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().describe('When the session ends unless signed out or revoked sooner'),
  })
  .meta({ id: 'ConsoleLink' });

const PURGE_INTERVAL_MS = 60_000;

/** `POST /v1/console/links`: a signed request of an operator grants a one-time link into the web console. */
export function consoleLinkRoutes(service: LedgerService, store: ConsoleSessionStore): FastifyPluginAsyncZod {
  let lastPurgeMs = Number.NEGATIVE_INFINITY;
  return async (app) => {
    app.post(
      '/v1/console/links',
      {
        schema: {
          tags: ['console'],
          summary: 'A one-time sign-in link into the web console (operators)',
          description:
            'Grants a link that opens a console session once, within two minutes; the session lasts eight hours unless signed out or revoked. `ledger console login` calls this and prints the link. Operators only.',
          body: consoleLinkBody,
          response: { 201: consoleLinkView, ...problemResponses('forbidden') },
        },
      },
      async (request, reply) => {
        const principal = requireOperator(request);
        const nowMs = service.clock.now().toMillis();
        const token = randomToken();
        const grant = {
          sessionId: randomUUID(),
          linkHash: tokenHash(token),
          entityId: principal.entityId,
          keyId: principal.keyId,
          role: request.body.role,
          csrfToken: randomToken(),
          createdAtMs: nowMs,
          linkExpiresAtMs: nowMs + CONSOLE_LINK_TTL_MS,
          expiresAtMs: nowMs + CONSOLE_SESSION_TTL_MS,
        };
        await store.grant(grant);
        if (nowMs - lastPurgeMs >= PURGE_INTERVAL_MS) {
          lastPurgeMs = nowMs;
          await store.purgeExpired(nowMs, MAX_SESSIONS_PURGED_PER_RUN);
        }
        return reply.code(201).send({
          sessionId: grant.sessionId,
          role: grant.role,
          path: `/console/login?token=${token}`,
          linkExpiresAt: new Date(grant.linkExpiresAtMs).toISOString(),
          expiresAt: new Date(grant.expiresAtMs).toISOString(),
        });
      },
    );
  };
}

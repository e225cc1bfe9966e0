import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from 'ghtml';
import { openConsoleSessionStore } from '../../storage.js';
import type { LedgerService } from '../../ledger-service.js';
import type { InProcessCalls } from '../in-process-calls.js';
import type { ConsoleSession } from '../../../ports/console-session-store.js';
import { ConsoleApi, ConsoleApiError } from './console-api.js';
import { consoleLinkRoutes } from './console-links.js';
import type { ConsolePage } from './console-page.js';
import {
  clearSessionCookie,
  csrfMatches,
  principalOfSession,
  randomToken,
  sessionOfRequest,
  setSessionCookie,
  tokenHash,
} from './console-session.js';
import { page, seg, signedOutPage } from './layout.js';
import { consolePages } from './pages/index.js';

/**
 * The operators' web console at /console (docs/console.md): server-rendered pages over the JSON API,
 * signed in by a one-time link that a signed operator request granted. Every page reads the API in
 * process as the session's operator (InProcessCalls), so the console has no read of its own.
 */

/** No script, no framing, no foreign origin: the pages are plain HTML and inline CSS. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
} as const;

const HIDDEN = { schema: { hide: true } } as const;

export function consoleRoutes(service: LedgerService, calls: InProcessCalls) {
  return async (app: FastifyInstance): Promise<void> => {
    const store = await openConsoleSessionStore(service.config);
    app.addHook('onClose', async () => store.close());
    const nowMs = () => service.clock.now().toMillis();
    await app.register(consoleLinkRoutes(service, store));

    // Cookies and form bodies only here: the signed JSON API keeps taking JSON alone.
    await app.register(async (pages) => {
      await pages.register(fastifyCookie);
      await pages.register(fastifyFormbody, { bodyLimit: 4_096 });

      const sendHtml = (reply: FastifyReply, status: number, body: string) =>
        reply.code(status).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(body);

      const signedOut = (reply: FastifyReply, message: string, status = 401) =>
        sendHtml(reply, status, signedOutPage(message));

      /** The session of a page request, or an answer already sent. */
      async function sessionOrAnswer(request: FastifyRequest, reply: FastifyReply): Promise<ConsoleSession | null> {
        const session = await sessionOfRequest(store, request, nowMs());
        if (!session) await signedOut(reply, 'You are not signed in (or your session ended).');
        return session;
      }

      function problemPage(reply: FastifyReply, session: ConsoleSession, error: ConsoleApiError) {
        return sendHtml(
          reply,
          error.status,
          page({
            title: 'Not shown',
            section: 'search',
            session,
            body: html`<div class="problem">
              <p><strong>${error.status} ${error.code}</strong></p>
              <p>${error.detail}</p>
            </div>`,
          }),
        );
      }

      for (const consolePage of consolePages(store)) {
        pages.get(consolePage.path, HIDDEN, async (request, reply) => {
          const session = await sessionOrAnswer(request, reply);
          if (!session) return reply;
          if (consolePage.operatorOnly && session.role !== 'operator')
            return problemPage(
              reply,
              session,
              new ConsoleApiError(403, 'forbidden', 'an auditor session may not see this page'),
            );
          try {
            const rendered = await render(consolePage, request, session);
            return sendHtml(reply, 200, page({ ...rendered, section: consolePage.section, session }));
          } catch (error) {
            if (error instanceof ConsoleApiError) return problemPage(reply, session, error);
            throw error;
          }
        });
      }

      function render(consolePage: ConsolePage, request: FastifyRequest, session: ConsoleSession) {
        const query: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(request.query as Record<string, unknown>))
          query[name] = Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value : undefined;
        return consolePage.render({
          api: new ConsoleApi(app, calls, principalOfSession(session)),
          session,
          params: request.params as Record<string, string>,
          query,
          nowMs: nowMs(),
        });
      }

      pages.get('/console/accounts/:accountId/statement.csv', HIDDEN, async (request, reply) => {
        const session = await sessionOrAnswer(request, reply);
        if (!session) return reply;
        const { accountId } = request.params as { accountId: string };
        const { fromDate, toDate } = request.query as Record<string, string | undefined>;
        try {
          const csv = await new ConsoleApi(app, calls, principalOfSession(session)).raw(
            `/v1/accounts/${seg(accountId)}/statement.csv`,
            { fromDate, toDate },
          );
          return reply
            .headers({
              ...SECURITY_HEADERS,
              'content-disposition': `attachment; filename="statement-${accountId}.csv"`,
            })
            .type(csv.contentType)
            .send(csv.body);
        } catch (error) {
          if (error instanceof ConsoleApiError) return problemPage(reply, session, error);
          throw error;
        }
      });

      // The link opens a page with one button: a link scanner or a preview that GETs it spends nothing.
      pages.get('/console/login', HIDDEN, async (request, reply) => {
        const { token } = request.query as { token?: unknown };
        if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token))
          return signedOut(reply, 'This sign-in link is not valid.', 400);
        return sendHtml(
          reply,
          200,
          `<!doctype html>${html`<html lang="en">
            <head>
              <meta charset="utf-8" />
              <meta name="referrer" content="no-referrer" />
              <title>ledger console</title>
            </head>
            <body>
              <h1>ledger console</h1>
              <form method="post" action="/console/login">
                <input type="hidden" name="token" value="${token}" /><button>Open the console</button>
              </form>
            </body>
          </html>`}`,
        );
      });

      pages.post('/console/login', HIDDEN, async (request, reply) => {
        const { token } = (request.body ?? {}) as { token?: unknown };
        if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token))
          return signedOut(reply, 'This sign-in link is not valid.', 400);
        const secret = randomToken();
        const now = nowMs();
        const session = await store.open(tokenHash(token), tokenHash(secret), now);
        if (!session) return signedOut(reply, 'This sign-in link was used already, has expired, or was revoked.');
        setSessionCookie(request, reply, secret, session.expiresAtMs - now);
        return reply.code(303).headers(SECURITY_HEADERS).redirect('/console', 303);
      });

      /** A state-changing form: the session and its CSRF token, or an answer already sent. */
      async function formSession(request: FastifyRequest, reply: FastifyReply): Promise<ConsoleSession | null> {
        const session = await sessionOrAnswer(request, reply);
        if (!session) return null;
        if (!csrfMatches(session, (request.body as Record<string, unknown> | undefined)?.['csrf'])) {
          await problemPage(
            reply,
            session,
            new ConsoleApiError(
              403,
              'csrf_token_invalid',
              'the form did not carry this session’s token: reload the page and try again',
            ),
          );
          return null;
        }
        return session;
      }

      pages.post('/console/logout', HIDDEN, async (request, reply) => {
        const session = await formSession(request, reply);
        if (!session) return reply;
        await store.revoke(session.sessionId, nowMs());
        clearSessionCookie(request, reply);
        return signedOut(reply, 'You are signed out.', 200);
      });

      pages.post('/console/sessions/revoke', HIDDEN, async (request, reply) => {
        const session = await formSession(request, reply);
        if (!session) return reply;
        if (session.role !== 'operator')
          return problemPage(
            reply,
            session,
            new ConsoleApiError(403, 'forbidden', 'an auditor session may not revoke sessions'),
          );
        const { sessionId } = request.body as { sessionId?: unknown };
        if (typeof sessionId === 'string') await store.revoke(sessionId, nowMs());
        return reply.headers(SECURITY_HEADERS).redirect('/console/sessions', 303);
      });
    });
  };
}

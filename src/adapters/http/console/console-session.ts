import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSession, ConsoleSessionStore } from '../../../ports/console-session-store.js';
import type { Principal } from '../authorization.js';

/**
 * Console sign-in (docs/console.md): a signed request of an operator grants a one-time link; opening it
 * sets the session cookie. The cookie holds a random secret (only its hash is stored), http-only,
 * SameSite=Strict, Secure when the request came over TLS, limited to /console and to the session's life.
 */
export const CONSOLE_COOKIE = 'ledger_console';
/** How long a granted link may wait to be opened. */
export const CONSOLE_LINK_TTL_MS = 2 * 60_000;
/** How long a session lasts once granted (a working day); a sign-out or a revoke ends it sooner. */
export const CONSOLE_SESSION_TTL_MS = 8 * 3_600_000;
/** Expired sessions purged at most this many at a time, at most once a minute. */
export const MAX_SESSIONS_PURGED_PER_RUN = 1_000;

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a form's CSRF token with the session's. */
export function csrfMatches(session: ConsoleSession, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(session.csrfToken, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The principal the session's API reads are made as: the operator whose signed request granted it. */
export function principalOfSession(session: ConsoleSession): Principal {
  return { kind: 'operator', entityId: session.entityId, keyId: session.keyId };
}

/** Secure when the browser reached us over TLS: directly, or through a proxy that says so. */
function overTls(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, secret: string, maxAgeMs: number): void {
  reply.setCookie(CONSOLE_COOKIE, secret, {
    path: '/console',
    httpOnly: true,
    sameSite: 'strict',
    secure: overTls(request),
    maxAge: Math.max(0, Math.floor(maxAgeMs / 1000)),
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(CONSOLE_COOKIE, { path: '/console', httpOnly: true, sameSite: 'strict', secure: overTls(request) });
}

/** The live session of the request's cookie, or null. */
export async function sessionOfRequest(
  store: ConsoleSessionStore,
  request: FastifyRequest,
  nowMs: number,
): Promise<ConsoleSession | null> {
  const secret = request.cookies[CONSOLE_COOKIE];
  if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return store.findBySecret(tokenHash(secret), nowMs);
}

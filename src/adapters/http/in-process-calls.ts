import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Principal } from './authorization.js';

/**
 * Read requests the service makes to its own JSON API (app.inject) on behalf of a principal it has
 * already authenticated some other way: the web console's pages, for a console session. The page then
 * shows exactly what the API answers that principal, through the same route, schema and authorisation,
 * with no second implementation of any read.
 *
 * Each call carries a fresh random token in `IN_PROCESS_CALL_HEADER`, known only to this process and
 * good for that one request: request authentication takes it back (`take`) instead of checking a
 * signature. A request from outside cannot name a token that is pending, and only GET is let through.
 */
export const IN_PROCESS_CALL_HEADER = 'x-ledger-in-process-call';
/** In-process calls pending at once (a console page makes a few): beyond it a bug, refused. */
const MAX_PENDING_CALLS = 10_000;

export class InProcessCalls {
  private readonly pending = new Map<string, Principal>();

  /** GET `url` from the API as `principal`. */
  async get(app: FastifyInstance, principal: Principal, url: string): Promise<LightMyRequestResponse> {
    if (this.pending.size >= MAX_PENDING_CALLS) throw new Error('too many in-process API calls pending');
    const token = randomBytes(32).toString('base64url');
    this.pending.set(token, principal);
    try {
      return await app.inject({ method: 'GET', url, headers: { [IN_PROCESS_CALL_HEADER]: token } });
    } finally {
      this.pending.delete(token);
    }
  }

  /** The principal a pending token stands for, once; undefined for any other value. */
  take(token: string): Principal | undefined {
    const principal = this.pending.get(token);
    this.pending.delete(token);
    return principal;
  }
}

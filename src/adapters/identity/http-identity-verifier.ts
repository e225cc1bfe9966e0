import { setTimeout as sleep } from 'node:timers/promises';
import type { IdentityAnswer, IdentityQuery, IdentityVerifier } from '../../ports/identity-verifier.js';
import type { ChannelTransport } from '../channels/channel-transport.js';
import { signedWireCall } from '../channels/wire/signed-wire-call.js';
import type { ChannelKey } from '../channels/wire/wire-signing.js';
import { IDENTITY_CODES, IDENTITY_VERIFY_PATH, identityVerdict } from './identity-wire.js';

/**
 * The identity port over HTTP to a service speaking the identity wire (`POST /identity/v1/verify`, signed
 * both ways). Written as an adapter for a real provider is: every answer's signature checked before it is
 * believed; a verdict only from a verified answer naming our query; anything else (timeout, connection
 * lost, 5xx, busy, an answer not understood) `unknown`, never a mismatch. A query only reads, so an
 * unknown answer is asked again with the same query id, a bounded number of times with a pause between;
 * still unknown, it stays unknown (the caller records it so).
 */
const MAX_TIMEOUT_MS = 60_000;
/** Attempts per verification: the first and two more. A provider's per-query fee bounds it too. */
export const MAX_IDENTITY_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 100;

export interface HttpIdentityVerifierOptions {
  readonly key: ChannelKey;
  /** Our account at the provider. */
  readonly accountId: string;
  readonly transport: ChannelTransport;
  /** Between attempts (tests: 0). */
  readonly retryPauseMs?: number;
}

type Attempt = IdentityAnswer & { readonly retry?: boolean };

export class HttpIdentityVerifier implements IdentityVerifier {
  constructor(private readonly options: HttpIdentityVerifierOptions) {}

  async verify(query: IdentityQuery, { timeoutMs }: { readonly timeoutMs: number }): Promise<IdentityAnswer> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)
      throw new RangeError(`timeoutMs must be in 1..${MAX_TIMEOUT_MS}, not ${timeoutMs}`);
    let answer = await this.#attempt(query, timeoutMs);
    for (
      let attempt = 1;
      answer.outcome === 'unknown' && answer.retry === true && attempt < MAX_IDENTITY_ATTEMPTS;
      attempt++
    ) {
      await sleep(this.options.retryPauseMs ?? RETRY_PAUSE_MS);
      answer = await this.#attempt(query, timeoutMs);
    }
    if (answer.outcome === 'unknown') return { outcome: 'unknown', detail: answer.detail };
    return answer.outcome === 'mismatch'
      ? { outcome: 'mismatch', mismatched: answer.mismatched }
      : { outcome: answer.outcome };
  }

  async #attempt(query: IdentityQuery, timeoutMs: number): Promise<Attempt> {
    const answer = await signedWireCall(
      this.options,
      IDENTITY_VERIFY_PATH,
      {
        query_id: query.queryId,
        name: query.name.reveal(),
        id_number: query.idNumber.reveal(),
        ...(query.phone ? { phone: query.phone.reveal() } : {}),
        ...(query.cardNumber ? { card_no: query.cardNumber.reveal() } : {}),
      },
      timeoutMs,
    );
    // No answer, or the service (or a proxy in front of it) failing: asked again, the query only reads.
    if (answer.kind === 'none') return { outcome: 'unknown', detail: answer.detail, retry: true };
    if (answer.statusCode >= 500)
      return { outcome: 'unknown', detail: `service failed: HTTP ${answer.statusCode}`, retry: true };
    // Not retried: an answer we cannot verify says something is wrong with the keys, not with the moment.
    if (answer.kind === 'unverified') return { outcome: 'unknown', detail: answer.detail };
    const { ret_code: code, data } = answer.envelope;
    if (code === IDENTITY_CODES.busy || code === IDENTITY_CODES.internalError)
      return { outcome: 'unknown', detail: `service: ${code}`, retry: true };
    const verdict = identityVerdict.safeParse(data);
    if (!verdict.success || verdict.data.query_id !== query.queryId)
      return { outcome: 'unknown', detail: `answer not understood: ${code}` };
    if (code === IDENTITY_CODES.match) return { outcome: 'match' };
    if (code === IDENTITY_CODES.noRecord) return { outcome: 'no_record' };
    const mismatched = verdict.data.mismatched ?? [];
    if (code === IDENTITY_CODES.mismatch && mismatched.length > 0) return { outcome: 'mismatch', mismatched };
    return { outcome: 'unknown', detail: `answer not understood: ${code}` };
  }
}

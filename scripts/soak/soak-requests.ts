import { SignedTransport } from '../../src/client/signed-transport.js';

/**
 * The soak's requests: signed, each command under its own Idempotency-Key, sent again with that key
 * until it gets an answer that is the command's (a result or a refusal). The client's own retry policy
 * is off (one attempt per send): the soak sees, and counts, every answer a request got.
 */

/**
 * The answers that say "not now, ask again" and count as acceptable while the service restarts: 503
 * storage_unavailable (stores opening), read_model_behind, overloaded and shutting_down (docs/
 * operations.md, all with Retry-After), and 409 idempotency_request_in_progress (the dead request's claim
 * on the key, until its lease ends or it is taken over) and concurrent_modification. Any other 5xx is a
 * breach: channel_unavailable included, since the simulator never refuses here.
 */
export const RETRY_LATER_503_CODES: ReadonlySet<string> = new Set([
  'storage_unavailable',
  'read_model_behind',
  'overloaded',
  'shutting_down',
]);
const RETRY_LATER_409_CODES: ReadonlySet<string> = new Set([
  'idempotency_request_in_progress',
  'concurrent_modification',
]);

/** Every status besides 2xx, taken as an answer by the transport (the soak judges them itself). */
const EVERY_STATUS = Array.from({ length: 200 }, (_, i) => 400 + i);

/**
 * Longest a request keeps being sent again once the service is up for good (the kills are over, or it
 * has been ready since): past the 30 s claim lease and a slow restart on a loaded machine. While the
 * soak is still killing, a request waits for the service however long its restarts take (bounded by
 * the kills themselves), so a loaded machine's slow restarts do not pass for lost answers.
 */
export const RETRY_BUDGET_MS = 120_000;
const RETRY_DELAY_MIN_MS = 50;
/** Short enough that the clients are back soon after a restart, so the next kill finds work in flight. */
const RETRY_DELAY_MAX_MS = 500;
/** Per attempt: a killed service resets its connections at once; a live one answers well within this. */
const ATTEMPT_TIMEOUT_MS = 30_000;

export interface SoakAnswer {
  readonly status: number;
  /** The problem's code, null for a 2xx. */
  readonly code: string | null;
  readonly body: unknown;
}

export interface SoakRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  /** Who signs it: the operator (the default) or the shop's merchant (a terminal's redemption, uploads). */
  readonly as?: 'merchant';
}

export interface AnswerTally {
  /** Requests sent (every attempt). */
  attempts: number;
  /** Attempts that got no answer (connection refused or reset: the service was down). */
  noAnswer: number;
  /** Acceptable "ask again" answers, by status and code. */
  retryLater: Record<string, number>;
  /** 5xx answers that are not among the acceptable ones: each a breach. */
  unexpected5xx: { request: string; status: number; code: string | null }[];
}

export function emptyTally(): AnswerTally {
  return { attempts: 0, noAnswer: 0, retryLater: {}, unexpected5xx: [] };
}

export function isRetryLater(answer: SoakAnswer): boolean {
  return (
    (answer.status === 503 && answer.code !== null && RETRY_LATER_503_CODES.has(answer.code)) ||
    (answer.status === 409 && answer.code !== null && RETRY_LATER_409_CODES.has(answer.code))
  );
}

export class SoakSender {
  private readonly transport: SignedTransport;
  private readonly merchantTransport: SignedTransport | null;
  /** Attempts sent and not yet answered: a kill is timed to fall while some are. */
  inFlight = 0;
  /** Set by the soak: kills remain to be made (a request's retry budget has not started yet). */
  killing = false;
  /** Set by the soak: when the service was last ready after a start. */
  readyAtMs = Date.now();

  constructor(
    baseUrl: string,
    credentials: { keyId: string; privateKeyPem: string },
    private readonly tally: AnswerTally,
    merchantCredentials?: { keyId: string; privateKeyPem: string },
  ) {
    const transportOf = (signer: { keyId: string; privateKeyPem: string }) =>
      new SignedTransport({ baseUrl, ...signer, timeoutMs: ATTEMPT_TIMEOUT_MS, retry: { maxAttempts: 1 } });
    this.transport = transportOf(credentials);
    this.merchantTransport = merchantCredentials === undefined ? null : transportOf(merchantCredentials);
  }

  private transportFor(request: SoakRequest): SignedTransport {
    if (request.as !== 'merchant') return this.transport;
    if (this.merchantTransport === null) throw new Error('a merchant request without merchant credentials');
    return this.merchantTransport;
  }

  /** One attempt: the answer, or null when there was none. */
  async once(request: SoakRequest): Promise<SoakAnswer | null> {
    this.tally.attempts += 1;
    let answer;
    this.inFlight += 1;
    try {
      answer = await this.transportFor(request).send({
        method: request.method,
        pathWithQuery: request.path,
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
        answerStatuses: EVERY_STATUS,
      });
    } catch {
      this.tally.noAnswer += 1;
      return null;
    } finally {
      this.inFlight -= 1;
    }
    const body: unknown = answer.text === '' ? null : parseJson(answer.text);
    const code = answer.status >= 300 ? codeOf(body) : null;
    const result = { status: answer.status, code, body };
    if (isRetryLater(result)) {
      const label = `${answer.status} ${code}`;
      this.tally.retryLater[label] = (this.tally.retryLater[label] ?? 0) + 1;
    } else if (answer.status >= 500) {
      this.tally.unexpected5xx.push({ request: `${request.method} ${request.path}`, status: answer.status, code });
    }
    return result;
  }

  /**
   * Sends until the answer is the request's own (not "ask again", not none), within RETRY_BUDGET_MS.
   * Returns every answer in order (the last one decides), whether the budget ran out first (final null) and
   * the attempts sent (a retry by key is an attempt past the first).
   */
  async untilAnswered(
    request: SoakRequest,
  ): Promise<{ answers: SoakAnswer[]; final: SoakAnswer | null; attempts: number }> {
    const answers: SoakAnswer[] = [];
    const startedAtMs = Date.now();
    const outOfBudget = () => !this.killing && Date.now() > Math.max(startedAtMs, this.readyAtMs) + RETRY_BUDGET_MS;
    for (let attempt = 1; ; attempt += 1) {
      const answer = await this.once(request);
      if (answer !== null) answers.push(answer);
      if (answer !== null && !isRetryLater(answer)) return { answers, final: answer, attempts: attempt };
      if (outOfBudget()) return { answers, final: null, attempts: attempt };
      const delay = Math.min(RETRY_DELAY_MAX_MS, RETRY_DELAY_MIN_MS * 2 ** Math.min(attempt, 10));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** A read that must succeed: 2xx after any restart, else the soak stops with the answer. */
  async read<T>(path: string): Promise<T> {
    const { final } = await this.untilAnswered({ method: 'GET', path });
    if (final === null || final.status >= 300) throw new Error(`GET ${path}: ${JSON.stringify(final)}`);
    return final.body as T;
  }

  /** A setup command that must succeed. */
  async command<T>(path: string, body: unknown, idempotencyKey: string, as?: 'merchant'): Promise<T> {
    const request: SoakRequest = { method: 'POST', path, body, idempotencyKey, ...(as === undefined ? {} : { as }) };
    const { final } = await this.untilAnswered(request);
    if (final === null || final.status >= 300) throw new Error(`POST ${path}: ${JSON.stringify(final)}`);
    return final.body as T;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function codeOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const code = (body as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

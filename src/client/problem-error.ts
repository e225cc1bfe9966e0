import type { Problem } from '../adapters/http/problem-details.js';

/** The RFC 9457 body of a refusal, as the server's problem schema declares it (extension members kept). */
export type ProblemBody = Problem & { readonly [extension: string]: unknown };

/** Code given to an answer that was not problem+json (a proxy's HTML error page, say): the client's, not the server's. */
export const NOT_A_PROBLEM_CODE = 'http_error';

/**
 * A non-2xx answer, with the problem the server sent. Branch on `code` (stable), not on `detail` (prose).
 * Thrown after the client's retries, if any, are spent.
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;
  readonly code: string;

  constructor(
    readonly problem: ProblemBody,
    /** The Idempotency-Key the command was sent with (null for reads): retry with it later to learn the outcome. */
    readonly idempotencyKey: string | null,
    /** How many requests were made, retries included. */
    readonly attempts: number,
  ) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.status = problem.status;
    this.code = problem.code;
  }
}

export function isProblemBody(value: unknown): value is ProblemBody {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate['status'] === 'number' &&
    typeof candidate['code'] === 'string' &&
    typeof candidate['title'] === 'string' &&
    typeof candidate['detail'] === 'string' &&
    typeof candidate['type'] === 'string'
  );
}

/** The problem to report for an answer: the server's own, or one made from the status line. */
export function problemOfAnswer(status: number, statusText: string, payload: unknown): ProblemBody {
  if (isProblemBody(payload)) return payload;
  return {
    type: 'about:blank',
    title: statusText || `HTTP ${status}`,
    status,
    code: NOT_A_PROBLEM_CODE,
    detail: `the answer (HTTP ${status}) was not application/problem+json`,
  };
}

import type { DomainErrorCode } from '../../domain/shared/domain-error.js';
import { DOMAIN_STATUS, PROBLEM_CONTENT_TYPE, problemSchema } from './problem-details.js';

/**
 * What each route documents in OpenAPI about its errors: per status, the codes that status can carry on
 * that route, as `application/problem+json` (what sendProblem sends). A route names the codes its own
 * logic raises (problemResponses); the codes its inputs imply whatever it does (a signature, a body, an
 * Idempotency-Key, a payer password, `minPosition`) are added to every route by server.ts (onRoute), so
 * no route can forget one. docs/operations.md's error table lists the same codes under the same statuses
 * (tests/api/error-codes.test.ts holds both to the codes the source raises).
 */

/** The status of every code the HTTP adapter raises itself, besides the domain's (DOMAIN_STATUS). */
const HTTP_PROBLEM_STATUS = {
  validation_failed: 400,
  malformed_json: 400,
  invalid_query: 400,
  cursor_mismatch: 400,
  invalid_request_id: 400,
  position_beyond_head: 400,
  invalid_url: 400,
  path_parameter_too_long: 400,
  invalid_content_length: 400,
  balance_instant_in_future: 400,
  card_number_invalid: 400,
  signature_missing: 401,
  signature_invalid: 401,
  timestamp_skewed: 401,
  nonce_reused: 401,
  key_unknown: 401,
  key_revoked: 401,
  payer_consent_required: 403,
  payer_password_invalid: 403,
  book_account_not_found: 404,
  recon_day_not_found: 404,
  projection_not_found: 404,
  stream_not_found: 404,
  idempotency_request_in_progress: 409,
  concurrent_modification: 409,
  rebuild_in_progress: 409,
  projections_not_held: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  payer_may_not_pay: 422,
  payer_password_not_set: 422,
  idempotency_key_reused: 422,
  export_too_large: 422,
  statement_refused: 422,
  accounting_date_not_closed: 422,
  payer_password_locked: 429,
  headers_too_large: 431,
  internal_error: 500,
  read_model_behind: 503,
  storage_unavailable: 503,
  channel_unavailable: 503,
  overloaded: 503,
  shutting_down: 503,
} as const;

export type ProblemCode = keyof typeof HTTP_PROBLEM_STATUS | Exclude<DomainErrorCode, 'invariant_violated'>;

export function problemStatusOf(code: ProblemCode): number {
  return code in HTTP_PROBLEM_STATUS
    ? HTTP_PROBLEM_STATUS[code as keyof typeof HTTP_PROBLEM_STATUS]
    : DOMAIN_STATUS[code as DomainErrorCode].status;
}

/**
 * A command that moves an amount on ledger accounts: the caller's right to the account, the amount and its
 * currency, the accounts found, the operation's state, and the account deciders' refusals.
 */
export const MONEY_MOVEMENT_CODES = [
  'forbidden',
  'invalid_amount',
  'unknown_currency',
  'currency_mismatch',
  'account_not_found',
  'operation_state_conflict',
  'account_not_active',
  'account_flag_denies',
] as const satisfies readonly ProblemCode[];

/** Through a payment channel (recharges, withdrawals). */
export const CHANNEL_CODES = [
  'unknown_channel',
  'channel_declined',
  'channel_unavailable',
] as const satisfies readonly ProblemCode[];

interface ProblemResponse {
  readonly description: string;
  readonly content: { readonly [PROBLEM_CONTENT_TYPE]: { readonly schema: typeof problemSchema } };
}

/** The codes behind each documented response, so onRoute can merge the implied ones into a route's own. */
const codesOfResponse = new WeakMap<ProblemResponse, readonly ProblemCode[]>();

/** A route's problem responses: its codes, grouped by status, each status described by its codes. */
export function problemResponses(...codes: readonly ProblemCode[]): Record<number, ProblemResponse> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of new Set(codes)) {
    const status = problemStatusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, ProblemResponse> = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const response: ProblemResponse = {
      description: `Problem details (RFC 9457) whose code is one of: ${statusCodes.map((code) => `\`${code}\``).join(', ')}`,
      content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
    };
    codesOfResponse.set(response, statusCodes);
    responses[status] = response;
  }
  return responses;
}

/** The codes a route's documented responses name (its own, from problemResponses). */
export function codesOf(responses: Record<string, unknown>): ProblemCode[] {
  return Object.values(responses).flatMap((response) =>
    typeof response === 'object' && response !== null ? (codesOfResponse.get(response as ProblemResponse) ?? []) : [],
  );
}

/**
 * The problems a route can give whatever it does, by what it takes:
 *   - any route: 431 (headers too large), 500 (internal error);
 *   - a signed route: 400 (validation, X-Request-Id, a bad URL), 401 (signature), 503 (storage, closing down);
 *   - a body: 400 (malformed JSON, Content-Length), 413 (too large), 415 (not JSON);
 *   - `minPosition`: 400 (beyond the log's head), 503 (read model behind);
 *   - an Idempotency-Key (a command): 409 (a request with that key in progress, concurrent changes),
 *     422 (the key reused), 503 (too many commands waiting for one account);
 *   - a payer password: 403 (consent refused), 422 (payer may not pay, no password set), 429 (locked).
 */
export function impliedProblemCodes(route: {
  readonly url: string;
  readonly takesBody: boolean;
  readonly takesMinPosition: boolean;
  readonly takesIdempotencyKey: boolean;
  readonly takesPayerPassword: boolean;
}): ProblemCode[] {
  const always: ProblemCode[] = ['headers_too_large', 'internal_error'];
  // The channels' notify endpoint is signed by the channel, not a merchant: its route names its own codes.
  if (!route.url.startsWith('/v1/') || route.url.startsWith('/v1/channel-notifications/')) return always;
  return [
    ...always,
    'validation_failed',
    'invalid_request_id',
    'invalid_url',
    'path_parameter_too_long',
    'signature_missing',
    'signature_invalid',
    'timestamp_skewed',
    'nonce_reused',
    'key_unknown',
    'key_revoked',
    'storage_unavailable',
    'shutting_down',
    ...(route.takesBody
      ? (['malformed_json', 'invalid_content_length', 'body_too_large', 'unsupported_media_type'] as const)
      : []),
    ...(route.takesMinPosition ? (['position_beyond_head', 'read_model_behind'] as const) : []),
    ...(route.takesIdempotencyKey
      ? ([
          'idempotency_request_in_progress',
          'concurrent_modification',
          'idempotency_key_reused',
          'overloaded',
        ] as const)
      : []),
    ...(route.takesPayerPassword
      ? ([
          'payer_consent_required',
          'payer_password_invalid',
          'payer_may_not_pay',
          'payer_password_not_set',
          'payer_password_locked',
        ] as const)
      : []),
  ];
}

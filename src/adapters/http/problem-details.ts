import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdempotencyKeyReusedError, IdempotentRequestInProgressError } from '../../commands/idempotency.js';
import { QueueFullError } from '../../commands/stream-command-handler.js';
import { DomainError, type DomainErrorCode } from '../../domain/shared/domain-error.js';
import {
  AppendOutcomeUnknownError,
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
} from '../../ports/event-store.js';
import { InvalidQueryError, ReadModelStoreUnavailableError } from '../../ports/read-model-store.js';
import { PositionWaitTimeoutError } from '../../projections/projection-runner.js';
import { sqliteStorageFaultOf } from '../sqlite/sqlite-faults.js';

/**
 * RFC 9457 problem details. Every error the API returns is `application/problem+json` with a stable
 * `code` clients may branch on; `type` is a URN naming the same code. No stack trace or internal message
 * ever reaches a client: unexpected errors are logged and answered as `internal_error`.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    code: z.string(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    details: z.record(z.string(), z.string()).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details with a stable error code' });
export type Problem = z.infer<typeof problemSchema>;

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extra: Partial<Pick<Problem, 'errors' | 'details'>> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
  }
}

/**
 * The status of an operation's recorded failure: 503 when no channel took it, 409 for a state conflict,
 * else 422 (the request was fine; the operation failed).
 */
export function failureStatus(reasonCode: string): number {
  if (reasonCode === 'channel_unavailable') return 503;
  return reasonCode === 'operation_state_conflict' ? 409 : 422;
}

export const DOMAIN_STATUS: Record<DomainErrorCode, { status: number; title: string }> = {
  invalid_amount: { status: 400, title: 'Invalid amount' },
  unknown_currency: { status: 400, title: 'Unknown currency' },
  currency_mismatch: { status: 400, title: 'Currency does not match the account' },
  unknown_channel: { status: 400, title: 'Unknown payment channel' },
  no_channel_available: { status: 422, title: 'No payment channel can take this payment' },
  risk_blocked: { status: 422, title: 'Blocked by risk control' },
  verification_code_invalid: { status: 422, title: 'Verification code does not match' },
  verification_code_expired: { status: 422, title: 'Verification code expired' },
  verification_failed: { status: 422, title: 'Verification failed' },
  verification_unavailable: { status: 422, title: 'Verification cannot be sent' },
  account_not_found: { status: 404, title: 'Account not found' },
  account_exists: { status: 409, title: 'Account already exists' },
  account_owner_unfit: { status: 422, title: 'Owner cannot hold this kind of account' },
  account_not_active: { status: 422, title: 'Account is not active' },
  account_flag_denies: { status: 422, title: 'Account does not allow this operation' },
  insufficient_funds: { status: 422, title: 'Insufficient funds' },
  channel_declined: { status: 422, title: 'Payment channel declined' },
  channel_unavailable: { status: 503, title: 'Payment channel unavailable' },
  freeze_exists: { status: 409, title: 'Freeze already exists' },
  freeze_not_found: { status: 404, title: 'Freeze not found' },
  release_exceeds_frozen: { status: 422, title: 'Release exceeds frozen amount' },
  deduction_exceeds_frozen: { status: 422, title: 'Deduction exceeds frozen amount' },
  invalid_flags: { status: 400, title: 'Invalid account flags' },
  account_not_empty: { status: 422, title: 'Account still holds funds' },
  duplicate_order_no: { status: 409, title: 'Duplicate merchant order number' },
  operation_not_found: { status: 404, title: 'Not found' },
  operation_state_conflict: { status: 409, title: 'Operation is not in a state that allows this' },
  refund_exceeds_payment: { status: 422, title: 'Refund exceeds payment' },
  duplicate_refund_no: { status: 409, title: 'Duplicate refund number' },
  capture_exceeds_authorisation: { status: 422, title: 'Capture exceeds authorisation' },
  cancel_window_closed: { status: 422, title: 'Cancellation window closed' },
  preauth_expired: { status: 422, title: 'Pre-authorisation expired' },
  same_account: { status: 400, title: 'Payer and payee are the same account' },
  forbidden: { status: 403, title: 'Forbidden' },
  entity_not_found: { status: 404, title: 'Entity not found' },
  entity_exists: { status: 409, title: 'Entity already exists' },
  entity_kind_denies: { status: 422, title: 'Not allowed for this kind of entity' },
  entity_contact_missing: { status: 422, title: 'Entity has no such contact' },
  payment_password_weak: { status: 400, title: 'Payment password too weak' },
  payment_password_mismatch: { status: 422, title: 'Payment password does not match' },
  api_key_exists: { status: 409, title: 'API key already registered' },
  api_key_not_found: { status: 404, title: 'API key not found' },
  api_key_limit: { status: 422, title: 'Too many API keys' },
  invalid_public_key: { status: 400, title: 'Invalid public key' },
  invalid_webhook_url: { status: 400, title: 'Invalid webhook URL' },
  webhook_url_not_allowed: { status: 422, title: 'Webhook URL not allowed' },
  webhook_endpoint_not_found: { status: 404, title: 'Webhook endpoint not found' },
  webhook_endpoint_exists: { status: 409, title: 'Webhook endpoint already exists' },
  webhook_message_not_found: { status: 404, title: 'Webhook message not found' },
  transit_debt_outstanding: { status: 422, title: 'Transit fares unpaid' },
  transit_credential_limit: { status: 422, title: 'Too many transit credentials' },
  transit_credential_not_found: { status: 404, title: 'Transit credential not found' },
  transit_batch_conflict: { status: 409, title: 'Batch id used for other scans' },
  payment_code_seed_not_found: { status: 404, title: 'Payment-code seed not found' },
  payment_code_seed_limit: { status: 422, title: 'Too many payment-code seeds for this user' },
  payment_code_seed_answered: { status: 409, title: 'Payment-code seed was answered already' },
  payment_code_slots_exhausted: { status: 503, title: 'No free payment-code slot' },
  payment_code_wrong: { status: 422, title: 'Payment code does not match' },
  payment_code_revoked: { status: 422, title: 'Payment code of a revoked seed' },
  payment_code_expired: { status: 422, title: 'Payment code of an expired seed' },
  payment_code_used: { status: 409, title: 'Payment code already used' },
  payment_code_currency_mismatch: { status: 422, title: 'Payment code pays in another currency' },
  payment_code_confirmation_required: { status: 422, title: 'The payer must confirm this amount' },
  payment_code_daily_limit: { status: 422, title: "Payment code's daily limit reached" },
  payment_code_rate_limited: { status: 429, title: 'Too many wrong payment codes' },
  card_bound_to_another_user: { status: 409, title: 'Card bound to another user' },
  card_binding_in_progress: { status: 409, title: 'A binding of this card is in progress' },
  card_elements_mismatch: { status: 422, title: 'Card details do not match the bank record' },
  card_invalid: { status: 422, title: 'Card not valid at its bank' },
  card_not_supported: { status: 422, title: 'Card cannot be bound' },
  card_restricted: { status: 422, title: 'Card restricted by its bank' },
  card_details_invalid: { status: 422, title: 'Card expiry or CVN2 invalid' },
  card_identity_required: { status: 422, title: 'Real name and ID number required' },
  break_not_found: { status: 404, title: 'Reconciliation break not found' },
  break_not_open: { status: 409, title: 'Reconciliation break not open' },
  break_already_open: { status: 409, title: 'Reconciliation break already open' },
  break_already_resolved: { status: 409, title: 'Reconciliation break already resolved' },
  resolution_not_allowed_for_class: { status: 422, title: 'Resolution not allowed for this break class' },
  break_currencies_differ: { status: 422, title: 'The break has two currencies' },
  card_contract_not_found: { status: 404, title: 'Card contract not found' },
  card_contract_other_user: { status: 403, title: "Another user's card contract" },
  card_contract_not_bound: { status: 409, title: 'Card contract not bound yet' },
  card_contract_terminated: { status: 409, title: 'Card contract terminated' },
  statement_not_stored: { status: 404, title: 'No statement of the day is stored' },
  statement_replaced: { status: 409, title: 'The statement was replaced during the run' },
  identity_mismatch: { status: 422, title: 'Identity elements do not match' },
  identity_no_record: { status: 422, title: 'No identity record of this ID number' },
  identity_service_unavailable: { status: 503, title: 'Identity service unavailable' },
  identity_verification_limit: { status: 429, title: 'Too many identity verifications' },
  erasure_reason_required: { status: 400, title: 'Erasure reason required' },
  user_erased: { status: 410, title: 'User erased' },
  invariant_violated: { status: 500, title: 'Internal error' },
};

export function problemType(code: string): string {
  return `urn:ledger:problem:${code}`;
}

export function problemOf(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError && error.code !== 'invariant_violated') {
    const mapped = DOMAIN_STATUS[error.code];
    return new HttpProblem(mapped.status, error.code, mapped.title, error.message, { details: { ...error.details } });
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return new HttpProblem(422, 'idempotency_key_reused', 'Idempotency-Key reused', error.message);
  }
  if (error instanceof IdempotentRequestInProgressError) {
    return new HttpProblem(
      409,
      'idempotency_request_in_progress',
      'Request in progress',
      error.message,
      {},
      Math.ceil(error.retryAfterMs / 1000),
    );
  }
  if (error instanceof PositionWaitTimeoutError) {
    return new HttpProblem(
      503,
      'read_model_behind',
      'Read model not caught up',
      `the read model has not yet applied position ${error.position}; retry shortly`,
      {},
      1,
    );
  }
  if (error instanceof WrongExpectedRevisionError) {
    return new HttpProblem(
      409,
      'concurrent_modification',
      'Concurrent modification',
      'the account was changed by many concurrent requests; retry with the same Idempotency-Key',
      {},
      1,
    );
  }
  if (error instanceof QueueFullError) {
    return new HttpProblem(
      503,
      'overloaded',
      'Too many commands for one account',
      'too many commands are waiting for this account; retry shortly',
      {},
      1,
    );
  }
  if (error instanceof AppendOutcomeUnknownError) {
    // Perhaps recorded: the same key's retry gets the recorded answer, or finishes the operation.
    return new HttpProblem(
      503,
      'storage_unavailable',
      'Storage unavailable',
      'the ledger storage did not confirm this request; retry with the same Idempotency-Key',
      {},
      5,
    );
  }
  if (
    error instanceof EventStoreUnavailableError ||
    error instanceof ReadModelStoreUnavailableError ||
    // A write of another embedded store (vault, outbox, statements) met a full disk or read-only storage.
    sqliteStorageFaultOf(error) !== undefined
  ) {
    return new HttpProblem(
      503,
      'storage_unavailable',
      'Storage unavailable',
      'the ledger storage is unavailable; retry shortly',
      {},
      2,
    );
  }
  if (error instanceof InvalidQueryError) {
    return new HttpProblem(400, 'invalid_query', 'Invalid query', error.message);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((issue) => ({
      // `body.amount`, or `body` itself: the root's instance path is '' or '/', never a trailing dot.
      path: [
        error.validationContext ?? 'request',
        ...(issue.instancePath ?? '').split('/').filter((part) => part !== ''),
      ].join('.'),
      message: issue.message ?? 'invalid',
    }));
    return new HttpProblem(
      400,
      'validation_failed',
      'Invalid request',
      errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      { errors },
    );
  }
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpProblem(400, 'malformed_json', 'Malformed JSON', 'the request body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem(
        413,
        'body_too_large',
        'Request body too large',
        'the request body exceeds the size limit',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem(415, 'unsupported_media_type', 'Unsupported media type', 'send application/json');
    case 'FST_ERR_BAD_URL':
      return new HttpProblem(400, 'invalid_url', 'Invalid URL', 'the path is not a valid URL (a bad %-escape)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpProblem(
        400,
        'path_parameter_too_long',
        'Path parameter too long',
        'a path parameter is longer than any identifier of this API',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpProblem(
        400,
        'invalid_content_length',
        'Invalid Content-Length',
        'the Content-Length header does not match the body',
      );
    default:
      break; // any other Fastify error is classed by its status below
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new HttpProblem(fastifyError.statusCode, 'bad_request', 'Bad request', 'the request could not be processed');
  }
  return new HttpProblem(500, 'internal_error', 'Internal error', 'an unexpected error occurred; it has been logged');
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: HttpProblem) {
  const body: Problem = {
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    code: problem.code,
    detail: problem.message,
    instance: request.url.split('?')[0],
    ...problem.extra,
  };
  if (problem.retryAfterSeconds !== undefined) reply.header('retry-after', String(problem.retryAfterSeconds));
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(body);
}

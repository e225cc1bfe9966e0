/**
 * A business rule refused a command. `code` is stable: clients branch on it, and the HTTP layer maps it
 * to an RFC 9457 problem type. The domain never knows about HTTP status codes; the mapping lives in the
 * adapter that speaks HTTP.
 */
export type DomainErrorCode =
  | 'invalid_amount'
  | 'unknown_currency'
  | 'currency_mismatch'
  | 'account_not_found'
  | 'account_exists'
  | 'account_owner_unfit'
  | 'account_not_active'
  | 'account_flag_denies'
  | 'insufficient_funds'
  | 'channel_declined'
  | 'channel_unavailable'
  | 'freeze_exists'
  | 'freeze_not_found'
  | 'release_exceeds_frozen'
  | 'deduction_exceeds_frozen'
  | 'invalid_flags'
  | 'account_not_empty'
  | 'duplicate_order_no'
  | 'operation_not_found'
  | 'operation_state_conflict'
  | 'refund_exceeds_payment'
  | 'duplicate_refund_no'
  | 'capture_exceeds_authorisation'
  | 'cancel_window_closed'
  | 'preauth_expired'
  | 'same_account'
  | 'forbidden'
  | 'entity_not_found'
  | 'entity_exists'
  | 'entity_kind_denies'
  | 'entity_contact_missing'
  | 'payment_password_weak'
  | 'payment_password_mismatch'
  | 'api_key_exists'
  | 'api_key_not_found'
  | 'api_key_limit'
  | 'invalid_public_key'
  | 'unknown_channel'
  | 'invalid_webhook_url'
  | 'webhook_url_not_allowed'
  | 'webhook_endpoint_not_found'
  | 'webhook_endpoint_exists'
  | 'webhook_message_not_found'
  | 'no_channel_available'
  | 'risk_blocked'
  | 'verification_code_invalid'
  | 'verification_code_expired'
  | 'verification_failed'
  | 'verification_unavailable'
  | 'transit_debt_outstanding'
  | 'transit_credential_limit'
  | 'transit_credential_not_found'
  | 'transit_batch_conflict'
  | 'payment_code_seed_not_found'
  | 'payment_code_seed_limit'
  | 'payment_code_seed_answered'
  | 'payment_code_slots_exhausted'
  | 'payment_code_wrong'
  | 'payment_code_revoked'
  | 'payment_code_expired'
  | 'payment_code_used'
  | 'payment_code_currency_mismatch'
  | 'payment_code_confirmation_required'
  | 'payment_code_daily_limit'
  | 'payment_code_rate_limited'
  | 'card_bound_to_another_user'
  | 'card_binding_in_progress'
  | 'card_elements_mismatch'
  | 'card_invalid'
  | 'card_not_supported'
  | 'card_restricted'
  | 'card_details_invalid'
  | 'card_identity_required'
  | 'break_not_found'
  | 'break_not_open'
  | 'break_already_open'
  | 'break_already_resolved'
  | 'resolution_not_allowed_for_class'
  | 'break_currencies_differ'
  | 'card_contract_not_found'
  | 'card_contract_other_user'
  | 'card_contract_not_bound'
  | 'card_contract_terminated'
  | 'statement_not_stored'
  | 'statement_replaced'
  | 'identity_mismatch'
  | 'identity_no_record'
  | 'identity_service_unavailable'
  | 'identity_verification_limit'
  | 'erasure_reason_required'
  | 'user_erased'
  | 'invariant_violated';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** TigerStyle: an invariant that must hold. A failure is a bug, never a user error. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new DomainError('invariant_violated', `invariant violated: ${message}`);
}

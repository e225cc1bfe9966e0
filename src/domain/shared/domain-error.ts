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
  | 'account_not_active'
  | 'account_flag_denies'
  | 'insufficient_funds'
  | 'channel_declined'
  | 'unknown_channel'
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

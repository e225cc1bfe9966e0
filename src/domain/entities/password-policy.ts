import { DomainError } from '../shared/domain-error.js';

/**
 * What a payment password must be. Payment passwords are often 6-digit PINs, so the rules refuse the
 * PINs an attacker tries first; the slow hash (scrypt) does the rest.
 */
export const MIN_PAYMENT_PASSWORD_LENGTH = 6;
/** scrypt hashes any length, but an unbounded input is a cheap way to make the server work. */
export const MAX_PAYMENT_PASSWORD_LENGTH = 128;

export function checkPaymentPassword(password: string): void {
  const refuse = (why: string) => {
    throw new DomainError('payment_password_weak', `the payment password ${why}`);
  };
  if (password.length < MIN_PAYMENT_PASSWORD_LENGTH) refuse(`needs at least ${MIN_PAYMENT_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PAYMENT_PASSWORD_LENGTH)
    refuse(`may have at most ${MAX_PAYMENT_PASSWORD_LENGTH} characters`);
  if (/^(.)\1*$/su.test(password)) refuse('must not repeat one character');
  if (isRun(password, 1) || isRun(password, -1)) refuse('must not be a run of consecutive digits');
}

/** "123456", "987654": each digit one step from the previous. */
function isRun(password: string, step: 1 | -1): boolean {
  if (!/^[0-9]+$/.test(password)) return false;
  for (let i = 1; i < password.length; i += 1) {
    if (Number(password[i]) - Number(password[i - 1]) !== step) return false;
  }
  return true;
}

import { luhnCheckDigit } from '../accounts/account-number.js';

/** Payment card numbers (ISO/IEC 7812) are 12 to 19 digits; China UnionPay issues 16 to 19. */
export const MIN_CARD_NUMBER_DIGITS = 12;
export const MAX_CARD_NUMBER_DIGITS = 19;

/** The card number without the spaces and dashes people type; null when it is not 12 to 19 digits then. */
export function normalizeCardNumber(typed: string): string | null {
  if (typed.length > 2 * MAX_CARD_NUMBER_DIGITS) return null;
  const digits = typed.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${MIN_CARD_NUMBER_DIGITS},${MAX_CARD_NUMBER_DIGITS}}$`).test(digits) ? digits : null;
}

/**
 * Whether the last digit is the Luhn check digit of the others. UnionPay cards carry one too (China's
 * bank card standard follows ISO/IEC 7812), so the rule is the same for every network.
 */
export function luhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  return luhnCheckDigit(digits.slice(0, -1)) === digits.slice(-1);
}

import { ACCOUNT_TYPES, accountTypeOfPrefix, type AccountType } from './account-type.js';

/**
 * Account numbers: 16 digits = 3-digit type prefix + 12 random digits + a Luhn check digit.
 * The prefix tells the kind; the check digit catches a mistyped number before any lookup. Uniqueness is
 * not left to chance: opening an account appends to a stream named by the number with "no stream"
 * expected, so a collision is refused by the event store and a new number is drawn.
 */
export const ACCOUNT_NUMBER_LENGTH = 16;
const RANDOM_DIGITS = 12;

export type AccountNumber = string & { readonly __brand: 'AccountNumber' };

/** `randomDigit` returns 0..9; injected so the domain stays pure and tests deterministic. */
export function generateAccountNumber(type: AccountType, randomDigit: () => number): AccountNumber {
  let body = ACCOUNT_TYPES[type].prefix;
  for (let i = 0; i < RANDOM_DIGITS; i += 1) body += String(randomDigit());
  return `${body}${luhnCheckDigit(body)}` as AccountNumber;
}

export function isValidAccountNumber(value: string): value is AccountNumber {
  if (!/^[0-9]{16}$/.test(value)) return false;
  if (accountTypeOfPrefix(value.slice(0, 3)) === undefined) return false;
  return luhnCheckDigit(value.slice(0, -1)) === value.slice(-1);
}

export function accountTypeOf(accountNumber: AccountNumber): AccountType {
  const type = accountTypeOfPrefix(accountNumber.slice(0, 3));
  if (!type) throw new Error(`account number ${accountNumber} has an unknown type prefix`);
  return type;
}

/** The Luhn (mod 10) check digit for a string of digits. */
export function luhnCheckDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    // Double every second digit counting from the right of the payload (the check digit goes after it).
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

import { DomainError } from '../shared/domain-error.js';
import { isCurrencyCode, minorUnitExponent, type CurrencyCode } from './currency.js';

/**
 * An amount of money: integer minor units (fen, cents, yen) and an ISO 4217 currency.
 * Never a floating-point number: 0.1 + 0.2 is not a ledger's arithmetic.
 */
export interface Money {
  readonly amountMinor: bigint;
  readonly currency: CurrencyCode;
}

/** The largest amount one line may carry: 10^18 minor units, far above any real payment, well inside int64. */
export const MAX_AMOUNT_MINOR = 10n ** 18n;

export function parseCurrency(code: string): CurrencyCode {
  if (!isCurrencyCode(code)) {
    throw new DomainError('unknown_currency', `"${code}" is not an ISO 4217 currency this ledger books`, {
      currency: code,
    });
  }
  return code;
}

/** Plain decimal: digits, optionally a point and more digits. No sign, exponent, spaces, or leading "+". */
const DECIMAL_PATTERN = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Parses a positive amount written in major units ("12.34" CNY -> 1234n fen). Rejects signs, exponents,
 * separators, and more decimals than the currency has: "12.345" CNY is an error, not a rounding.
 */
export function parseAmount(decimal: string, currency: CurrencyCode): Money {
  const money = parseLimit(decimal, currency);
  if (money.amountMinor <= 0n) {
    throw new DomainError('invalid_amount', `amount "${decimal}" must be greater than zero`, { amount: decimal });
  }
  return money;
}

/**
 * Parses an amount that may be zero, such as a limit ("0.00": no overdraft), with the same rules as
 * parseAmount otherwise: what the API shows as "0.00" it takes back.
 */
export function parseLimit(decimal: string, currency: CurrencyCode): Money {
  const match = DECIMAL_PATTERN.exec(decimal);
  if (!match) {
    throw new DomainError(
      'invalid_amount',
      `amount "${decimal}" is not a plain decimal number of major units (e.g. "12.34")`,
      { amount: decimal },
    );
  }
  const exponent = minorUnitExponent(currency);
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    throw new DomainError(
      'invalid_amount',
      `amount "${decimal}" has ${fraction.length} decimals; ${currency} allows ${exponent}`,
      { amount: decimal, currency },
    );
  }
  const amountMinor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  if (amountMinor > MAX_AMOUNT_MINOR) {
    throw new DomainError('invalid_amount', `amount "${decimal}" exceeds the largest amount a line may carry`, {
      amount: decimal,
    });
  }
  return { amountMinor, currency };
}

/** Writes minor units as a major-unit decimal string with exactly the currency's decimals (1234n CNY -> "12.34"). */
export function formatAmount(amountMinor: bigint, currency: CurrencyCode): string {
  const exponent = minorUnitExponent(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

import currencyCodes from 'currency-codes';

/**
 * ISO 4217 currencies and their minor-unit exponent, from the ISO list (via `currency-codes`).
 * Codes without a minor unit in ISO (precious metals, SDR, test and "no currency" codes) are not money
 * a ledger books, so they are refused rather than guessed.
 */
const NOT_BOOKABLE = new Set([
  'XAG',
  'XAU',
  'XBA',
  'XBB',
  'XBC',
  'XBD',
  'XDR',
  'XPD',
  'XPT',
  'XSU',
  'XTS',
  'XUA',
  'XXX',
]);

export type CurrencyCode = string & { readonly __brand: 'CurrencyCode' };

const MINOR_UNIT_EXPONENTS: ReadonlyMap<string, number> = new Map(
  currencyCodes.data
    .filter((c) => !NOT_BOOKABLE.has(c.code) && Number.isInteger(c.digits))
    .map((c) => [c.code, c.digits] as const),
);

export function isCurrencyCode(code: string): code is CurrencyCode {
  return MINOR_UNIT_EXPONENTS.has(code);
}

/** Number of digits after the decimal point in the currency's major unit (CNY 2, JPY 0, BHD 3). */
export function minorUnitExponent(currency: CurrencyCode): number {
  const exponent = MINOR_UNIT_EXPONENTS.get(currency);
  if (exponent === undefined) throw new Error(`not an ISO 4217 currency: ${currency}`);
  return exponent;
}

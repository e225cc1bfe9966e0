import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, parseAmount, parseCurrency } from '../../src/domain/money/money.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';

const CNY = parseCurrency('CNY');
const JPY = parseCurrency('JPY');
const BHD = parseCurrency('BHD');

describe('money', () => {
  it('parses major-unit decimals into exact minor units per currency', () => {
    expect(parseAmount('100.00', CNY).amountMinor).toBe(10_000n);
    expect(parseAmount('0.01', CNY).amountMinor).toBe(1n);
    expect(parseAmount('12.3', CNY).amountMinor).toBe(1_230n);
    expect(parseAmount('12', CNY).amountMinor).toBe(1_200n);
    expect(parseAmount('500', JPY).amountMinor).toBe(500n);
    expect(parseAmount('1.234', BHD).amountMinor).toBe(1_234n);
    expect(parseAmount('0.1', CNY).amountMinor + parseAmount('0.2', CNY).amountMinor).toBe(
      parseAmount('0.3', CNY).amountMinor,
    );
  });

  it.each([
    ['12.345', 'more decimals than CNY has'],
    ['-1.00', 'a sign'],
    ['+1.00', 'a plus sign'],
    ['1e3', 'an exponent'],
    ['1,000.00', 'a thousands separator'],
    [' 1.00', 'spaces'],
    ['1.', 'a dangling point'],
    ['.5', 'no whole part'],
    ['01.00', 'a leading zero'],
    ['0', 'zero'],
    ['0.00', 'zero with decimals'],
    ['NaN', 'not a number'],
    ['Infinity', 'infinity'],
    ['', 'nothing'],
    ['10000000000000000.01', 'more than the largest amount'],
  ])('refuses "%s" (%s)', (text) => {
    expect(() => parseAmount(text, CNY)).toThrow(DomainError);
  });

  it('refuses decimals on a currency without minor units', () => {
    expect(() => parseAmount('1.5', JPY)).toThrow(/JPY allows 0/);
  });

  it('refuses codes that are not bookable ISO 4217 currencies', () => {
    expect(() => parseCurrency('XXX')).toThrow(DomainError);
    expect(() => parseCurrency('XAU')).toThrow(DomainError);
    expect(() => parseCurrency('cny')).toThrow(DomainError);
    expect(() => parseCurrency('ABC')).toThrow(DomainError);
  });

  it('formats minor units with exactly the currency decimals', () => {
    expect(formatAmount(10_000n, CNY)).toBe('100.00');
    expect(formatAmount(5n, CNY)).toBe('0.05');
    expect(formatAmount(-5n, CNY)).toBe('-0.05');
    expect(formatAmount(0n, CNY)).toBe('0.00');
    expect(formatAmount(500n, JPY)).toBe('500');
    expect(formatAmount(1_234n, BHD)).toBe('1.234');
  });

  it('round-trips any amount: format(parse(x)) == x for canonical decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 17n }), fc.constantFrom(CNY, JPY, BHD), (minor, currency) => {
        const text = formatAmount(minor, currency);
        expect(parseAmount(text, currency).amountMinor).toBe(minor);
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountTypeOf,
  generateAccountNumber,
  isValidAccountNumber,
  luhnCheckDigit,
} from '../../src/domain/accounts/account-number.js';
import { ACCOUNT_TYPE_NAMES, ACCOUNT_TYPES } from '../../src/domain/accounts/account-type.js';

describe('account numbers', () => {
  it('computes the Luhn check digit', () => {
    // 7992739871 -> 3 is the textbook example.
    expect(luhnCheckDigit('7992739871')).toBe('3');
  });

  it('start with the type prefix, are 16 digits, carry a valid check digit, and tell their type', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ACCOUNT_TYPE_NAMES),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 12, maxLength: 12 }),
        (type, digits) => {
          let i = 0;
          const number = generateAccountNumber(type, () => digits[i++]!);
          expect(number).toMatch(/^[0-9]{16}$/);
          expect(number.startsWith(ACCOUNT_TYPES[type].prefix)).toBe(true);
          expect(isValidAccountNumber(number)).toBe(true);
          expect(accountTypeOf(number)).toBe(type);
        },
      ),
    );
  });

  it('rejects a number with one digit changed', () => {
    const number = generateAccountNumber('wallet', () => 7);
    const changed = `${number.slice(0, 8)}${(Number(number[8]) + 1) % 10}${number.slice(9)}`;
    expect(isValidAccountNumber(changed)).toBe(false);
    expect(isValidAccountNumber('9991234567890123')).toBe(false);
  });
});

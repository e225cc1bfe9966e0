import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadBinTable, shippedBinTableFile } from '../../src/adapters/cards/bin-table-file.js';
import { testCardholders } from '../../src/adapters/channels/simulator/default-simulator-config.js';
import { luhnCheckDigit } from '../../src/domain/accounts/account-number.js';
import { BinTable, BinTableError, parseBinTable, type BinEntry } from '../../src/domain/cards/bin-table.js';
import { identifyCard } from '../../src/domain/cards/card-identification.js';
import { networkByRule } from '../../src/domain/cards/card-network.js';
import { luhnValid, normalizeCardNumber } from '../../src/domain/cards/card-number.js';

const HEADER = 'prefix,bank_code,bank_name,card_kind,network,test_data';
const row = (prefix: string, bankCode: string, kind: BinEntry['cardKind'] = 'debit'): BinEntry => ({
  prefix,
  bankCode,
  bankName: `${bankCode} bank`,
  cardKind: kind,
  network: 'unionpay',
  testData: false,
});
/** A Luhn-valid card number starting with `prefix`, `length` digits long. */
const cardOf = (prefix: string, length = 16) => {
  const body = prefix.padEnd(length - 1, '0');
  return `${body}${luhnCheckDigit(body)}`;
};

describe('Luhn check digit', () => {
  it.each([
    ['4111111111111111', true], // Visa test card
    ['4012888888881881', true], // Visa test card
    ['5555555555554444', true], // Mastercard test card
    ['378282246310005', true], // American Express test card
    ['6200000000000005', true], // UnionPay test card (16 digits)
    ['6205500000000000004', true], // UnionPay test card (19 digits)
    ['79927398713', true], // the textbook example
    ['4111111111111112', false],
    ['6200000000000006', false],
    ['79927398710', false],
  ])('%s is %s', (digits, valid) => {
    expect(luhnValid(digits)).toBe(valid);
  });

  it('finds every single-digit error and every swap of two adjacent different digits (but 09/90)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{11,18}$/), fc.nat(), fc.integer({ min: 1, max: 9 }), (body, at, delta) => {
        const card = `${body}${luhnCheckDigit(body)}`;
        expect(luhnValid(card)).toBe(true);
        const i = at % card.length;
        const changed = `${card.slice(0, i)}${(Number(card[i]) + delta) % 10}${card.slice(i + 1)}`;
        expect(luhnValid(changed)).toBe(false);
        const j = at % (card.length - 1);
        const [a, b] = [card[j]!, card[j + 1]!];
        if (a !== b && `${a}${b}` !== '09' && `${a}${b}` !== '90')
          expect(luhnValid(`${card.slice(0, j)}${b}${a}${card.slice(j + 2)}`)).toBe(false);
      }),
    );
  });

  it('normalises what people type: spaces and dashes go, anything else or a wrong length is refused', () => {
    expect(normalizeCardNumber('6222 0200 0000 0000 018')).toBe('6222020000000000018');
    expect(normalizeCardNumber('4111-1111-1111-1111')).toBe('4111111111111111');
    for (const bad of [
      '',
      '12345678901',
      '1'.repeat(20),
      '4111x11111111111',
      '４１１１１１１１１１１１１１１１',
      ' '.repeat(80),
    ])
      expect(normalizeCardNumber(bad)).toBeNull();
  });
});

describe('network rule (the fallback)', () => {
  it.each([
    ['4111111111111111', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['6222020000000000018', 'unionpay'],
    ['6011000000000004', 'unionpay'],
    ['9558800000000000', 'unionpay'],
    ['3782822463100050', 'unknown'],
    ['6512345678901234', 'unknown'],
  ] as const)('%s -> %s', (digits, network) => {
    expect(networkByRule(digits)).toBe(network);
  });
});

describe('BIN table', () => {
  const table = new BinTable([
    row('622202', 'ICBC'),
    row('62220299', 'ICBC_SPECIAL', 'credit'),
    row('6222029912', 'TEN'),
  ]);

  it('the longest prefix wins, 6 to 10 digits', () => {
    expect(table.lookup(cardOf('622202'))?.bankCode).toBe('ICBC');
    expect(table.lookup(cardOf('6222029'))?.bankCode).toBe('ICBC');
    expect(table.lookup(cardOf('62220299'))?.bankCode).toBe('ICBC_SPECIAL');
    expect(table.lookup(cardOf('622202991'))?.bankCode).toBe('ICBC_SPECIAL');
    expect(table.lookup(cardOf('6222029912'))?.bankCode).toBe('TEN');
    expect(table.lookup(cardOf('622203'))).toBeUndefined();
  });

  it('answers the longest prefix whatever the order of the rows (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^62\d{4,8}$/), { minLength: 1, maxLength: 30 }),
        fc.stringMatching(/^\d{0,12}$/),
        fc.nat(),
        (prefixes, tail, pick) => {
          const entries = prefixes.map((prefix) => row(prefix, `B${prefix}`));
          const card = `${prefixes[pick % prefixes.length]!}${tail}`;
          const expected = prefixes.filter((p) => card.startsWith(p)).sort((a, b) => b.length - a.length)[0];
          expect(new BinTable(entries).lookup(card)?.prefix).toBe(expected);
          expect(new BinTable([...entries].reverse()).lookup(card)?.prefix).toBe(expected);
        },
      ),
    );
  });

  it('identifies a card: the table when a row matches, else the network rule; Luhn; masked first 6 and last 4', () => {
    expect(identifyCard(cardOf('62220299', 19), table)).toEqual({
      network: 'unionpay',
      bank: { code: 'ICBC_SPECIAL', name: 'ICBC_SPECIAL bank' },
      cardKind: 'credit',
      luhnValid: true,
      maskedCard: `622202*********${cardOf('62220299', 19).slice(-4)}`,
      source: 'bin_table',
      testCard: false,
    });
    expect(identifyCard('4111111111111112', table)).toEqual({
      network: 'visa',
      bank: null,
      cardKind: null,
      luhnValid: false,
      maskedCard: '411111******1112',
      source: 'network_rule',
      testCard: false,
    });
  });
});

describe('BIN table file', () => {
  it('refuses a table with bad rows, naming each by its line number', () => {
    const text = [
      '# a comment',
      HEADER,
      '622202,ICBC,Industrial and Commercial Bank of China,debit,unionpay,no',
      '62220,SHORT,Too short a prefix,debit,unionpay,no',
      '62220212345,LONG,Too long a prefix,debit,unionpay,no',
      '622202,ICBC,Twice,debit,unionpay,no',
      '622848,abc,Lower-case code,debit,unionpay,no',
      '622849,ABC,Agricultural Bank of China,charge,unionpay,no',
      '622850,ABC,Agricultural Bank of China,debit,amex,no',
      '622851,ABC,Agricultural Bank of China,debit,unionpay,maybe',
      '622852,ABC,Bank,of,China,debit,unionpay,no',
      '',
      '621700,CCB,China Construction Bank,debit,unionpay,no',
    ].join('\n');
    let refused: BinTableError | undefined;
    try {
      parseBinTable(text);
    } catch (error) {
      refused = error as BinTableError;
    }
    expect(refused).toBeInstanceOf(BinTableError);
    expect(refused!.problems).toEqual([
      'line 4: prefix must be 6 to 10 digits',
      'line 5: prefix must be 6 to 10 digits',
      'line 6: prefix 622202 already on line 3',
      'line 7: bank_code must be 2 to 20 of A-Z 0-9 _',
      'line 8: card_kind must be one of debit, credit, prepaid',
      'line 9: network must be one of visa, mastercard, unionpay',
      'line 10: test_data must be yes or no',
      'line 11: 6 fields expected, got 8',
    ]);
  });

  it('refuses a table without its header, or with another', () => {
    expect(() => parseBinTable('# nothing\n')).toThrow(/no header/);
    expect(() => parseBinTable('prefix,bank\n622202,ICBC\n')).toThrow(/line 1: the header must be/);
  });

  it('reads an operator file (CARD_BIN_TABLE_FILE) and names the file when it refuses it', () => {
    expect(() => loadBinTable('/nonexistent/card-bins.csv')).toThrow(/nonexistent\/card-bins\.csv/);
  });

  it('ships a valid table whose test rows are marked test data and make the simulator test cards resolve', () => {
    const shipped = loadBinTable(undefined);
    expect(shipped.size).toBeGreaterThanOrEqual(7);
    for (const holder of testCardholders) {
      const identified = identifyCard(holder.cardNumber, shipped);
      expect(identified).toMatchObject({
        bank: { code: holder.bankCode },
        cardKind: holder.cardKind,
        luhnValid: true,
        source: 'bin_table',
        testCard: true,
      });
    }
    // Every test row is of the test range (000000: no issuer's), and every real row is not.
    const rows = readFileSync(shippedBinTableFile(), 'utf8')
      .split('\n')
      .filter((line) => /^\d/.test(line))
      .map((line) => line.split(','));
    for (const fields of rows) expect(fields[0]!.startsWith('000000')).toBe(fields[5] === 'yes');
    expect(identifyCard(cardOf('622202', 19), shipped).bank?.code).toBe('ICBC');
  });
});

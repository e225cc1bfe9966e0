import { describe, expect, it } from 'vitest';
import { csvDocument, csvField, inertText } from '../../src/adapters/http/csv.js';

describe('RFC 4180 CSV', () => {
  it('quotes only fields that need it, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('')).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
  });

  it('ends every record with CRLF and refuses ragged rows', () => {
    expect(
      csvDocument(
        ['a', 'b'],
        [
          ['1', 'x,y'],
          ['2', ''],
        ],
      ),
    ).toBe('a,b\r\n1,"x,y"\r\n2,\r\n');
    expect(() => csvDocument(['a', 'b'], [['1']])).toThrow(/row 1 has 1 fields/);
  });

  it('keeps spreadsheets from running free text as a formula', () => {
    for (const text of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(inertText(text)).toBe(`'${text}`);
    expect(inertText('coffee =1')).toBe('coffee =1');
  });
});

/**
 * A small RFC 4180 CSV writer: records end with CRLF; a field containing a comma, a double quote, CR or
 * LF is enclosed in double quotes, with its double quotes doubled. Every record has the header's width.
 */
const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvRecord(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export function csvDocument(header: readonly string[], rows: readonly (readonly string[])[]): string {
  for (const [index, row] of rows.entries()) {
    if (row.length !== header.length)
      throw new Error(`CSV row ${index + 1} has ${row.length} fields; the header has ${header.length}`);
  }
  return [header, ...rows].map(csvRecord).join('');
}

/**
 * Free text that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or CR) gets a
 * leading apostrophe, so opening an export never executes what a counterparty typed (CSV injection).
 * For text columns only: amounts keep their sign.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function inertText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

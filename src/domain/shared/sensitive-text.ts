/**
 * A card number, ID number, name or phone on its way to a channel: held in memory only, never written.
 * Every way a value leaks into a log or a document (string conversion, JSON, `util.inspect`, template
 * literals) gives the masked form; only `reveal()` gives the clear text, and only the code that builds the
 * channel's request message calls it.
 */
export class SensitiveText {
  readonly #clear: string;
  readonly masked: string;

  constructor(clear: string, masked: string) {
    this.#clear = clear;
    this.masked = masked;
  }

  reveal(): string {
    return this.#clear;
  }

  toString(): string {
    return this.masked;
  }

  toJSON(): string {
    return this.masked;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SensitiveText(${this.masked})`;
  }
}

function keepEnds(clear: string, first: number, last: number): string {
  if (clear.length <= first + last) return '*'.repeat(clear.length);
  return `${clear.slice(0, first)}${'*'.repeat(clear.length - first - last)}${clear.slice(clear.length - last)}`;
}

/** A card number keeps its BIN (first 6) and last 4, the form the industry shows (PCI DSS 3.4). */
export function cardNumber(clear: string): SensitiveText {
  return new SensitiveText(clear, keepEnds(clear, 6, 4));
}

/** An ID number keeps its first and last character. */
export function idNumber(clear: string): SensitiveText {
  return new SensitiveText(clear, keepEnds(clear, 1, 1));
}

/** A phone number keeps its first 3 and last 4 digits. */
export function phoneNumber(clear: string): SensitiveText {
  return new SensitiveText(clear, keepEnds(clear, 3, 4));
}

/** A name keeps its first character. */
export function personName(clear: string): SensitiveText {
  return new SensitiveText(clear, keepEnds(clear, 1, 0));
}

/** A secret kept whole (CVN2, an SMS code): nothing of it is shown. */
export function secretText(clear: string): SensitiveText {
  return new SensitiveText(clear, '*'.repeat(clear.length));
}

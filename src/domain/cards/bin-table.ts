import { CARD_KINDS, CARD_NETWORKS, type CardKind, type CardNetwork } from './card-network.js';

/** A BIN (issuer identification number) prefix: 6 to 10 digits. */
export const MIN_BIN_DIGITS = 6;
export const MAX_BIN_DIGITS = 10;
/** Most rows a table takes, and the longest line: a table is loaded whole into memory at start-up. */
export const MAX_BIN_ROWS = 100_000;
const MAX_LINE_LENGTH = 500;
const HEADER = 'prefix,bank_code,bank_name,card_kind,network,test_data';

export interface BinEntry {
  readonly prefix: string;
  readonly bankCode: string;
  readonly bankName: string;
  readonly cardKind: CardKind;
  readonly network: Exclude<CardNetwork, 'unknown'>;
  /** A row for test cards only (the simulator's): no real card has this prefix. */
  readonly testData: boolean;
}

export class BinTableError extends Error {
  override readonly name = 'BinTableError';

  constructor(readonly problems: readonly string[]) {
    super(`the card BIN table is refused: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? '; ...' : ''}`);
  }
}

/**
 * The BIN table: prefix -> issuing bank, card kind, network. The longest prefix that a card number starts
 * with wins (an issuer's 8-digit range inside another's 6-digit one).
 */
export class BinTable {
  readonly #byPrefix: ReadonlyMap<string, BinEntry>;

  constructor(entries: readonly BinEntry[]) {
    if (entries.length > MAX_BIN_ROWS) throw new RangeError(`at most ${MAX_BIN_ROWS} BIN rows`);
    const byPrefix = new Map<string, BinEntry>();
    for (const entry of entries) {
      if (!isBinPrefix(entry.prefix)) throw new RangeError(`not a BIN prefix: ${entry.prefix}`);
      if (byPrefix.has(entry.prefix)) throw new RangeError(`BIN prefix ${entry.prefix} is listed twice`);
      byPrefix.set(entry.prefix, entry);
    }
    this.#byPrefix = byPrefix;
  }

  get size(): number {
    return this.#byPrefix.size;
  }

  /** The row of the longest prefix `digits` starts with, if any. */
  lookup(digits: string): BinEntry | undefined {
    for (let length = Math.min(MAX_BIN_DIGITS, digits.length); length >= MIN_BIN_DIGITS; length -= 1) {
      const entry = this.#byPrefix.get(digits.slice(0, length));
      if (entry) return entry;
    }
    return undefined;
  }
}

function isBinPrefix(value: string): boolean {
  return new RegExp(`^\\d{${MIN_BIN_DIGITS},${MAX_BIN_DIGITS}}$`).test(value);
}

/**
 * Parses a BIN table file: '#' lines are comments (the source and date), then the header
 * `prefix,bank_code,bank_name,card_kind,network,test_data`, then one row a line; no quoting (no field
 * holds a comma). Every bad row is reported with its line number, and a table with any is refused whole:
 * a half-loaded table would answer wrong banks silently.
 */
export function parseBinTable(text: string): BinTable {
  const problems: string[] = [];
  const entries: BinEntry[] = [];
  const seen = new Map<string, number>();
  let headerSeen = false;
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_BIN_ROWS + 1_000) throw new BinTableError([`more than ${MAX_BIN_ROWS} rows`]);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.length > MAX_LINE_LENGTH) return void problems.push(`line ${lineNo}: longer than ${MAX_LINE_LENGTH}`);
    if (!headerSeen) {
      headerSeen = true;
      if (line !== HEADER) problems.push(`line ${lineNo}: the header must be ${HEADER}`);
      return;
    }
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length !== 6) return void problems.push(`line ${lineNo}: 6 fields expected, got ${fields.length}`);
    const [prefix, bankCode, bankName, cardKind, network, testData] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const before = problems.length;
    if (!isBinPrefix(prefix))
      problems.push(`line ${lineNo}: prefix must be ${MIN_BIN_DIGITS} to ${MAX_BIN_DIGITS} digits`);
    else if (seen.has(prefix)) problems.push(`line ${lineNo}: prefix ${prefix} already on line ${seen.get(prefix)}`);
    if (!/^[A-Z][A-Z0-9_]{1,19}$/.test(bankCode))
      problems.push(`line ${lineNo}: bank_code must be 2 to 20 of A-Z 0-9 _`);
    if (bankName.length < 2 || bankName.length > 100)
      problems.push(`line ${lineNo}: bank_name must be 2 to 100 characters`);
    if (!(CARD_KINDS as readonly string[]).includes(cardKind))
      problems.push(`line ${lineNo}: card_kind must be one of ${CARD_KINDS.join(', ')}`);
    if (network === 'unknown' || !(CARD_NETWORKS as readonly string[]).includes(network))
      problems.push(`line ${lineNo}: network must be one of visa, mastercard, unionpay`);
    if (testData !== 'yes' && testData !== 'no') problems.push(`line ${lineNo}: test_data must be yes or no`);
    if (problems.length > before) return;
    seen.set(prefix, lineNo);
    entries.push({
      prefix,
      bankCode,
      bankName,
      cardKind: cardKind as CardKind,
      network: network as BinEntry['network'],
      testData: testData === 'yes',
    });
  });
  if (!headerSeen) problems.push(`no header (${HEADER})`);
  if (entries.length > MAX_BIN_ROWS) problems.push(`more than ${MAX_BIN_ROWS} rows`);
  if (problems.length > 0) throw new BinTableError(problems);
  return new BinTable(entries);
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBinTable, type BinTable } from '../../domain/cards/bin-table.js';

const SHIPPED_TABLE = join('resources', 'card-bins.csv');
/** How far up from this module the project root may be (src/adapters/cards, or dist/src/adapters/cards). */
const MAX_LEVELS_UP = 6;

/** The shipped table's path: resources/card-bins.csv at the project root, from the sources or the build. */
export function shippedBinTableFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < MAX_LEVELS_UP; level += 1) {
    const candidate = join(dir, SHIPPED_TABLE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`the shipped card BIN table ${SHIPPED_TABLE} is not found above ${fileURLToPath(import.meta.url)}`);
}

/**
 * The BIN table: the operator's file (CARD_BIN_TABLE_FILE) when configured, else the shipped one. Read and
 * validated once at start-up: a bad row stops the service with its line number (BinTableError).
 */
export function loadBinTable(file: string | undefined): BinTable {
  const path = file ?? shippedBinTableFile();
  try {
    return parseBinTable(readFileSync(path, 'utf8'));
  } catch (error) {
    if (error instanceof Error) error.message = `${path}: ${error.message}`;
    throw error;
  }
}

import { cardNumber } from '../shared/sensitive-text.js';
import type { BinTable } from './bin-table.js';
import { networkByRule, type CardKind, type CardNetwork } from './card-network.js';
import { luhnValid } from './card-number.js';

/** What the platform tells of a card from its number alone (shown as the user types it). */
export interface CardIdentification {
  readonly network: CardNetwork;
  /** The issuer, from the BIN table; null when no row matches. */
  readonly bank: { readonly code: string; readonly name: string } | null;
  readonly cardKind: CardKind | null;
  readonly luhnValid: boolean;
  /** First 6 and last 4 (PCI DSS 3.4). */
  readonly maskedCard: string;
  /** Which told the network: a BIN table row, or the leading-digit rule. */
  readonly source: 'bin_table' | 'network_rule';
  /** The matching row is test data (a simulator card): never a real issuer's. */
  readonly testCard: boolean;
}

/** `digits`: a normalised card number (normalizeCardNumber). */
export function identifyCard(digits: string, table: BinTable): CardIdentification {
  const entry = table.lookup(digits);
  const common = { luhnValid: luhnValid(digits), maskedCard: cardNumber(digits).masked };
  if (entry === undefined)
    return {
      ...common,
      network: networkByRule(digits),
      bank: null,
      cardKind: null,
      source: 'network_rule',
      testCard: false,
    };
  return {
    ...common,
    network: entry.network,
    bank: { code: entry.bankCode, name: entry.bankName },
    cardKind: entry.cardKind,
    source: 'bin_table',
    testCard: entry.testData,
  };
}

/** The card networks the ledger tells apart; `unknown` when neither the BIN table nor the rule knows. */
export const CARD_NETWORKS = ['visa', 'mastercard', 'unionpay', 'unknown'] as const;
export type CardNetwork = (typeof CARD_NETWORKS)[number];

export const CARD_KINDS = ['debit', 'credit', 'prepaid'] as const;
export type CardKind = (typeof CARD_KINDS)[number];

/**
 * The network by the leading digits, the fallback when no BIN table row matches (DESIGN.md 2.4): 4 Visa,
 * 5 Mastercard, 62, 60 and 9 UnionPay (9 is the prefix of China's domestic-only cards; 60 is shared with
 * other networks abroad, but a card typed into this platform is a Chinese one). 62 is checked before the
 * one-digit rules only for clarity: no rule overlaps.
 */
export function networkByRule(digits: string): CardNetwork {
  if (digits.startsWith('62') || digits.startsWith('60') || digits.startsWith('9')) return 'unionpay';
  if (digits.startsWith('4')) return 'visa';
  if (digits.startsWith('5')) return 'mastercard';
  return 'unknown';
}

import type { IdentityAnswer } from '../domain/identity/identity-decider.js';
import type { SensitiveText } from '../domain/shared/sensitive-text.js';

/**
 * Real-name verification against an identity service (in China: the public-security citizen database,
 * reached through a licensed provider; for three and four elements, the carriers' and banks' records).
 * Two elements (name, ID number), three (+ phone) or four (+ card number). A query only reads: asking the
 * same `queryId` again answers the same verdict and changes nothing, so an unknown answer may be asked
 * again. The values travel as `SensitiveText`, so a log of a query shows them masked.
 */
export { IDENTITY_ELEMENTS, elementsOf, type IdentityElement } from '../domain/identity/identity-elements.js';

export interface IdentityQuery {
  /** Ours, unique per verification: the service answers the same verdict for the same id. */
  readonly queryId: string;
  readonly name: SensitiveText;
  readonly idNumber: SensitiveText;
  /** Three and four elements: the phone registered to the person. */
  readonly phone: SensitiveText | null;
  /** Four elements: a card of the person's. */
  readonly cardNumber: SensitiveText | null;
}

/** A verdict (match, mismatch naming the elements, no record) or `unknown`: no verdict, never taken as one. */
export type { IdentityAnswer } from '../domain/identity/identity-decider.js';

export interface IdentityVerifier {
  /** `timeoutMs` bounds each attempt, in 1..60,000 (else a RangeError). */
  verify(query: IdentityQuery, options: { readonly timeoutMs: number }): Promise<IdentityAnswer>;
}

/**
 * Categories of ledger streams ("<category>-<id>"). Projections and auditors read these; the
 * idempotency records (`idempotency-`) are infrastructure and stay out of every read model.
 */
export const LEDGER_STREAM_PREFIXES = [
  'account-',
  'payment-',
  'transfer-',
  'withdrawal-',
  'freeze-',
  'preauth-',
  'recharge-',
  'chanpay-',
  'entity-',
  // A transfer batch's record (`transferbatch-`: no other prefix above matches it), for its list.
  'transferbatch-',
  // A merchant's webhook endpoint, for its list.
  'webhook-',
  // A channel's statement of one day (`reconday-<channel>:<date>`): downloads, files stored and refused.
  'reconday-',
  // A reconciliation break (`reconbreak-<channel>:<date>:<digest>`): found, seen again, cleared, resolved.
  'reconbreak-',
  // A payer's transit credentials and fares (`transit-<userId>`), and a transit operator's scan batch
  // (`transitbatch-<recordId>`: not matched by `transit-`, whose dash it lacks).
  'transit-',
  'transitbatch-',
  // Offline payment codes: a user's seeds and redemptions, slot claims, device bindings.
  'codeseed-',
  'codeslot-',
  'codedevice-',
  // A bind-card contract (`bindcard-<contractId>`), and the claim of a card by a user (`cardclaim-`).
  'bindcard-',
  'cardclaim-',
  // A user's real-name verifications (`identity-<userId>`) and erasure (`erasure-<userId>`).
  'identity-',
  'erasure-',
] as const;

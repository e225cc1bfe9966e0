/**
 * Why an uploaded scan is refused: a result code in the batch's answer, never an HTTP problem (the batch
 * itself succeeds). The first are what a terminal can check offline (src/client/transit.ts, verifyTap);
 * the rest need the ledger: the payer's stream, the upload's time, the batch.
 */
export const LEDGER_SCAN_REFUSALS = [
  'transit_scan_duplicate',
  'transit_scan_too_old',
  'transit_scan_in_future',
  'transit_credential_unknown',
  'transit_credential_revoked',
  'transit_credential_expired',
  'transit_fare_above_cap',
  'transit_debt_limit',
  'currency_mismatch',
] as const;
export type LedgerScanRefusal = (typeof LEDGER_SCAN_REFUSALS)[number];

/** A scan the payer's stream refuses (thrown by the transit decider's AcceptFare, recording nothing). */
export class ScanRefusedError extends Error {
  override readonly name = 'ScanRefusedError';
  constructor(
    readonly code: LedgerScanRefusal,
    message: string,
    readonly scanId: string,
  ) {
    super(message);
  }
}

import { PaymentCodes, type PaymentCodeParameters } from './payment-code.js';

export interface ShownPaymentCode {
  readonly code: string;
  /** The TOTP step the code belongs to. */
  readonly step: number;
  /** When the app shows the next code (ISO 8601, UTC). */
  readonly refreshAt: string;
}

/**
 * What the payer's app does, offline: the code of its seed at an instant, and when to show the next one.
 * The seed and slot are the issuance's answer; the parameters are public (docs/payment-codes.md).
 */
export function generatePaymentCode(input: {
  seed: Uint8Array;
  slot: number;
  prefix: number;
  atMs: number;
  parameters: PaymentCodeParameters;
}): ShownPaymentCode {
  const codes = new PaymentCodes(input.parameters);
  const step = codes.stepAt(input.atMs);
  return {
    code: codes.generate(input),
    step,
    refreshAt: new Date((step + 1) * codes.stepSeconds * 1000).toISOString(),
  };
}

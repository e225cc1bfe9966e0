/**
 * The package's client entry, `ledger-core/client`: a typed, signing, retrying client for the ledger API.
 * It loads nothing of the server at run time (Node's crypto and fetch only, and `otpauth` for the payment
 * code's TOTP).
 */
export { LedgerClient, type CommandOptions, type LedgerClientOptions } from './ledger-client.js';
export { ProblemError, NOT_A_PROBLEM_CODE, type ProblemBody } from './problem-error.js';
export { RETRY_MAX_ATTEMPTS_LIMIT, type RetryOptions } from './retry-policy.js';
export { MAX_PAGES_PER_ITERATION } from './pages.js';
export { ROUTES, type RouteName, type RouteSpec } from './routes.js';
export { SIGNATURE_HEADERS, sha256Hex, signRequest, signingString, type SignRequestInput } from './signing.js';
export {
  OFFLINE_REFUSALS,
  TransitFormatError,
  decodeCredential,
  ed25519PrivateKeyFromSeed,
  generateDeviceKeyPair,
  rawEd25519PublicKey,
  scanMessage,
  signScan,
  verifyTap,
  type OfflineRefusal,
  type ScanChallenge,
  type TapToCheck,
  type TapVerdict,
  type TransitCredential as TransitCredentialFields,
} from './transit.js';
export type * from './api-types.js';
export { Ff1 } from './payment-codes/ff1.js';
export {
  MAX_SLOT,
  PAYMENT_CODE_ALGORITHMS,
  PAYMENT_CODE_LENGTH,
  PaymentCodes,
  SEED_BYTES,
  type DecodedPaymentCode,
  type PaymentCodeAlgorithm,
  type PaymentCodeParameters,
} from './payment-codes/payment-code.js';
export { generatePaymentCode, type ShownPaymentCode } from './payment-codes/reference-client.js';

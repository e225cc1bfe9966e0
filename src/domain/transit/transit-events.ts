import { z } from 'zod';
import { currencyCode, minorUnits, utcInstant } from '../shared/codecs.js';

/**
 * Facts on a payer's transit stream (`transit-<userId>`): its credentials (issued, revoked) and every fare
 * a transit operator's scan of one of them accepted, booked (the operator credited, the receivable
 * debited) and charged (the payer's wallet debited, the receivable settled). One stream per payer, so the
 * payer's outstanding debt, the duplicate check and the issuance block are decided on one consistent state.
 */
const userId = z.string().min(1).max(64);
const credentialId = z.uuid();
const scanId = z.uuid();

export const REVOKED_BY = ['user', 'operator', 'risk'] as const;

export const transitCredentialIssued = z.strictObject({
  type: z.literal('TransitCredentialIssued'),
  data: z.strictObject({
    userId,
    credentialId,
    /** The platform transit key that signed it (docs/transit.md). */
    keyId: z.int().min(1).max(255),
    /** The device's raw Ed25519 public key, base64url: public by nature, never a secret. */
    devicePublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    walletAccountId: z.string().regex(/^[0-9]{16}$/),
    currency: currencyCode,
    fareCapMinor: minorUnits,
    debtLimitMinor: minorUnits,
    issuedAt: utcInstant,
    expiresAt: utcInstant,
    /** The QR payload as issued (public: every terminal that scans it sees it). */
    payload: z.string().max(300),
  }),
});

export const transitCredentialRevoked = z.strictObject({
  type: z.literal('TransitCredentialRevoked'),
  data: z.strictObject({
    userId,
    credentialId,
    by: z.enum(REVOKED_BY),
    reason: z.string().max(200),
    revokedAt: utcInstant,
  }),
});

export const transitFareAccepted = z.strictObject({
  type: z.literal('TransitFareAccepted'),
  data: z.strictObject({
    userId,
    scanId,
    credentialId,
    /** The transit operator's batch (its own id) and its record's stream id part. */
    batchId: z.uuid(),
    operatorId: z.string().min(1).max(64),
    operatorAccountId: z.string().regex(/^[0-9]{16}$/),
    walletAccountId: z.string().regex(/^[0-9]{16}$/),
    terminalId: z.string().min(1).max(64),
    scannedAt: utcInstant,
    fareMinor: minorUnits,
    currency: currencyCode,
    /** The upload's time (the command's), by which the scan's age was judged. */
    acceptedAt: utcInstant,
  }),
});

/** The fare is on the books: the operator's account credited, the receivable debited (same scan id). */
export const transitFareBooked = z.strictObject({
  type: z.literal('TransitFareBooked'),
  data: z.strictObject({ userId, scanId }),
});

/** The payer's wallet paid the fare: the receivable is settled. */
export const transitFareCharged = z.strictObject({
  type: z.literal('TransitFareCharged'),
  data: z.strictObject({
    userId,
    scanId,
    walletAccountId: z.string().regex(/^[0-9]{16}$/),
    fareMinor: minorUnits,
    currency: currencyCode,
  }),
});

export const transitEventSchemas = [
  transitCredentialIssued,
  transitCredentialRevoked,
  transitFareAccepted,
  transitFareBooked,
  transitFareCharged,
] as const;
export type TransitEvent = z.output<(typeof transitEventSchemas)[number]>;
export type TransitCredentialIssued = z.output<typeof transitCredentialIssued>;
export type TransitFareAccepted = z.output<typeof transitFareAccepted>;
export type RevokedBy = (typeof REVOKED_BY)[number];

/** A scan's outcome in a batch: `charged` and `debt` are accepted (the fare is booked either way). */
export const SCAN_RESULT_STATUSES = ['charged', 'debt', 'refused'] as const;
export type ScanResultStatus = (typeof SCAN_RESULT_STATUSES)[number];

/**
 * A transit operator's uploaded batch (`transitbatch-<recordId>`): the answer it got, scan by scan, so
 * the same batch uploaded again gets the same answer and changes nothing.
 */
export const transitBatchRecorded = z.strictObject({
  type: z.literal('TransitBatchRecorded'),
  data: z.strictObject({
    batchId: z.uuid(),
    operatorId: z.string().min(1).max(64),
    operatorAccountId: z.string().regex(/^[0-9]{16}$/),
    /** SHA-256 (hex) of the batch's canonical JSON: the same id with other scans is refused. */
    bodySha256: z.string().regex(/^[0-9a-f]{64}$/),
    results: z
      .array(
        z.strictObject({
          scanId: z.uuid().nullable(),
          status: z.enum(SCAN_RESULT_STATUSES),
          code: z.string().max(64).nullable(),
        }),
      )
      .min(1)
      .max(500),
  }),
});
export const transitBatchEventSchemas = [transitBatchRecorded] as const;
export type TransitBatchEvent = z.output<typeof transitBatchRecorded>;

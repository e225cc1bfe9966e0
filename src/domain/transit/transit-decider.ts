import { DateTime } from 'luxon';
import type { CurrencyCode } from '../money/currency.js';
import { DomainError, assert } from '../shared/domain-error.js';
import { ScanRefusedError, type LedgerScanRefusal } from './scan-refusals.js';
import type { RevokedBy, TransitEvent, TransitFareAccepted } from './transit-events.js';

/**
 * A payer's transit stream (`transit-<userId>`) in Emmett's shape. The state holds the payer's
 * credentials, the scans it accepted (for the duplicate check and the debt) and the outstanding debt:
 * fares accepted minus fares charged.
 */
export const TRANSIT_LIMITS = {
  /** Credentials a payer may hold at once (not revoked, not expired): one per device, a few devices. */
  maxLiveCredentials: 5,
  /** Longest a credential is valid (the configured lifetime is at most this). */
  maxCredentialLifetimeMs: 30 * 86_400_000,
  /** Oldest scan an upload may carry (TRANSIT_MAX_SCAN_AGE_SECONDS is at most this). */
  maxScanAgeLimitMs: 30 * 86_400_000,
  /**
   * How long a charged scan is remembered for the duplicate check: longer than any scan may be old, so a
   * scan forgotten here is one an upload refuses as too old anyway. Unpaid scans are never forgotten.
   */
  scanRetentionMs: 31 * 86_400_000,
  /** A scan time this far ahead of the upload is refused: a terminal's clock gone wrong, or a forgery. */
  maxFutureSkewMs: 10 * 60_000,
} as const;

export interface TransitCredentialRecord {
  readonly credentialId: string;
  readonly keyId: number;
  readonly devicePublicKey: string;
  readonly walletAccountId: string;
  readonly currency: CurrencyCode;
  readonly fareCapMinor: bigint;
  readonly debtLimitMinor: bigint;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly payload: string;
  readonly revoked: { readonly at: string; readonly by: RevokedBy; readonly reason: string } | null;
}

export type ScanStage = 'accepted' | 'booked' | 'charged';

export interface AcceptedScan {
  readonly fare: TransitFareAccepted['data'];
  readonly stage: ScanStage;
}

export interface TransitState {
  readonly userId: string | null;
  readonly credentials: ReadonlyMap<string, TransitCredentialRecord>;
  /** Accepted scans by scan id, in acceptance order (charged ones pruned after scanRetentionMs). */
  readonly scans: ReadonlyMap<string, AcceptedScan>;
  /** Fares accepted and not yet charged, in minor units of the credentials' currency. */
  readonly outstandingMinor: bigint;
  /** Latest instant the stream's events name (issuance, acceptance): what pruning is judged against. */
  readonly latestMs: number;
}

export function initialTransitState(): TransitState {
  return { userId: null, credentials: new Map(), scans: new Map(), outstandingMinor: 0n, latestMs: 0 };
}

export type TransitCommand =
  | {
      readonly type: 'IssueCredential';
      readonly credential: Omit<TransitCredentialRecord, 'revoked'>;
      readonly userId: string;
      /** Outstanding debt above this refuses a new credential (TRANSIT_ISSUE_DEBT_ALLOWANCE). */
      readonly debtAllowanceMinor: bigint;
      readonly now: string;
    }
  | {
      readonly type: 'RevokeCredential';
      readonly userId: string;
      readonly credentialId: string;
      readonly by: RevokedBy;
      readonly reason: string;
      readonly now: string;
    }
  | {
      readonly type: 'AcceptFare';
      /** What the upload claims, its signatures verified already (verifyTap at the scan time). */
      readonly fare: Omit<TransitFareAccepted['data'], 'walletAccountId' | 'acceptedAt'>;
      readonly maxScanAgeMs: number;
      readonly now: string;
    }
  | { readonly type: 'BookFare'; readonly userId: string; readonly scanId: string }
  | { readonly type: 'ChargeFare'; readonly userId: string; readonly scanId: string };

const ms = (instant: string): number => DateTime.fromISO(instant, { zone: 'utc' }).toMillis();

/** Not revoked and not expired at `nowMs`. */
export function isLive(credential: TransitCredentialRecord, nowMs: number): boolean {
  return credential.revoked === null && ms(credential.expiresAt) > nowMs;
}

export function decideTransit(command: TransitCommand, state: TransitState): TransitEvent[] {
  switch (command.type) {
    case 'IssueCredential': {
      const c = command.credential;
      if (state.credentials.has(c.credentialId)) return [];
      const nowMs = ms(command.now);
      assert(ms(c.expiresAt) > ms(c.issuedAt), 'a credential expires after it is issued');
      assert(
        ms(c.expiresAt) - ms(c.issuedAt) <= TRANSIT_LIMITS.maxCredentialLifetimeMs,
        'a credential lives at most maxCredentialLifetimeMs',
      );
      if (state.outstandingMinor > command.debtAllowanceMinor) {
        throw new DomainError(
          'transit_debt_outstanding',
          `user ${command.userId} owes transit fares beyond the allowance: pay them first`,
          { userId: command.userId, outstandingMinor: state.outstandingMinor.toString() },
        );
      }
      // One currency at a time: the debt is one amount, and every fare a credential takes is in it.
      const otherCurrency =
        [...state.credentials.values()].find((other) => isLive(other, nowMs) && other.currency !== c.currency) ??
        unpaidScans(state).find((scan) => scan.fare.currency !== c.currency);
      if (otherCurrency) {
        throw new DomainError('currency_mismatch', `user ${command.userId} rides in another currency already`, {
          userId: command.userId,
        });
      }
      const live = [...state.credentials.values()].filter((credential) => isLive(credential, nowMs)).length;
      if (live >= TRANSIT_LIMITS.maxLiveCredentials) {
        throw new DomainError(
          'transit_credential_limit',
          `user ${command.userId} holds ${live} live transit credentials: revoke one first`,
          { userId: command.userId },
        );
      }
      return [{ type: 'TransitCredentialIssued', data: { ...c, userId: command.userId } }];
    }
    case 'RevokeCredential': {
      const credential = state.credentials.get(command.credentialId);
      if (!credential) {
        throw new DomainError(
          'transit_credential_not_found',
          `transit credential ${command.credentialId} does not exist`,
          {
            credentialId: command.credentialId,
          },
        );
      }
      if (credential.revoked) return [];
      return [
        {
          type: 'TransitCredentialRevoked',
          data: {
            userId: command.userId,
            credentialId: command.credentialId,
            by: command.by,
            reason: command.reason,
            revokedAt: command.now,
          },
        },
      ];
    }
    case 'AcceptFare':
      return decideAcceptFare(command, state);
    case 'BookFare': {
      const scan = state.scans.get(command.scanId);
      assert(scan !== undefined, 'only an accepted fare is booked');
      return scan.stage === 'accepted'
        ? [{ type: 'TransitFareBooked', data: { userId: command.userId, scanId: command.scanId } }]
        : [];
    }
    case 'ChargeFare': {
      const scan = state.scans.get(command.scanId);
      assert(scan !== undefined && scan.stage !== 'accepted', 'only a booked fare is charged');
      if (scan.stage === 'charged') return [];
      return [
        {
          type: 'TransitFareCharged',
          data: {
            userId: command.userId,
            scanId: command.scanId,
            walletAccountId: scan.fare.walletAccountId,
            fareMinor: scan.fare.fareMinor,
            currency: scan.fare.currency,
          },
        },
      ];
    }
  }
}

function refuse(code: LedgerScanRefusal, message: string, scanId: string): never {
  throw new ScanRefusedError(code, message, scanId);
}

/**
 * A scan, its signatures already verified, judged against what only the ledger knows: its age at upload,
 * whether this scan was accepted before (one per credential + terminal + nonce: the scan id), whether the
 * credential was revoked before the scan, and the payer's debt against the credential's limit. The same
 * scan in the same batch again (a retried upload) decides nothing: the earlier acceptance stands.
 */
function decideAcceptFare(
  command: Extract<TransitCommand, { type: 'AcceptFare' }>,
  state: TransitState,
): TransitEvent[] {
  const fare = command.fare;
  const earlier = state.scans.get(fare.scanId);
  if (earlier) {
    if (earlier.fare.batchId === fare.batchId && earlier.fare.operatorId === fare.operatorId) return [];
    refuse('transit_scan_duplicate', `scan ${fare.scanId} was accepted in an earlier batch`, fare.scanId);
  }
  const nowMs = ms(command.now);
  const scannedMs = ms(fare.scannedAt);
  assert(command.maxScanAgeMs <= TRANSIT_LIMITS.maxScanAgeLimitMs, 'the scan age limit is within maxScanAgeLimitMs');
  if (nowMs - scannedMs > command.maxScanAgeMs)
    refuse('transit_scan_too_old', `scan ${fare.scanId} is older than the upload allows`, fare.scanId);
  if (scannedMs - nowMs > TRANSIT_LIMITS.maxFutureSkewMs)
    refuse('transit_scan_in_future', `scan ${fare.scanId} is timed ahead of the upload`, fare.scanId);
  const credential = state.credentials.get(fare.credentialId);
  if (!credential)
    refuse('transit_credential_unknown', `credential ${fare.credentialId} was not issued to this user`, fare.scanId);
  if (credential.revoked && ms(credential.revoked.at) <= scannedMs)
    refuse('transit_credential_revoked', `credential ${fare.credentialId} was revoked before the scan`, fare.scanId);
  if (scannedMs < ms(credential.issuedAt) || scannedMs >= ms(credential.expiresAt))
    refuse('transit_credential_expired', `credential ${fare.credentialId} was not valid at the scan time`, fare.scanId);
  if (fare.currency !== credential.currency)
    refuse(
      'currency_mismatch',
      `the fare is in ${fare.currency}, the credential in ${credential.currency}`,
      fare.scanId,
    );
  assert(fare.fareMinor > 0n, 'a fare is positive');
  if (fare.fareMinor > credential.fareCapMinor)
    refuse('transit_fare_above_cap', `the fare exceeds the credential's cap per ride`, fare.scanId);
  if (state.outstandingMinor + fare.fareMinor > credential.debtLimitMinor)
    refuse('transit_debt_limit', `the payer's unpaid fares would exceed the credential's debt limit`, fare.scanId);
  return [
    {
      type: 'TransitFareAccepted',
      data: { ...fare, walletAccountId: credential.walletAccountId, acceptedAt: command.now },
    },
  ];
}

export function evolveTransit(state: TransitState, event: TransitEvent): TransitState {
  switch (event.type) {
    case 'TransitCredentialIssued': {
      const { userId, ...credential } = event.data;
      const credentials = new Map(state.credentials);
      credentials.set(credential.credentialId, { ...credential, revoked: null });
      return pruned({ ...state, userId, credentials, latestMs: Math.max(state.latestMs, ms(credential.issuedAt)) });
    }
    case 'TransitCredentialRevoked': {
      const credential = state.credentials.get(event.data.credentialId);
      assert(credential !== undefined && credential.revoked === null, 'only a live credential is revoked');
      const credentials = new Map(state.credentials);
      credentials.set(credential.credentialId, {
        ...credential,
        revoked: { at: event.data.revokedAt, by: event.data.by, reason: event.data.reason },
      });
      return { ...state, credentials };
    }
    case 'TransitFareAccepted': {
      assert(!state.scans.has(event.data.scanId), 'a scan is accepted once');
      const scans = new Map(state.scans);
      scans.set(event.data.scanId, { fare: event.data, stage: 'accepted' });
      return pruned({
        ...state,
        scans,
        outstandingMinor: state.outstandingMinor + event.data.fareMinor,
        latestMs: Math.max(state.latestMs, ms(event.data.acceptedAt)),
      });
    }
    case 'TransitFareBooked':
      return withStage(state, event.data.scanId, 'accepted', 'booked');
    case 'TransitFareCharged': {
      const next = withStage(state, event.data.scanId, 'booked', 'charged');
      const outstandingMinor = next.outstandingMinor - event.data.fareMinor;
      assert(outstandingMinor >= 0n, 'the debt is never negative');
      return { ...next, outstandingMinor };
    }
  }
}

function withStage(state: TransitState, scanId: string, from: ScanStage, to: ScanStage): TransitState {
  const scan = state.scans.get(scanId);
  assert(scan !== undefined && scan.stage === from, `a scan moves from ${from} to ${to}`);
  const scans = new Map(state.scans);
  scans.set(scanId, { ...scan, stage: to });
  return { ...state, scans };
}

/** Forgets charged scans and dead credentials older than the retention: the state stays bounded. */
function pruned(state: TransitState): TransitState {
  const horizonMs = state.latestMs - TRANSIT_LIMITS.scanRetentionMs;
  let scans = state.scans;
  for (const [scanId, scan] of state.scans) {
    if (scan.stage !== 'charged' || ms(scan.fare.scannedAt) >= horizonMs) continue;
    if (scans === state.scans) scans = new Map(state.scans);
    (scans as Map<string, AcceptedScan>).delete(scanId);
  }
  let credentials = state.credentials;
  for (const [credentialId, credential] of state.credentials) {
    const deadSinceMs = credential.revoked ? ms(credential.revoked.at) : ms(credential.expiresAt);
    if (deadSinceMs >= horizonMs) continue;
    if (credentials === state.credentials) credentials = new Map(state.credentials);
    (credentials as Map<string, TransitCredentialRecord>).delete(credentialId);
  }
  return scans === state.scans && credentials === state.credentials ? state : { ...state, scans, credentials };
}

/** The payer's unpaid scans, oldest first: booked ones to charge, accepted ones still to book. */
export function unpaidScans(state: TransitState): AcceptedScan[] {
  return [...state.scans.values()].filter((scan) => scan.stage !== 'charged');
}

export const transitDecider = {
  decide: decideTransit,
  evolve: evolveTransit,
  initialState: initialTransitState,
};

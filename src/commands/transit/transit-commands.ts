import { DateTime } from 'luxon';
import type { TransitCredential } from '../../client/transit.js';
import type { CounterpartySnapshot } from '../../domain/accounts/account-events.js';
import type { Money } from '../../domain/money/money.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import {
  TRANSIT_LIMITS,
  transitDecider,
  unpaidScans,
  type ScanStage,
  type TransitCommand,
  type TransitCredentialRecord,
  type TransitState,
} from '../../domain/transit/transit-decider.js';
import { ScanRefusedError } from '../../domain/transit/scan-refusals.js';
import type { RevokedBy, TransitEvent } from '../../domain/transit/transit-events.js';
import type { EventStore } from '../../ports/event-store.js';
import type { TransitKeyring } from '../../ports/transit-keyring.js';
import type { AccountHandler } from '../accounts/open-account-handler.js';
import { deriveId, type CommandContext } from '../command-context.js';
import { loadAccount, runAccountStep, stepContext, type Resumption } from '../operations/operation-steps.js';
import { StreamCommandHandler, type LoadedStream } from '../stream-command-handler.js';
import { transitBatchDecider, type TransitBatchRecord } from './transit-batch-decider.js';

/** Most scans one upload carries: one batch's record stays a small event (about 100 bytes a scan). */
export const MAX_SCANS_PER_BATCH = 500;

export function transitStreamId(userId: string): string {
  return `transit-${userId}`;
}

export function transitBatchStreamId(recordId: string): string {
  return `transitbatch-${recordId}`;
}

/** One scan per credential, terminal and terminal nonce: its id, the same in every batch. */
export function scanIdOf(credentialId: string, terminalId: string, nonceHex: string): string {
  return deriveId(`transit-scan\u0000${credentialId}\u0000${terminalId}\u0000${nonceHex}`, 'scan');
}

export interface TransitSettings {
  readonly credentialTtlSeconds: number;
  readonly maxScanAgeSeconds: number;
  readonly issueDebtAllowanceMinor: bigint;
}

export interface IssueCredentialRequest {
  readonly userId: string;
  readonly walletAccountId: string;
  /** Raw Ed25519 public key of the device, base64url (checked by the caller). */
  readonly devicePublicKey: string;
  readonly fareCap: Money;
  readonly debtLimit: Money;
}

export interface ScanUpload {
  readonly credential: string;
  readonly deviceSignature: string;
  readonly terminalId: string;
  readonly nonceHex: string;
  readonly scannedAt: string;
  readonly fare: Money;
}

export interface BatchUpload {
  readonly batchId: string;
  readonly operatorId: string;
  readonly operatorAccountId: string;
  readonly bodySha256: string;
  readonly scans: readonly ScanUpload[];
}

export type ScanResult = TransitBatchRecord['results'][number];

/** Payers whose scans of one batch run at once (each payer's in order): enough to fill group commits. */
export const MAX_PAYERS_IN_FLIGHT = 32;

type CheckedScan =
  | { readonly ok: false; readonly result: ScanResult }
  | {
      readonly ok: true;
      readonly credential: TransitCredential;
      readonly scanId: string;
      readonly scannedAtMs: number;
    };

/** A result not known yet (the assertion after the batch checks none is left). */
const PENDING: ScanResult = { scanId: null, status: 'refused', code: 'pending' };

/**
 * Transit with both sides offline (docs/transit.md): credentials issued to a payer's device, scans a
 * transit operator uploads in batches, each accepted fare booked at once (the operator credited, the
 * fares receivable debited), then charged to the payer's wallet when it can pay, and kept as the payer's
 * debt until it can. Every step is an event with an id derived from the scan id, so an upload retried,
 * a batch uploaded twice, or a sweep resuming a half-done scan records nothing twice.
 */
export class TransitCommands {
  readonly transit: StreamCommandHandler<TransitCommand, TransitEvent, TransitState>;
  private readonly batches;

  constructor(
    private readonly deps: {
      readonly eventStore: EventStore;
      readonly accounts: AccountHandler;
      readonly keyring: TransitKeyring;
      readonly settings: TransitSettings;
    },
  ) {
    assert(
      deps.settings.maxScanAgeSeconds * 1000 <= TRANSIT_LIMITS.maxScanAgeLimitMs,
      'the configured scan age is within the limit',
    );
    this.transit = new StreamCommandHandler(deps.eventStore, transitDecider);
    this.batches = new StreamCommandHandler(deps.eventStore, transitBatchDecider);
  }

  /** The payer's transit state as the write side sees it (credentials, unpaid fares, debt). */
  load(userId: string): Promise<LoadedStream<TransitState>> {
    return this.transit.load(transitStreamId(userId));
  }

  async issueCredential(request: IssueCredentialRequest, context: CommandContext) {
    const wallet = await loadAccount(this.deps, request.walletAccountId);
    // Another owner's wallet answers as an unknown one.
    if (wallet.ownerId !== request.userId || wallet.accountType !== 'wallet')
      throw new DomainError('account_not_found', `account ${request.walletAccountId} does not exist`, {
        accountId: request.walletAccountId,
      });
    if (wallet.currency !== request.fareCap.currency || wallet.currency !== request.debtLimit.currency)
      throw new DomainError('currency_mismatch', `the wallet is in ${wallet.currency}`, { currency: wallet.currency });
    const issuedAtSeconds = Math.floor(DateTime.fromISO(context.occurredAt, { zone: 'utc' }).toSeconds());
    const expiresAtSeconds = issuedAtSeconds + this.deps.settings.credentialTtlSeconds;
    const credential: TransitCredential = {
      keyId: this.deps.keyring.keyId,
      credentialId: deriveId(context.operationKey, 'transit-credential'),
      devicePublicKey: request.devicePublicKey,
      issuedAtSeconds,
      expiresAtSeconds,
      currency: wallet.currency,
      fareCapMinor: request.fareCap.amountMinor,
      debtLimitMinor: request.debtLimit.amountMinor,
      userId: request.userId,
    };
    const record: Omit<TransitCredentialRecord, 'revoked'> = {
      credentialId: credential.credentialId,
      keyId: credential.keyId,
      devicePublicKey: credential.devicePublicKey,
      walletAccountId: wallet.accountId,
      currency: wallet.currency,
      fareCapMinor: credential.fareCapMinor,
      debtLimitMinor: credential.debtLimitMinor,
      issuedAt: instantOfSeconds(issuedAtSeconds),
      expiresAt: instantOfSeconds(expiresAtSeconds),
      payload: this.deps.keyring.sign(credential),
    };
    const handled = await this.transit.handle(
      transitStreamId(request.userId),
      {
        type: 'IssueCredential',
        userId: request.userId,
        credential: record,
        debtAllowanceMinor: this.deps.settings.issueDebtAllowanceMinor,
        now: context.occurredAt,
      },
      context,
    );
    const issued = handled.state.credentials.get(credential.credentialId);
    assert(issued !== undefined, 'an issued credential is on its stream');
    return { credential: issued, position: handled.position };
  }

  async revokeCredential(userId: string, credentialId: string, by: RevokedBy, reason: string, context: CommandContext) {
    const handled = await this.transit.handle(
      transitStreamId(userId),
      { type: 'RevokeCredential', userId, credentialId, by, reason, now: context.occurredAt },
      context,
    );
    const credential = handled.state.credentials.get(credentialId);
    assert(credential !== undefined, 'a revoked credential is on its stream');
    return { credential, position: handled.position };
  }

  /**
   * A batch of scans from one transit operator: each verified as a terminal would (at its scan time),
   * judged by the payer's stream (age, duplicates, revocation, debt limit), booked, then charged when the
   * wallet can pay. Each payer's scans are taken in batch order, payers side by side (at most
   * MAX_PAYERS_IN_FLIGHT); a refused scan does not stop the others. The same batch
   * again (the operator's own id) is answered from its record; the same id with other scans is refused.
   */
  async uploadBatch(
    upload: BatchUpload,
    context: CommandContext,
  ): Promise<{ record: TransitBatchRecord; position: bigint }> {
    assert(
      upload.scans.length >= 1 && upload.scans.length <= MAX_SCANS_PER_BATCH,
      'a batch has 1..MAX_SCANS_PER_BATCH scans (the API refuses others)',
    );
    const recordId = deriveId(`transit-batch\u0000${upload.operatorId}\u0000${upload.batchId}`, 'record');
    const batchStream = transitBatchStreamId(recordId);
    const existing = await this.batches.load(batchStream);
    if (existing.state.recorded) return { record: answered(existing.state, upload), position: existing.position };
    const operatorAccount = await loadAccount(this.deps, upload.operatorAccountId);
    if (operatorAccount.ownerId !== upload.operatorId)
      throw new DomainError('account_not_found', `account ${upload.operatorAccountId} does not exist`, {
        accountId: upload.operatorAccountId,
      });
    if (operatorAccount.status !== 'active')
      throw new DomainError('account_not_active', `account ${operatorAccount.accountId} is ${operatorAccount.status}`, {
        accountId: operatorAccount.accountId,
      });
    // Verified first, in order (CPU only): a scan id seen earlier in the batch is a duplicate of it.
    const seen = new Set<string>();
    const checked = upload.scans.map((scan) => this.verifyScan(scan, operatorAccount.currency, seen));
    // Then each payer's scans in batch order (its debt limit depends on it), payers side by side, so
    // their appends share the event store's group commits.
    const results: ScanResult[] = checked.map((check) => (check.ok ? PENDING : check.result));
    const byPayer = new Map<string, number[]>();
    checked.forEach((check, index) => {
      if (!check.ok) return;
      const indexes = byPayer.get(check.credential.userId) ?? [];
      indexes.push(index);
      byPayer.set(check.credential.userId, indexes);
    });
    const payers = [...byPayer.values()];
    let next = 0;
    const worker = async () => {
      while (next < payers.length) {
        const indexes = payers[next++]!;
        for (const index of indexes) {
          const check = checked[index]!;
          assert(check.ok, 'only verified scans are taken');
          results[index] = await this.takeScan(upload, upload.scans[index]!, check, context);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_PAYERS_IN_FLIGHT, payers.length) }, worker));
    assert(!results.includes(PENDING), 'every scan of the batch has its result');
    const recorded = await this.batches.handle(
      batchStream,
      {
        type: 'RecordTransitBatch',
        record: {
          batchId: upload.batchId,
          operatorId: upload.operatorId,
          operatorAccountId: upload.operatorAccountId,
          bodySha256: upload.bodySha256,
          results,
        },
      },
      stepContext(context, recordId, 'record'),
    );
    assert(recorded.state.recorded, 'a recorded batch is recorded');
    // A concurrent upload of the same batch may have recorded first: its answer is the answer.
    return { record: answered(recorded.state, upload), position: recorded.position };
  }

  /** The offline checks (verifyTap at the scan time), the batch's own duplicates and the operator's currency. */
  private verifyScan(scan: ScanUpload, operatorCurrency: string, seen: Set<string>): CheckedScan {
    const scannedAtMs = DateTime.fromISO(scan.scannedAt, { zone: 'utc' }).toMillis();
    const verdict = this.deps.keyring.verify({
      credential: scan.credential,
      deviceSignature: scan.deviceSignature,
      terminalId: scan.terminalId,
      scannedAtMs,
      nonceHex: scan.nonceHex,
      fareMinor: scan.fare.amountMinor,
      currency: scan.fare.currency,
    });
    const credential = verdict.credential;
    const scanId = credential ? scanIdOf(credential.credentialId, scan.terminalId, scan.nonceHex) : null;
    const refused = (code: string): CheckedScan => ({ ok: false, result: { scanId, status: 'refused', code } });
    if (scanId !== null && seen.has(scanId)) return refused('transit_scan_duplicate');
    if (scanId !== null) seen.add(scanId);
    if (!verdict.ok) return refused(verdict.refusal);
    assert(scanId !== null, 'a verified scan has its credential');
    if (scan.fare.currency !== operatorCurrency) return refused('currency_mismatch');
    return { ok: true, credential: verdict.credential, scanId, scannedAtMs };
  }

  /** A verified scan judged by its payer's stream, then booked and charged as far as it goes. */
  private async takeScan(
    upload: BatchUpload,
    scan: ScanUpload,
    check: Extract<CheckedScan, { ok: true }>,
    context: CommandContext,
  ): Promise<ScanResult> {
    const { credential, scanId, scannedAtMs } = check;
    const streamId = transitStreamId(credential.userId);
    let accepted;
    try {
      accepted = await this.transit.handle(
        streamId,
        {
          type: 'AcceptFare',
          fare: {
            userId: credential.userId,
            scanId,
            credentialId: credential.credentialId,
            batchId: upload.batchId,
            operatorId: upload.operatorId,
            operatorAccountId: upload.operatorAccountId,
            terminalId: scan.terminalId,
            scannedAt: DateTime.fromMillis(scannedAtMs, { zone: 'utc' }).toISO()!,
            fareMinor: scan.fare.amountMinor,
            currency: scan.fare.currency,
          },
          maxScanAgeMs: this.deps.settings.maxScanAgeSeconds * 1000,
          now: context.occurredAt,
        },
        stepContext(context, scanId, 'accept'),
      );
    } catch (error) {
      if (error instanceof ScanRefusedError) return { scanId, status: 'refused', code: error.code };
      throw error;
    }
    // Accepted before by this same batch (a retried upload that died before its record): resume it.
    const resuming = accepted.events.length === 0;
    const stage = await this.settle(credential.userId, scanId, context, resuming);
    return { scanId, status: stage === 'charged' ? 'charged' : 'debt', code: null };
  }

  /**
   * Takes an accepted scan as far as it can go: books it (credits the operator), then charges the payer's
   * wallet; a wallet that cannot pay leaves the fare booked, as the payer's debt. Safe to run again at any
   * point: each account step has an id derived from the scan, and a resumed run first looks for it.
   */
  async settle(userId: string, scanId: string, context: CommandContext, resuming: boolean): Promise<ScanStage> {
    const streamId = transitStreamId(userId);
    const resume: Resumption | null = resuming ? { operationStreamId: streamId } : null;
    const loaded = await this.transit.load(streamId);
    const scan = loaded.state.scans.get(scanId);
    assert(scan !== undefined, 'a scan settled was accepted');
    const fare = scan.fare;
    const amount = { amountMinor: fare.fareMinor, currency: fare.currency };
    const payer: CounterpartySnapshot = { accountId: fare.walletAccountId, ownerId: userId, name: null, channel: null };
    const operator: CounterpartySnapshot = {
      accountId: fare.operatorAccountId,
      ownerId: fare.operatorId,
      name: null,
      channel: null,
    };
    const memo = `transit fare, terminal ${fare.terminalId}`;
    let stage = scan.stage;
    if (stage === 'accepted') {
      const credit = await runAccountStep(
        this.deps,
        fare.operatorAccountId,
        {
          type: 'CreditAccount',
          accountId: fare.operatorAccountId,
          amount,
          kind: 'transit_fare',
          operationId: scanId,
          merchantOrderNo: null,
          counterparty: payer,
          memo,
        },
        stepContext(context, scanId, 'credit-operator'),
        resume,
      );
      // The operator's account was checked before; a fare credit passes any status but closed.
      if (!credit.ok) throw credit.error;
      const booked = await this.transit.handle(
        streamId,
        { type: 'BookFare', userId, scanId },
        stepContext(context, scanId, 'book'),
      );
      stage = booked.state.scans.get(scanId)!.stage;
    }
    if (stage !== 'booked') return stage;
    const debit = await runAccountStep(
      this.deps,
      fare.walletAccountId,
      {
        type: 'DebitAccount',
        accountId: fare.walletAccountId,
        amount,
        kind: 'transit_charge',
        operationId: scanId,
        merchantOrderNo: null,
        counterparty: operator,
        memo,
      },
      stepContext(context, scanId, 'charge-payer'),
      resume,
    );
    // No money (or a wallet frozen by risk): the fare stays booked, the payer's debt, charged later.
    if (!debit.ok) return 'booked';
    const charged = await this.transit.handle(
      streamId,
      { type: 'ChargeFare', userId, scanId },
      stepContext(context, scanId, 'charge'),
    );
    return charged.state.scans.get(scanId)!.stage;
  }

  /**
   * Charges a payer's unpaid fares, oldest first, while the wallet can pay (the debt sweep, a resume
   * after a crash): books any accepted scan a crash left unbooked, then charges. Stops at the first
   * fare the wallet cannot pay, so fares are paid in the order they were taken. Returns how many it charged.
   */
  async chargeDebt(userId: string, context: CommandContext): Promise<number> {
    const { state } = await this.load(userId);
    let charged = 0;
    for (const scan of unpaidScans(state)) {
      const stage = await this.settle(userId, scan.fare.scanId, context, true);
      if (stage !== 'charged') break;
      charged += 1;
    }
    return charged;
  }
}

function instantOfSeconds(seconds: number): string {
  return DateTime.fromSeconds(seconds, { zone: 'utc' }).toISO()!;
}

/** The recorded answer, for the same batch only: the same id with other scans is refused. */
function answered(record: TransitBatchRecord, upload: BatchUpload): TransitBatchRecord {
  if (record.bodySha256 !== upload.bodySha256)
    throw new DomainError('transit_batch_conflict', `batch ${upload.batchId} was uploaded before with other scans`, {
      batchId: upload.batchId,
    });
  return record;
}

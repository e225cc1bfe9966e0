import { DomainError } from '../shared/domain-error.js';
import type { IdentityElement } from './identity-elements.js';
import type { IdentityEvent, IdentityVerificationRequested, IdentityVerified } from './identity-events.js';

/**
 * A user's real-name verification as an Emmett decider (`identity-<userId>`). The process around it asks
 * the identity service and records the verdict here; the decider never calls anything.
 *
 * - a verification is requested (its elements sealed first), then answered: verified, mismatched (which
 *   elements), no record, or unknown (no verdict: asked again later with the same query id, and settled
 *   by the verdict it then gets). A verdict, once recorded, never changes.
 * - a card bound verifies the user too (the channel checked the four elements): recorded once per contract.
 * - the user stays verified once verified (a later mismatch does not undo what the service confirmed).
 *
 * At most MAX_VERIFICATIONS_PER_USER verifications per user: each is a paid query of a public database,
 * and a user typing ID numbers until one matches is what the limit stops.
 */
export const MAX_VERIFICATIONS_PER_USER = 10;

export type VerificationStatus = 'pending' | 'unknown' | 'verified' | 'mismatched' | 'no_record';

export interface VerificationRecord {
  readonly request: IdentityVerificationRequested['data'];
  readonly status: VerificationStatus;
  readonly mismatched: readonly IdentityElement[];
  readonly answeredAt: string | null;
}

export interface IdentityState {
  /** Asked of the identity service, by id, in request order. */
  readonly verifications: ReadonlyMap<string, VerificationRecord>;
  /** The first successful verification (service or binding), or null. */
  readonly verified: IdentityVerified['data'] | null;
  /** Contracts whose binding already verified the user. */
  readonly bindingVerifications: ReadonlySet<string>;
}

export type IdentityAnswer =
  | { readonly outcome: 'match' }
  | { readonly outcome: 'mismatch'; readonly mismatched: readonly IdentityElement[] }
  | { readonly outcome: 'no_record' }
  | { readonly outcome: 'unknown'; readonly detail: string };

export type IdentityCommand =
  | { readonly type: 'RequestVerification'; readonly request: IdentityVerificationRequested['data'] }
  | {
      readonly type: 'RecordAnswer';
      readonly verificationId: string;
      readonly answer: IdentityAnswer;
      readonly at: string;
    }
  | { readonly type: 'RecordBindingVerified'; readonly verified: IdentityVerified['data'] };

export function initialIdentityState(): IdentityState {
  return { verifications: new Map(), verified: null, bindingVerifications: new Set() };
}

function conflict(verificationId: string, reason: string): DomainError {
  return new DomainError('operation_state_conflict', `identity verification ${verificationId}: ${reason}`, {
    verificationId,
    reason,
  });
}

const OUTCOME_STATUS: Record<Exclude<IdentityAnswer['outcome'], 'unknown'>, VerificationStatus> = {
  match: 'verified',
  mismatch: 'mismatched',
  no_record: 'no_record',
};

function decideAnswer(
  record: VerificationRecord,
  command: Extract<IdentityCommand, { type: 'RecordAnswer' }>,
): IdentityEvent[] {
  const { verificationId, answer, at } = command;
  const request = record.request;
  if (answer.outcome === 'unknown')
    // Unknown again, or after a verdict (a late retry that timed out): nothing new is known.
    return record.status === 'pending'
      ? [{ type: 'IdentityVerificationUnknown', data: { verificationId, detail: answer.detail.slice(0, 200), at } }]
      : [];
  if (record.status !== 'pending' && record.status !== 'unknown') {
    const same =
      record.status === OUTCOME_STATUS[answer.outcome] &&
      (answer.outcome !== 'mismatch' || answer.mismatched.join() === record.mismatched.join());
    if (same) return [];
    throw conflict(verificationId, 'verdict_recorded');
  }
  switch (answer.outcome) {
    case 'match':
      return [
        {
          type: 'IdentityVerified',
          data: {
            verificationId,
            userId: request.userId,
            source: 'identity_service',
            contractId: null,
            elements: request.elements,
            maskedName: request.masked.name,
            maskedIdNumber: request.masked.idNumber,
            secrets: { name: request.secrets.name, idNumber: request.secrets.idNumber },
            verifiedAt: at,
          },
        },
      ];
    case 'mismatch': {
      const mismatched = answer.mismatched.filter((element) => request.elements.includes(element));
      if (mismatched.length === 0) throw conflict(verificationId, 'mismatch_of_elements_not_asked');
      return [{ type: 'IdentityMismatched', data: { verificationId, mismatched, answeredAt: at } }];
    }
    case 'no_record':
      return [{ type: 'IdentityNoRecord', data: { verificationId, answeredAt: at } }];
  }
}

export function decideIdentity(command: IdentityCommand, state: IdentityState): IdentityEvent[] {
  switch (command.type) {
    case 'RequestVerification': {
      const request = command.request;
      const seen = state.verifications.get(request.verificationId);
      if (seen) {
        // The same request again (a retry) changes nothing; another request under its id is a bug upstream.
        if (seen.request.userId === request.userId && seen.request.elements.join() === request.elements.join())
          return [];
        throw conflict(request.verificationId, 'already_requested');
      }
      if (state.verifications.size >= MAX_VERIFICATIONS_PER_USER)
        throw new DomainError(
          'identity_verification_limit',
          `at most ${MAX_VERIFICATIONS_PER_USER} verifications per user`,
          { userId: request.userId, limit: String(MAX_VERIFICATIONS_PER_USER) },
        );
      return [{ type: 'IdentityVerificationRequested', data: request }];
    }
    case 'RecordAnswer': {
      const record = state.verifications.get(command.verificationId);
      if (!record)
        throw new DomainError('operation_not_found', `verification ${command.verificationId} does not exist`, {
          verificationId: command.verificationId,
        });
      return decideAnswer(record, command);
    }
    case 'RecordBindingVerified': {
      const contractId = command.verified.contractId;
      if (command.verified.source !== 'card_binding' || contractId === null)
        throw conflict(command.verified.verificationId, 'not_a_binding');
      return state.bindingVerifications.has(contractId) ? [] : [{ type: 'IdentityVerified', data: command.verified }];
    }
  }
}

function answered(
  state: IdentityState,
  verificationId: string,
  change: Pick<VerificationRecord, 'status'> & Partial<VerificationRecord>,
): IdentityState {
  const record = state.verifications.get(verificationId);
  if (!record) throw new DomainError('invariant_violated', `identity: an answer before its request ${verificationId}`);
  const verifications = new Map(state.verifications);
  verifications.set(verificationId, { ...record, ...change });
  return { ...state, verifications };
}

export function evolveIdentity(state: IdentityState, event: IdentityEvent): IdentityState {
  switch (event.type) {
    case 'IdentityVerificationRequested': {
      const verifications = new Map(state.verifications);
      verifications.set(event.data.verificationId, {
        request: event.data,
        status: 'pending',
        mismatched: [],
        answeredAt: null,
      });
      return { ...state, verifications };
    }
    case 'IdentityVerified': {
      const verified = state.verified ?? event.data;
      if (event.data.source === 'card_binding') {
        const bindingVerifications = new Set(state.bindingVerifications);
        bindingVerifications.add(event.data.contractId!);
        return { ...state, verified, bindingVerifications };
      }
      return {
        ...answered(state, event.data.verificationId, { status: 'verified', answeredAt: event.data.verifiedAt }),
        verified,
      };
    }
    case 'IdentityMismatched':
      return answered(state, event.data.verificationId, {
        status: 'mismatched',
        mismatched: event.data.mismatched,
        answeredAt: event.data.answeredAt,
      });
    case 'IdentityNoRecord':
      return answered(state, event.data.verificationId, { status: 'no_record', answeredAt: event.data.answeredAt });
    case 'IdentityVerificationUnknown':
      return answered(state, event.data.verificationId, { status: 'unknown' });
  }
}

export const identityDecider = {
  decide: decideIdentity,
  evolve: evolveIdentity,
  initialState: initialIdentityState,
};

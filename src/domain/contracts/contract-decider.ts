import { DateTime } from 'luxon';
import { decideStepUp, evolveStepUp, initialStepUpState, type StepUpState } from '../risk/step-up-decider.js';
import type { StepUpEvent } from '../risk/step-up-events.js';
import { assert, DomainError } from '../shared/domain-error.js';
import {
  bindingPolicy,
  type BindingFailureReason,
  type CardBindingStarted,
  type ContractOwnEvent,
} from './contract-events.js';

/**
 * A bind-card contract as an Emmett decider. The process around it calls the channel and records each
 * answer here; the decider never calls anything and judges every deadline by the command's `at`.
 *
 * - bank path (verify_then_sign): started -> the bank's code sent -> the code accepted at signing -> bound;
 *   wrong codes are counted (the channel tells which are wrong), the limit fails the binding.
 * - pre-bind path (sign_at_verify): started -> signed at verify: pre-bound, with our own code (the step-up
 *   challenge, reused whole: HMAC, expiry, attempts, resends; its events on this stream) -> the code
 *   checks out: bound; wrong too often or expired: failed, and the pre-binding must be unsigned.
 *
 * Cancel and expiry fail an unfinished binding; a bound contract ends only by being terminated after the
 * channel unsigned it. Commands carry hashes of codes and vault references, never the values.
 */
export type VerificationAnswer =
  | { readonly step: 'code_sent'; readonly verificationId: string; readonly maskedPhone: string }
  | {
      readonly step: 'signed';
      readonly contractNo: string;
      /** Our own code's challenge: its id, its hash, where it went. */
      readonly challengeId: string;
      readonly codeHmac: string;
      readonly maskedPhone: string;
    }
  | { readonly step: 'refused'; readonly reason: BindingFailureReason; readonly channelCode: string | null };

export type SignatureAnswer =
  | { readonly result: 'signed'; readonly contractNo: string }
  | { readonly result: 'code_wrong' }
  | { readonly result: 'refused'; readonly reason: BindingFailureReason; readonly channelCode: string | null };

export type ContractCommand =
  | { readonly type: 'StartBinding'; readonly binding: CardBindingStarted['data'] }
  | {
      readonly type: 'RecordVerification';
      readonly contractId: string;
      readonly answer: VerificationAnswer;
      readonly at: string;
    }
  | {
      readonly type: 'RecordSignature';
      readonly contractId: string;
      readonly answer: SignatureAnswer;
      readonly at: string;
    }
  | { readonly type: 'ConfirmOwnCode'; readonly contractId: string; readonly codeHmac: string; readonly at: string }
  | { readonly type: 'ResendOwnCode'; readonly contractId: string; readonly codeHmac: string; readonly at: string }
  | { readonly type: 'CancelBinding'; readonly contractId: string; readonly at: string }
  /** From the sweep: fails a binding whose time is over (nothing if it is not yet, or it is finished). */
  | { readonly type: 'ExpireBinding'; readonly contractId: string; readonly at: string }
  /** The channel confirmed the failed pre-binding unsigned. */
  | { readonly type: 'RecordUnsigned'; readonly contractId: string; readonly at: string }
  /** The channel confirmed the bound contract unsigned (unbind or erasure). */
  | {
      readonly type: 'TerminateContract';
      readonly contractId: string;
      readonly reason: 'unbound' | 'erased';
      readonly at: string;
    };

export type ContractEvent = ContractOwnEvent | StepUpEvent;

export type ContractStatus = 'verifying' | 'awaiting_bank_code' | 'pre_bound' | 'bound' | 'failed' | 'terminated';

export type ContractState =
  | { readonly status: 'none' }
  | {
      readonly status: ContractStatus;
      readonly binding: CardBindingStarted['data'];
      readonly expiresAtMs: number;
      readonly verificationId: string | null;
      readonly maskedPhone: string | null;
      readonly bankCodeAttemptsUsed: number;
      readonly contractNo: string | null;
      readonly ownCode: StepUpState;
      readonly failure: BindingFailureReason | null;
      /** A failed pre-binding still signed at the channel. */
      readonly unsignPending: boolean;
    };

export type ExistingContract = Exclude<ContractState, { status: 'none' }>;

export function initialContractState(): ContractState {
  return { status: 'none' };
}

function msOf(at: string): number {
  const ms = DateTime.fromISO(at, { zone: 'utc' }).toMillis();
  assert(Number.isFinite(ms), `contract: not an instant: ${at}`);
  return ms;
}

function iso(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'utc' }).toISO()!;
}

function conflict(contract: ExistingContract, reason: string): DomainError {
  return new DomainError('operation_state_conflict', `contract ${contract.binding.contractId}: ${reason}`, {
    contractId: contract.binding.contractId,
    status: contract.status,
    reason,
  });
}

function requireContract(state: ContractState, contractId: string): ExistingContract {
  if (state.status === 'none')
    throw new DomainError('operation_not_found', `contract ${contractId} does not exist`, { contractId });
  return state;
}

const UNFINISHED: readonly ContractStatus[] = ['verifying', 'awaiting_bank_code', 'pre_bound'];

function failed(
  contract: ExistingContract,
  reason: BindingFailureReason,
  channelCode: string | null,
  atMs: number,
): ContractEvent {
  return {
    type: 'CardBindingFailed',
    data: {
      contractId: contract.binding.contractId,
      reason,
      channelCode,
      unsignRequired: contract.status === 'pre_bound',
      failedAt: iso(atMs),
    },
  };
}

function decideVerification(contract: ExistingContract, answer: VerificationAnswer, atMs: number): ContractEvent[] {
  // The same answer again (a retried record of an idempotent channel call): nothing more to record.
  if (contract.status !== 'verifying') {
    if (answer.step === 'code_sent' && contract.verificationId === answer.verificationId) return [];
    if (answer.step === 'signed' && contract.contractNo === answer.contractNo) return [];
    throw conflict(contract, 'already_verified');
  }
  const contractId = contract.binding.contractId;
  if (answer.step === 'refused') return [failed(contract, answer.reason, answer.channelCode, atMs)];
  if (answer.step === 'code_sent') {
    if (contract.binding.signing !== 'verify_then_sign') throw conflict(contract, 'channel_signs_at_verify');
    return [
      {
        type: 'CardBindingCodeSent',
        data: { contractId, verificationId: answer.verificationId, maskedPhone: answer.maskedPhone, sentAt: iso(atMs) },
      },
    ];
  }
  if (contract.binding.signing !== 'sign_at_verify') throw conflict(contract, 'channel_signs_with_bank_code');
  const ownCode = bindingPolicy.shape.ownCode.parse(contract.binding.policy.ownCode);
  return [
    { type: 'CardContractPreBound', data: { contractId, contractNo: answer.contractNo, preBoundAt: iso(atMs) } },
    ...decideStepUp(
      {
        type: 'IssueChallenge',
        challengeId: answer.challengeId,
        paymentId: contractId,
        maskedPhone: answer.maskedPhone,
        codeHmac: answer.codeHmac,
        policy: ownCode,
        at: iso(atMs),
      },
      initialStepUpState(),
    ),
  ];
}

function decideSignature(contract: ExistingContract, answer: SignatureAnswer, atMs: number): ContractEvent[] {
  if (contract.status === 'bound' && answer.result === 'signed' && answer.contractNo === contract.contractNo) return [];
  if (contract.status !== 'awaiting_bank_code') throw conflict(contract, 'not_awaiting_bank_code');
  const contractId = contract.binding.contractId;
  if (answer.result === 'signed')
    return [{ type: 'CardContractBound', data: { contractId, contractNo: answer.contractNo, boundAt: iso(atMs) } }];
  if (answer.result === 'refused') return [failed(contract, answer.reason, answer.channelCode, atMs)];
  const attemptsUsed = contract.bankCodeAttemptsUsed + 1;
  const rejected: ContractEvent = {
    type: 'CardBindingCodeRejected',
    data: { contractId, attemptsUsed, at: iso(atMs) },
  };
  return attemptsUsed < contract.binding.policy.maxBankCodeAttempts
    ? [rejected]
    : [rejected, failed(contract, 'attempts_exhausted', null, atMs)];
}

function decideOwnCode(
  contract: ExistingContract,
  command: Extract<ContractCommand, { type: 'ConfirmOwnCode' | 'ResendOwnCode' }>,
  atMs: number,
): ContractEvent[] {
  if (contract.ownCode.status === 'none') throw conflict(contract, 'no_own_code');
  if (contract.status !== 'pre_bound' && contract.status !== 'bound') throw conflict(contract, 'closed');
  const challengeId = contract.ownCode.challengeId;
  const events: ContractEvent[] = decideStepUp(
    command.type === 'ConfirmOwnCode'
      ? { type: 'VerifyCode', challengeId, codeHmac: command.codeHmac, at: command.at }
      : { type: 'ResendCode', challengeId, codeHmac: command.codeHmac, at: command.at },
    contract.ownCode,
  );
  const contractId = contract.binding.contractId;
  if (events.some((event) => event.type === 'StepUpVerified')) {
    assert(contract.contractNo !== null, 'contract: a pre-binding has its contract number');
    events.push({
      type: 'CardContractBound',
      data: { contractId, contractNo: contract.contractNo, boundAt: iso(atMs) },
    });
  }
  const stepUpFailure = events.find((event) => event.type === 'StepUpFailed');
  if (stepUpFailure)
    events.push(
      failed(contract, stepUpFailure.data.reason === 'expired' ? 'expired' : 'attempts_exhausted', null, atMs),
    );
  return events;
}

export function decideContract(command: ContractCommand, state: ContractState): ContractEvent[] {
  if (command.type === 'StartBinding') {
    const binding = command.binding;
    if (state.status !== 'none') {
      // The same start again (a retried request) changes nothing; another binding under this id is a bug upstream.
      if (state.binding.requestNo === binding.requestNo && state.binding.userId === binding.userId) return [];
      throw conflict(state, 'already_started');
    }
    bindingPolicy.parse(binding.policy);
    assert(
      msOf(binding.expiresAt) === msOf(binding.startedAt) + binding.policy.bindingTtlMs,
      'contract: a binding expires its TTL after its start',
    );
    assert(
      binding.policy.ownCode.challengeTtlMs <= binding.policy.bindingTtlMs,
      'contract: our own code cannot outlive its binding',
    );
    return [{ type: 'CardBindingStarted', data: binding }];
  }
  const contract = requireContract(state, command.contractId);
  const atMs = msOf(command.at);
  const unfinished = UNFINISHED.includes(contract.status);
  switch (command.type) {
    case 'ExpireBinding':
      return unfinished && atMs >= contract.expiresAtMs ? [failed(contract, 'expired', null, atMs)] : [];
    case 'CancelBinding':
      if (contract.status === 'failed' && contract.failure === 'cancelled') return [];
      if (!unfinished) throw conflict(contract, 'not_in_progress');
      return [failed(contract, 'cancelled', null, atMs)];
    case 'RecordUnsigned':
      if (contract.status === 'failed' && !contract.unsignPending) return [];
      if (!contract.unsignPending) throw conflict(contract, 'nothing_to_unsign');
      assert(contract.contractNo !== null, 'contract: a pre-binding has its contract number');
      return [
        {
          type: 'CardContractUnsigned',
          data: { contractId: contract.binding.contractId, contractNo: contract.contractNo, unsignedAt: iso(atMs) },
        },
      ];
    case 'TerminateContract':
      if (contract.status === 'terminated') return [];
      if (contract.status !== 'bound') throw conflict(contract, 'not_bound');
      assert(contract.contractNo !== null, 'contract: a bound contract has its contract number');
      return [
        {
          type: 'CardContractTerminated',
          data: {
            contractId: contract.binding.contractId,
            contractNo: contract.contractNo,
            reason: command.reason,
            terminatedAt: iso(atMs),
          },
        },
      ];
    default:
      break;
  }
  // Answers and codes after the binding's time: it is over, whatever they say (a late sign is unsigned).
  if (unfinished && atMs >= contract.expiresAtMs) return [failed(contract, 'expired', null, atMs)];
  switch (command.type) {
    case 'RecordVerification':
      return decideVerification(contract, command.answer, atMs);
    case 'RecordSignature':
      return decideSignature(contract, command.answer, atMs);
    case 'ConfirmOwnCode':
    case 'ResendOwnCode':
      return decideOwnCode(contract, command, atMs);
  }
}

export function evolveContract(state: ContractState, event: ContractEvent): ContractState {
  if (event.type === 'CardBindingStarted') {
    assert(state.status === 'none', 'contract: started once');
    return {
      status: 'verifying',
      binding: event.data,
      expiresAtMs: msOf(event.data.expiresAt),
      verificationId: null,
      maskedPhone: null,
      bankCodeAttemptsUsed: 0,
      contractNo: null,
      ownCode: initialStepUpState(),
      failure: null,
      unsignPending: false,
    };
  }
  assert(state.status !== 'none', `contract: ${event.type} before its start`);
  switch (event.type) {
    case 'CardBindingCodeSent':
      return {
        ...state,
        status: 'awaiting_bank_code',
        verificationId: event.data.verificationId,
        maskedPhone: event.data.maskedPhone,
      };
    case 'CardBindingCodeRejected':
      return { ...state, bankCodeAttemptsUsed: event.data.attemptsUsed };
    case 'CardContractPreBound':
      return { ...state, status: 'pre_bound', contractNo: event.data.contractNo };
    case 'CardContractBound':
      return { ...state, status: 'bound', contractNo: event.data.contractNo };
    case 'CardBindingFailed':
      return { ...state, status: 'failed', failure: event.data.reason, unsignPending: event.data.unsignRequired };
    case 'CardContractUnsigned':
      return { ...state, unsignPending: false };
    case 'CardContractTerminated':
      return { ...state, status: 'terminated' };
    case 'StepUpChallengeIssued':
      return { ...state, ownCode: evolveStepUp(state.ownCode, event), maskedPhone: event.data.maskedPhone };
    case 'StepUpCodeResent':
    case 'StepUpCodeRejected':
    case 'StepUpVerified':
    case 'StepUpFailed':
      return { ...state, ownCode: evolveStepUp(state.ownCode, event) };
  }
}

export const contractDecider = {
  decide: decideContract,
  evolve: evolveContract,
  initialState: initialContractState,
};

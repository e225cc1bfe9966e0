import { DateTime } from 'luxon';
import { assert, DomainError } from '../shared/domain-error.js';
import { stepUpPolicy, type StepUpEvent, type StepUpPolicy } from './step-up-events.js';

/**
 * The step-up challenge as an Emmett decider. Issued with a code sent to the payer's phone; each verify
 * compares the keyed hash of what the payer typed with the current code's; a resend replaces the code
 * (not the attempts already used), at most `maxSends` codes and no sooner than `minResendIntervalMs`
 * apart. Verified: the payment may continue. Attempts used up, or the challenge's time over: failed.
 * Every deadline is judged by the command's `at` (its occurredAt), never the wall clock. The commands
 * carry hashes, never codes: making and hashing a code is the caller's (it holds the key).
 */
export type StepUpCommand =
  | {
      readonly type: 'IssueChallenge';
      readonly challengeId: string;
      readonly paymentId: string;
      readonly maskedPhone: string;
      readonly codeHmac: string;
      readonly policy: StepUpPolicy;
      readonly at: string;
    }
  | { readonly type: 'ResendCode'; readonly challengeId: string; readonly codeHmac: string; readonly at: string }
  | { readonly type: 'VerifyCode'; readonly challengeId: string; readonly codeHmac: string; readonly at: string }
  /** From a timer: closes a challenge whose time is over (nothing if it is not yet, or already closed). */
  | { readonly type: 'ExpireChallenge'; readonly challengeId: string; readonly at: string };

export type StepUpState =
  | { readonly status: 'none' }
  | {
      readonly status: 'pending' | 'verified' | 'failed';
      readonly challengeId: string;
      readonly paymentId: string;
      readonly policy: StepUpPolicy;
      readonly codeHmac: string;
      readonly codeExpiresAtMs: number;
      readonly challengeExpiresAtMs: number;
      readonly lastSentAtMs: number;
      readonly sendsUsed: number;
      readonly attemptsUsed: number;
    };

type ExistingChallenge = Exclude<StepUpState, { status: 'none' }>;

export function initialStepUpState(): StepUpState {
  return { status: 'none' };
}

function iso(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'utc' }).toISO()!;
}

function msOf(at: string): number {
  const ms = DateTime.fromISO(at, { zone: 'utc' }).toMillis();
  assert(Number.isFinite(ms), `step-up: not an instant: ${at}`);
  return ms;
}

/** Constant-time over equal lengths: how long a comparison takes says nothing of how much matched. */
function sameHmac(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

function conflict(challenge: ExistingChallenge, reason: string, details: Record<string, string> = {}): DomainError {
  return new DomainError('operation_state_conflict', `step-up challenge ${challenge.challengeId}: ${reason}`, {
    challengeId: challenge.challengeId,
    status: challenge.status,
    reason,
    ...details,
  });
}

function requireChallenge(state: StepUpState, challengeId: string): ExistingChallenge {
  if (state.status === 'none')
    throw new DomainError('operation_not_found', `step-up challenge ${challengeId} does not exist`, { challengeId });
  return state;
}

function expired(challenge: ExistingChallenge, atMs: number): StepUpEvent {
  return {
    type: 'StepUpFailed',
    data: {
      challengeId: challenge.challengeId,
      paymentId: challenge.paymentId,
      reason: 'expired',
      failedAt: iso(atMs),
    },
  };
}

export function decideStepUp(command: StepUpCommand, state: StepUpState): StepUpEvent[] {
  const atMs = msOf(command.at);
  if (command.type === 'IssueChallenge') {
    if (state.status !== 'none') {
      // The same issue again (a retried command) changes nothing, and its caller must not text its new code:
      // the payer holds the first. Another payment under this id is a bug upstream.
      if (state.paymentId === command.paymentId) return [];
      throw conflict(state, 'already_issued');
    }
    const policy = stepUpPolicy.parse(command.policy);
    assert(policy.codeTtlMs <= policy.challengeTtlMs, 'step-up: a code cannot outlive its challenge');
    return [
      {
        type: 'StepUpChallengeIssued',
        data: {
          challengeId: command.challengeId,
          paymentId: command.paymentId,
          maskedPhone: command.maskedPhone,
          codeHmac: command.codeHmac,
          policy,
          issuedAt: iso(atMs),
          codeExpiresAt: iso(atMs + policy.codeTtlMs),
          challengeExpiresAt: iso(atMs + policy.challengeTtlMs),
        },
      },
    ];
  }
  const challenge = requireChallenge(state, command.challengeId);
  if (command.type === 'ExpireChallenge')
    return challenge.status === 'pending' && atMs >= challenge.challengeExpiresAtMs ? [expired(challenge, atMs)] : [];
  if (
    challenge.status === 'verified' &&
    command.type === 'VerifyCode' &&
    sameHmac(command.codeHmac, challenge.codeHmac)
  )
    return []; // the right code again (a retried verify): already done
  if (challenge.status !== 'pending') throw conflict(challenge, 'closed');
  if (atMs >= challenge.challengeExpiresAtMs) return [expired(challenge, atMs)];

  if (command.type === 'ResendCode') {
    if (challenge.sendsUsed >= challenge.policy.maxSends) throw conflict(challenge, 'resend_limit_reached');
    const nextAllowedMs = challenge.lastSentAtMs + challenge.policy.minResendIntervalMs;
    if (atMs < nextAllowedMs) throw conflict(challenge, 'resend_too_soon', { retryAt: iso(nextAllowedMs) });
    return [
      {
        type: 'StepUpCodeResent',
        data: {
          challengeId: challenge.challengeId,
          codeHmac: command.codeHmac,
          sentAt: iso(atMs),
          codeExpiresAt: iso(Math.min(atMs + challenge.policy.codeTtlMs, challenge.challengeExpiresAtMs)),
          sendsUsed: challenge.sendsUsed + 1,
        },
      },
    ];
  }

  const base = { challengeId: challenge.challengeId, at: iso(atMs) };
  if (atMs >= challenge.codeExpiresAtMs) {
    const rejected: StepUpEvent = {
      type: 'StepUpCodeRejected',
      data: { ...base, reason: 'code_expired', attemptsUsed: challenge.attemptsUsed },
    };
    // With no resend left, an expired code can never be replaced: the challenge is over now, not at its end.
    return challenge.sendsUsed >= challenge.policy.maxSends ? [rejected, expired(challenge, atMs)] : [rejected];
  }
  if (sameHmac(command.codeHmac, challenge.codeHmac))
    return [
      {
        type: 'StepUpVerified',
        data: { challengeId: challenge.challengeId, paymentId: challenge.paymentId, verifiedAt: iso(atMs) },
      },
    ];
  const attemptsUsed = challenge.attemptsUsed + 1;
  const rejected: StepUpEvent = { type: 'StepUpCodeRejected', data: { ...base, reason: 'code_wrong', attemptsUsed } };
  if (attemptsUsed < challenge.policy.maxAttempts) return [rejected];
  return [
    rejected,
    {
      type: 'StepUpFailed',
      data: {
        challengeId: challenge.challengeId,
        paymentId: challenge.paymentId,
        reason: 'attempts_exhausted',
        failedAt: iso(atMs),
      },
    },
  ];
}

export function evolveStepUp(state: StepUpState, event: StepUpEvent): StepUpState {
  switch (event.type) {
    case 'StepUpChallengeIssued':
      return {
        status: 'pending',
        challengeId: event.data.challengeId,
        paymentId: event.data.paymentId,
        policy: event.data.policy,
        codeHmac: event.data.codeHmac,
        codeExpiresAtMs: msOf(event.data.codeExpiresAt),
        challengeExpiresAtMs: msOf(event.data.challengeExpiresAt),
        lastSentAtMs: msOf(event.data.issuedAt),
        sendsUsed: 1,
        attemptsUsed: 0,
      };
    case 'StepUpCodeResent': {
      const challenge = requireChallenge(state, event.data.challengeId);
      return {
        ...challenge,
        codeHmac: event.data.codeHmac,
        codeExpiresAtMs: msOf(event.data.codeExpiresAt),
        lastSentAtMs: msOf(event.data.sentAt),
        sendsUsed: event.data.sendsUsed,
      };
    }
    case 'StepUpCodeRejected': {
      const challenge = requireChallenge(state, event.data.challengeId);
      assert(event.data.attemptsUsed <= challenge.policy.maxAttempts, 'step-up: attempts beyond the limit');
      return { ...challenge, attemptsUsed: event.data.attemptsUsed };
    }
    case 'StepUpVerified':
      return { ...requireChallenge(state, event.data.challengeId), status: 'verified' };
    case 'StepUpFailed':
      return { ...requireChallenge(state, event.data.challengeId), status: 'failed' };
  }
}

export const stepUpDecider = {
  decide: decideStepUp,
  evolve: evolveStepUp,
  initialState: initialStepUpState,
};

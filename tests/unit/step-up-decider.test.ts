import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OneTimeCodes } from '../../src/adapters/crypto/one-time-codes.js';
import { stepUpDecider, type StepUpCommand } from '../../src/domain/risk/step-up-decider.js';
import { stepUpEventSchemas, type StepUpEvent, type StepUpPolicy } from '../../src/domain/risk/step-up-events.js';
import { secretText } from '../../src/domain/shared/sensitive-text.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(stepUpDecider);
const codes = new OneTimeCodes(randomBytes(32));
const challengeId = '7d1f3c1e-2b64-4c55-9d0a-0c6f1b1a9e01';
const paymentId = '0b5e4c5a-6f0e-4a8b-8a43-2d6c0e9f7a11';
const hmac = (code: string) => codes.hmacOf(challengeId, secretText(code));

const policy: StepUpPolicy = {
  codeTtlMs: 5 * 60_000,
  challengeTtlMs: 15 * 60_000,
  maxAttempts: 3,
  maxSends: 2,
  minResendIntervalMs: 60_000,
};
const T0 = '2026-12-01T02:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1_000).toISOString();

const issue: StepUpCommand = {
  type: 'IssueChallenge',
  challengeId,
  paymentId,
  maskedPhone: '138****0001',
  codeHmac: hmac('123456'),
  policy,
  at: T0,
};
const issued: StepUpEvent = {
  type: 'StepUpChallengeIssued',
  data: {
    challengeId,
    paymentId,
    maskedPhone: '138****0001',
    codeHmac: hmac('123456'),
    policy,
    issuedAt: T0,
    codeExpiresAt: at(300),
    challengeExpiresAt: at(900),
  },
};
const verify = (code: string, seconds: number): StepUpCommand => ({
  type: 'VerifyCode',
  challengeId,
  codeHmac: hmac(code),
  at: at(seconds),
});
const wrong = (attemptsUsed: number, seconds: number): StepUpEvent => ({
  type: 'StepUpCodeRejected',
  data: { challengeId, reason: 'code_wrong', attemptsUsed, at: at(seconds) },
});
const resent = (code: string, seconds: number): StepUpEvent => ({
  type: 'StepUpCodeResent',
  data: { challengeId, codeHmac: hmac(code), sentAt: at(seconds), codeExpiresAt: at(seconds + 300), sendsUsed: 2 },
});

describe('step-up challenge (given / when / then)', () => {
  it('issues a challenge with its code as a keyed hash, never the code', () => {
    spec.given([]).when(issue).then([issued]);
    expect(JSON.stringify(issued)).not.toContain('123456');
    for (const event of [issued])
      expect(stepUpEventSchemas.some((schema) => schema.safeParse(event).success)).toBe(true);
  });

  it('takes the same issue again as done, another payment under the id as a conflict', () => {
    spec.given([issued]).when(issue).then([]);
    spec
      .given([issued])
      .when({ ...issue, paymentId: '1b5e4c5a-6f0e-4a8b-8a43-2d6c0e9f7a11' })
      .thenRefuses('operation_state_conflict', { reason: 'already_issued' });
  });

  it('verifies the right code in time; the same code again changes nothing', () => {
    const verified: StepUpEvent = { type: 'StepUpVerified', data: { challengeId, paymentId, verifiedAt: at(30) } };
    spec.given([issued]).when(verify('123456', 30)).then([verified]);
    spec.given([issued, verified]).when(verify('123456', 40)).then([]);
    spec
      .given([issued, verified])
      .when(verify('000000', 40))
      .thenRefuses('operation_state_conflict', { reason: 'closed' });
  });

  it('counts wrong codes and fails the challenge at the limit', () => {
    spec
      .given([issued])
      .when(verify('000000', 10))
      .then([wrong(1, 10)]);
    spec
      .given([issued, wrong(1, 10)])
      .when(verify('000001', 20))
      .then([wrong(2, 20)]);
    spec
      .given([issued, wrong(1, 10), wrong(2, 20)])
      .when(verify('000002', 30))
      .then([
        wrong(3, 30),
        { type: 'StepUpFailed', data: { challengeId, paymentId, reason: 'attempts_exhausted', failedAt: at(30) } },
      ]);
    const failed: StepUpEvent = {
      type: 'StepUpFailed',
      data: { challengeId, paymentId, reason: 'attempts_exhausted', failedAt: at(30) },
    };
    spec
      .given([issued, wrong(1, 10), wrong(2, 20), wrong(3, 30), failed])
      .when(verify('123456', 40))
      .thenRefuses('operation_state_conflict', { reason: 'closed' });
  });

  it('judges expiry by the command time: an expired code is rejected without using an attempt', () => {
    spec
      .given([issued])
      .when(verify('123456', 300))
      .then([
        { type: 'StepUpCodeRejected', data: { challengeId, reason: 'code_expired', attemptsUsed: 0, at: at(300) } },
      ]);
  });

  it('resends a new code no sooner than the interval, and no more than the limit; the old code stops working', () => {
    const resend = (code: string, seconds: number): StepUpCommand => ({
      type: 'ResendCode',
      challengeId,
      codeHmac: hmac(code),
      at: at(seconds),
    });
    spec
      .given([issued])
      .when(resend('654321', 59))
      .thenRefuses('operation_state_conflict', {
        reason: 'resend_too_soon',
        retryAt: at(60),
      });
    spec
      .given([issued])
      .when(resend('654321', 60))
      .then([resent('654321', 60)]);
    spec
      .given([issued, resent('654321', 60)])
      .when(resend('111111', 200))
      .thenRefuses('operation_state_conflict', {
        reason: 'resend_limit_reached',
      });
    spec
      .given([issued, resent('654321', 60)])
      .when(verify('123456', 70))
      .then([wrong(1, 70)]);
    spec
      .given([issued, resent('654321', 60)])
      .when(verify('654321', 70))
      .then([{ type: 'StepUpVerified', data: { challengeId, paymentId, verifiedAt: at(70) } }]);
  });

  it('fails at once when the last code expires with no resend left', () => {
    spec
      .given([issued, resent('654321', 60)])
      .when(verify('654321', 360))
      .then([
        { type: 'StepUpCodeRejected', data: { challengeId, reason: 'code_expired', attemptsUsed: 0, at: at(360) } },
        { type: 'StepUpFailed', data: { challengeId, paymentId, reason: 'expired', failedAt: at(360) } },
      ]);
  });

  it('expires by the timer only once the challenge time is over', () => {
    const expire = (seconds: number): StepUpCommand => ({ type: 'ExpireChallenge', challengeId, at: at(seconds) });
    spec.given([issued]).when(expire(899)).then([]);
    const failed: StepUpEvent = {
      type: 'StepUpFailed',
      data: { challengeId, paymentId, reason: 'expired', failedAt: at(900) },
    };
    spec.given([issued]).when(expire(900)).then([failed]);
    spec.given([issued, failed]).when(expire(901)).then([]);
    spec.given([issued]).when(verify('123456', 900)).then([failed]);
  });

  it('refuses commands for a challenge that does not exist, and a policy outside its bounds', () => {
    spec.given([]).when(verify('123456', 1)).thenRefuses('operation_not_found');
    expect(() =>
      stepUpDecider.decide({ ...issue, policy: { ...policy, maxAttempts: 11 } }, stepUpDecider.initialState()),
    ).toThrow();
  });
});

describe('one-time codes', () => {
  it('are six digits, masked in any text, hashed per challenge under the key', () => {
    const code = codes.issue();
    expect(code.reveal()).toMatch(/^[0-9]{6}$/);
    expect(String(code)).toBe('******');
    expect(JSON.stringify({ code })).toBe('{"code":"******"}');
    expect(codes.hmacOf(challengeId, code)).toBe(codes.hmacOf(challengeId, secretText(code.reveal())));
    expect(codes.hmacOf(challengeId, code)).not.toBe(codes.hmacOf(paymentId, code));
    expect(new OneTimeCodes(randomBytes(32)).hmacOf(challengeId, code)).not.toBe(codes.hmacOf(challengeId, code));
    expect(() => new OneTimeCodes(randomBytes(16))).toThrow(RangeError);
  });
});

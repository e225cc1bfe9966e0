import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OneTimeCodes } from '../../src/adapters/crypto/one-time-codes.js';
import { DEFAULT_BINDING_POLICY } from '../../src/commands/contracts/card-bindings.js';
import {
  contractDecider,
  type ContractCommand,
  type ContractEvent,
} from '../../src/domain/contracts/contract-decider.js';
import {
  contractEventSchemas,
  type BindingPolicy,
  type CardBindingStarted,
} from '../../src/domain/contracts/contract-events.js';
import { stepUpEventSchemas } from '../../src/domain/risk/step-up-events.js';
import { secretText } from '../../src/domain/shared/sensitive-text.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(contractDecider);
const codes = new OneTimeCodes(randomBytes(32));
const contractId = '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01';
const challengeId = '9e017d1f-2b64-4c55-9d0a-0c6f1b1a3c1e';
const hmac = (code: string) => codes.hmacOf(challengeId, secretText(code));
const T0 = '2026-12-01T02:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1_000).toISOString();

const policy: BindingPolicy = DEFAULT_BINDING_POLICY;
const ref = (n: number) => `vref_00000000-0000-4000-8000-00000000000${n}`;

function binding(signing: 'verify_then_sign' | 'sign_at_verify'): CardBindingStarted['data'] {
  return {
    contractId,
    userId: 'user_1',
    requestedBy: 'merchant_1',
    channelId: signing === 'verify_then_sign' ? 'bank-sim' : 'card-network-sim',
    signing,
    requestNo: 'BND0001',
    maskedCard: '000000******0011',
    cardFingerprint: `cfp1_${'A'.repeat(43)}`,
    bankCode: 'SIMBANK',
    cardKind: 'debit',
    secrets: { cardNumber: ref(1), holderName: ref(2), idNumber: ref(3), phone: ref(4) },
    policy,
    startedAt: T0,
    expiresAt: at(900),
  };
}
const started = (signing: 'verify_then_sign' | 'sign_at_verify'): ContractEvent => ({
  type: 'CardBindingStarted',
  data: binding(signing),
});
const codeSent: ContractEvent = {
  type: 'CardBindingCodeSent',
  data: { contractId, verificationId: 'V0001', maskedPhone: '138****0001', sentAt: at(1) },
};
const bankBound: ContractEvent = {
  type: 'CardContractBound',
  data: { contractId, contractNo: 'C0001', boundAt: at(60) },
};
const preBound: ContractEvent = {
  type: 'CardContractPreBound',
  data: { contractId, contractNo: 'C0002', preBoundAt: at(1) },
};
const ownCodeIssued: ContractEvent = {
  type: 'StepUpChallengeIssued',
  data: {
    challengeId,
    paymentId: contractId,
    maskedPhone: '138****0001',
    codeHmac: hmac('123456'),
    policy: policy.ownCode,
    issuedAt: at(1),
    codeExpiresAt: at(301),
    challengeExpiresAt: at(601),
  },
};
const bank = [started('verify_then_sign'), codeSent];
const preBind = [started('sign_at_verify'), preBound, ownCodeIssued];

const sign = (
  answer: Extract<ContractCommand, { type: 'RecordSignature' }>['answer'],
  seconds: number,
): ContractCommand => ({
  type: 'RecordSignature',
  contractId,
  answer,
  at: at(seconds),
});
const confirm = (code: string, seconds: number): ContractCommand => ({
  type: 'ConfirmOwnCode',
  contractId,
  codeHmac: hmac(code),
  at: at(seconds),
});
const failed = (reason: string, seconds: number, unsignRequired: boolean, channelCode: string | null = null) =>
  ({
    type: 'CardBindingFailed',
    data: { contractId, reason, channelCode, unsignRequired, failedAt: at(seconds) },
  }) as ContractEvent;

describe('bind-card contract (given / when / then)', () => {
  it('starts a binding holding masked values, the fingerprint and vault references only', () => {
    spec
      .given([])
      .when({ type: 'StartBinding', binding: binding('verify_then_sign') })
      .then([started('verify_then_sign')]);
    spec
      .given([started('verify_then_sign')])
      .when({ type: 'StartBinding', binding: binding('verify_then_sign') })
      .then([]);
    spec
      .given([started('verify_then_sign')])
      .when({ type: 'StartBinding', binding: { ...binding('verify_then_sign'), requestNo: 'BND0002' } })
      .thenRefuses('operation_state_conflict', { reason: 'already_started' });
    const all = [...bank, bankBound, ...preBind];
    for (const event of all)
      expect([...contractEventSchemas, ...stepUpEventSchemas].some((s) => s.safeParse(event).success)).toBe(true);
  });

  it('bank path: the code sent, then signed with it: bound', () => {
    spec
      .given([started('verify_then_sign')])
      .when({
        type: 'RecordVerification',
        contractId,
        answer: { step: 'code_sent', verificationId: 'V0001', maskedPhone: '138****0001' },
        at: at(1),
      })
      .then([codeSent]);
    spec
      .given(bank)
      .when(sign({ result: 'signed', contractNo: 'C0001' }, 60))
      .then([bankBound]);
    // The same signature recorded again (a retried call answered the first outcome): nothing more.
    spec
      .given([...bank, bankBound])
      .when(sign({ result: 'signed', contractNo: 'C0001' }, 61))
      .then([]);
  });

  it('bank path: wrong codes counted, the limit fails the binding', () => {
    const rejected = (n: number, s: number): ContractEvent => ({
      type: 'CardBindingCodeRejected',
      data: { contractId, attemptsUsed: n, at: at(s) },
    });
    spec
      .given(bank)
      .when(sign({ result: 'code_wrong' }, 10))
      .then([rejected(1, 10)]);
    spec
      .given([...bank, rejected(1, 10), rejected(2, 20)])
      .when(sign({ result: 'code_wrong' }, 30))
      .then([rejected(3, 30), failed('attempts_exhausted', 30, false)]);
  });

  it('the four-element refusals fail the binding with distinct reasons', () => {
    for (const reason of ['elements_mismatch', 'card_invalid', 'card_not_supported'] as const)
      spec
        .given([started('verify_then_sign')])
        .when({
          type: 'RecordVerification',
          contractId,
          answer: { step: 'refused', reason, channelCode: 'X1' },
          at: at(1),
        })
        .then([failed(reason, 1, false, 'X1')]);
  });

  it('pre-bind path: signed at verify, pre-bound with our own code, bound on the right code', () => {
    spec
      .given([started('sign_at_verify')])
      .when({
        type: 'RecordVerification',
        contractId,
        answer: {
          step: 'signed',
          contractNo: 'C0002',
          challengeId,
          codeHmac: hmac('123456'),
          maskedPhone: '138****0001',
        },
        at: at(1),
      })
      .then([preBound, ownCodeIssued]);
    spec
      .given(preBind)
      .when(confirm('123456', 30))
      .then([
        { type: 'StepUpVerified', data: { challengeId, paymentId: contractId, verifiedAt: at(30) } },
        { type: 'CardContractBound', data: { contractId, contractNo: 'C0002', boundAt: at(30) } },
      ]);
  });

  it('pre-bind path: a wrong code too often fails it, and the pre-binding must be unsigned', () => {
    const wrong = (n: number, s: number): ContractEvent => ({
      type: 'StepUpCodeRejected',
      data: { challengeId, reason: 'code_wrong', attemptsUsed: n, at: at(s) },
    });
    spec
      .given(preBind)
      .when(confirm('000000', 10))
      .then([wrong(1, 10)]);
    const stepUpFailed: ContractEvent = {
      type: 'StepUpFailed',
      data: { challengeId, paymentId: contractId, reason: 'attempts_exhausted', failedAt: at(30) },
    };
    spec
      .given([...preBind, wrong(1, 10), wrong(2, 20)])
      .when(confirm('000000', 30))
      .then([wrong(3, 30), stepUpFailed, failed('attempts_exhausted', 30, true)]);
    const afterFailure = [
      ...preBind,
      wrong(1, 10),
      wrong(2, 20),
      wrong(3, 30),
      stepUpFailed,
      failed('attempts_exhausted', 30, true),
    ];
    spec
      .given(afterFailure)
      .when({ type: 'RecordUnsigned', contractId, at: at(31) })
      .then([{ type: 'CardContractUnsigned', data: { contractId, contractNo: 'C0002', unsignedAt: at(31) } }]);
    spec.given(afterFailure).when(confirm('123456', 40)).thenRefuses('operation_state_conflict', { reason: 'closed' });
  });

  it('expiry: the sweep fails an unfinished binding after its time, a pre-binding to be unsigned', () => {
    spec
      .given(preBind)
      .when({ type: 'ExpireBinding', contractId, at: at(899) })
      .then([]);
    spec
      .given(preBind)
      .when({ type: 'ExpireBinding', contractId, at: at(900) })
      .then([failed('expired', 900, true)]);
    spec
      .given(bank)
      .when({ type: 'ExpireBinding', contractId, at: at(900) })
      .then([failed('expired', 900, false)]);
    // A signature recorded after the binding's time does not bind it.
    spec
      .given(bank)
      .when(sign({ result: 'signed', contractNo: 'C0001' }, 901))
      .then([failed('expired', 901, false)]);
    spec
      .given([...bank, bankBound])
      .when({ type: 'ExpireBinding', contractId, at: at(2000) })
      .then([]);
  });

  it('cancel fails an unfinished binding; a bound contract is not cancelled but unbound', () => {
    spec
      .given(bank)
      .when({ type: 'CancelBinding', contractId, at: at(5) })
      .then([failed('cancelled', 5, false)]);
    spec
      .given(preBind)
      .when({ type: 'CancelBinding', contractId, at: at(5) })
      .then([failed('cancelled', 5, true)]);
    spec
      .given([...bank, bankBound])
      .when({ type: 'CancelBinding', contractId, at: at(70) })
      .thenRefuses('operation_state_conflict', { reason: 'not_in_progress' });
  });

  it('unbind: a bound contract terminated once the channel unsigned it', () => {
    const terminated: ContractEvent = {
      type: 'CardContractTerminated',
      data: { contractId, contractNo: 'C0001', reason: 'unbound', terminatedAt: at(100) },
    };
    spec
      .given([...bank, bankBound])
      .when({ type: 'TerminateContract', contractId, reason: 'unbound', at: at(100) })
      .then([terminated]);
    spec
      .given([...bank, bankBound, terminated])
      .when({ type: 'TerminateContract', contractId, reason: 'erased', at: at(200) })
      .then([]);
    spec
      .given(bank)
      .when({ type: 'TerminateContract', contractId, reason: 'unbound', at: at(100) })
      .thenRefuses('operation_state_conflict', { reason: 'not_bound' });
  });

  it('refuses commands for a contract never started', () => {
    spec.given([]).when({ type: 'CancelBinding', contractId, at: T0 }).thenRefuses('operation_not_found');
  });
});

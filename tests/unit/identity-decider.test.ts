import { describe, expect, it } from 'vitest';
import {
  identityDecider,
  MAX_VERIFICATIONS_PER_USER,
  type IdentityCommand,
} from '../../src/domain/identity/identity-decider.js';
import { maskedRealName } from '../../src/domain/identity/identity-elements.js';
import type {
  IdentityEvent,
  IdentityVerificationRequested,
  IdentityVerified,
} from '../../src/domain/identity/identity-events.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(identityDecider);
const AT = '2026-12-01T02:00:00.000Z';
const LATER = '2026-12-01T02:00:05.000Z';
const ref = (n: number) => `vref_00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const vid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CONTRACT = '3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01';

function requested(n = 1, withPhone = true): IdentityVerificationRequested {
  return {
    type: 'IdentityVerificationRequested',
    data: {
      verificationId: vid(n),
      userId: 'u-1',
      requestedBy: 'm-1',
      elements: withPhone ? ['name', 'id_number', 'phone'] : ['name', 'id_number'],
      masked: {
        name: '*三',
        idNumber: 'T****************9',
        phone: withPhone ? '100****0099' : null,
        cardNumber: null,
      },
      secrets: { name: ref(1), idNumber: ref(2), phone: withPhone ? ref(3) : null, cardNumber: null },
      requestedAt: AT,
    },
  };
}

const verifiedByService: IdentityVerified = {
  type: 'IdentityVerified',
  data: {
    verificationId: vid(1),
    userId: 'u-1',
    source: 'identity_service',
    contractId: null,
    elements: ['name', 'id_number', 'phone'],
    maskedName: '*三',
    maskedIdNumber: 'T****************9',
    secrets: { name: ref(1), idNumber: ref(2) },
    verifiedAt: LATER,
  },
};

const bindingVerified: IdentityVerified['data'] = {
  verificationId: vid(99),
  userId: 'u-1',
  source: 'card_binding',
  contractId: CONTRACT,
  elements: ['name', 'id_number', 'phone', 'card_number'],
  maskedName: '*三',
  maskedIdNumber: 'T****************9',
  secrets: { name: ref(7), idNumber: ref(8) },
  verifiedAt: LATER,
};

const answer = (outcome: Extract<IdentityCommand, { type: 'RecordAnswer' }>['answer'], n = 1): IdentityCommand => ({
  type: 'RecordAnswer',
  verificationId: vid(n),
  answer: outcome,
  at: LATER,
});

describe('identity decider', () => {
  it('records a request once (a retry changes nothing)', () => {
    spec.given([]).when({ type: 'RequestVerification', request: requested().data }).then([requested()]);
    spec.given([requested()]).when({ type: 'RequestVerification', request: requested().data }).then([]);
  });

  it('a match verifies the user, with the masked name and the sealed references only', () => {
    spec
      .given([requested()])
      .when(answer({ outcome: 'match' }))
      .then([verifiedByService]);
  });

  it('a mismatch names the elements, and only those asked', () => {
    spec
      .given([requested()])
      .when(answer({ outcome: 'mismatch', mismatched: ['phone'] }))
      .then([
        { type: 'IdentityMismatched', data: { verificationId: vid(1), mismatched: ['phone'], answeredAt: LATER } },
      ]);
    spec
      .given([requested(1, false)])
      .when(answer({ outcome: 'mismatch', mismatched: ['card_number'] }))
      .thenRefuses('operation_state_conflict', { reason: 'mismatch_of_elements_not_asked' });
  });

  it('no record', () => {
    spec
      .given([requested()])
      .when(answer({ outcome: 'no_record' }))
      .then([{ type: 'IdentityNoRecord', data: { verificationId: vid(1), answeredAt: LATER } }]);
  });

  it('no verdict is recorded as unknown once, and a later verdict settles it', () => {
    const unknown: IdentityEvent = {
      type: 'IdentityVerificationUnknown',
      data: { verificationId: vid(1), detail: 'no answer within 5000 ms', at: LATER },
    };
    spec
      .given([requested()])
      .when(answer({ outcome: 'unknown', detail: 'no answer within 5000 ms' }))
      .then([unknown]);
    spec
      .given([requested(), unknown])
      .when(answer({ outcome: 'unknown', detail: 'again' }))
      .then([]);
    spec
      .given([requested(), unknown])
      .when(answer({ outcome: 'match' }))
      .then([verifiedByService]);
  });

  it('a verdict never changes: the same again is nothing, another is refused, unknown after it is nothing', () => {
    spec
      .given([requested(), verifiedByService])
      .when(answer({ outcome: 'match' }))
      .then([]);
    spec
      .given([requested(), verifiedByService])
      .when(answer({ outcome: 'unknown', detail: 'late' }))
      .then([]);
    spec
      .given([requested(), verifiedByService])
      .when(answer({ outcome: 'no_record' }))
      .thenRefuses('operation_state_conflict', { reason: 'verdict_recorded' });
  });

  it('an answer to no request is refused', () => {
    spec
      .given([])
      .when(answer({ outcome: 'match' }))
      .thenRefuses('operation_not_found');
  });

  it('a bound card verifies the user once per contract', () => {
    const event: IdentityEvent = { type: 'IdentityVerified', data: bindingVerified };
    spec.given([]).when({ type: 'RecordBindingVerified', verified: bindingVerified }).then([event]);
    spec.given([event]).when({ type: 'RecordBindingVerified', verified: bindingVerified }).then([]);
    spec
      .given([])
      .when({ type: 'RecordBindingVerified', verified: { ...bindingVerified, source: 'identity_service' } })
      .thenRefuses('operation_state_conflict', { reason: 'not_a_binding' });
  });

  it("the first verification stays the user's identity; a later mismatch does not undo it", () => {
    const state = [requested(), verifiedByService, requested(2)].reduce(
      identityDecider.evolve,
      identityDecider.initialState(),
    );
    const after = identityDecider.evolve(state, {
      type: 'IdentityMismatched',
      data: { verificationId: vid(2), mismatched: ['name'], answeredAt: LATER },
    });
    expect(after.verified).toEqual(verifiedByService.data);
    expect(after.verifications.get(vid(2))?.status).toBe('mismatched');
  });

  it(`at most ${MAX_VERIFICATIONS_PER_USER} verifications per user`, () => {
    const given = Array.from({ length: MAX_VERIFICATIONS_PER_USER }, (_, i) => requested(i + 1));
    spec
      .given(given)
      .when({ type: 'RequestVerification', request: requested(MAX_VERIFICATIONS_PER_USER + 1).data })
      .thenRefuses('identity_verification_limit');
  });

  it('a Chinese name is masked but its last character', () => {
    expect(maskedRealName('张三')).toBe('*三');
    expect(maskedRealName('欧阳娜娜')).toBe('***娜');
    expect(maskedRealName('李')).toBe('*');
  });
});

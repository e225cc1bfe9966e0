import { describe, it } from 'vitest';
import { erasureDecider } from '../../src/domain/identity/erasure-decider.js';
import type { ErasureEvent } from '../../src/domain/identity/erasure-events.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification(erasureDecider);
const AT = '2026-12-01T02:00:00.000Z';
const LATER = '2026-12-01T02:00:09.000Z';
const request = { type: 'RequestErasure', userId: 'u-1', requestedBy: 'op-1', reason: 'user request', at: AT } as const;
const requested: ErasureEvent = {
  type: 'UserErasureRequested',
  data: { userId: 'u-1', requestedBy: 'op-1', reason: 'user request', requestedAt: AT },
};
const forgotten = {
  vaultSubjects: ['u-1', 'codeseed-s1'],
  contracts: ['3c1e7d1f-2b64-4c55-9d0a-0c6f1b1a9e01'],
  paymentCodeSeeds: ['s1'],
};
const erased: ErasureEvent = {
  type: 'UserErased',
  data: { userId: 'u-1', requestedBy: 'op-1', reason: 'user request', forgotten, erasedAt: LATER },
};
const record = { type: 'RecordErased', userId: 'u-1', forgotten, at: LATER } as const;

describe('erasure decider', () => {
  it('records the request first, with who and why', () => {
    spec.given([]).when(request).then([requested]);
  });

  it('refuses an erasure without a reason', () => {
    spec
      .given([])
      .when({ ...request, reason: '   ' })
      .thenRefuses('erasure_reason_required');
  });

  it('asking again while it waits, or after it, changes nothing (the first operator and reason stand)', () => {
    spec
      .given([requested])
      .when({ ...request, requestedBy: 'op-2', reason: 'other' })
      .then([]);
    spec.given([requested, erased]).when(request).then([]);
  });

  it("erased: what was forgotten, under the request's operator and reason", () => {
    spec.given([requested]).when(record).then([erased]);
    spec.given([requested, erased]).when(record).then([]);
  });

  it('nothing is erased that was not requested', () => {
    spec.given([]).when(record).thenRefuses('operation_state_conflict', { reason: 'not_requested' });
  });
});

import { describe, it } from 'vitest';
import { preauthDecider, type PreauthCommand, type PreauthState } from '../../src/domain/preauths/preauth-decider.js';
import type { PreauthEvent, PreauthRequested } from '../../src/domain/preauths/preauth-events.js';
import { parseCurrency } from '../../src/domain/money/money.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification<PreauthCommand, PreauthEvent, PreauthState>(preauthDecider);
const preauthId = '0190a0a0-0000-7000-8000-0000000000bb';
const completionId = '0190a0a0-0000-7000-8000-0000000000cc';
const cancellationId = '0190a0a0-0000-7000-8000-0000000000cd';
const request: PreauthRequested['data'] = {
  preauthId,
  merchantId: 'm-1',
  merchantOrderNo: 'HOTEL-1',
  payerAccountId: '1010000000000018',
  payeeAccountId: '2010000000000014',
  amountMinor: 30_000n,
  currency: parseCurrency('CNY'),
  expiresAt: '2026-11-28T00:00:00.000Z',
};
const requested: PreauthEvent = { type: 'PreauthRequested', data: request };
const authorised: PreauthEvent = { type: 'PreauthAuthorised', data: { preauthId } };
const completionRequested = (capturedMinor: bigint): PreauthEvent => ({
  type: 'PreauthCompletionRequested',
  data: { preauthId, completionId, capturedMinor },
});
/** One second before `request.expiresAt`, and the instant it expires (a deadline is exclusive). */
const beforeExpiry = '2026-11-27T23:59:59.000Z';
const completedEvent: PreauthEvent = { type: 'PreauthCompleted', data: { preauthId, completionId } };

/** A completion captured, then cancelled: the authorisation is valid again. */
const completionCancelled: PreauthEvent[] = [
  requested,
  authorised,
  completionRequested(10_000n),
  completedEvent,
  { type: 'PreauthCompletionCancellationRequested', data: { preauthId, completionId, cancellationId } },
  { type: 'PreauthCompletionCancelled', data: { preauthId, completionId } },
];

describe('a pre-authorisation', () => {
  it('given an authorisation, when completed within the hold, then the completion is requested', () => {
    // The same instant with an offset: compared as instants, not as strings (which would say it is later).
    for (const nowIso of [beforeExpiry, '2026-11-28T07:59:59+08:00']) {
      spec
        .given([requested, authorised])
        .when({ type: 'RequestCompletion', preauthId, completionId, capturedMinor: 25_000n, nowIso })
        .then([completionRequested(25_000n)]);
    }
  });
  it('given an authorisation not yet swept, when completed at or after its expiry, then it is refused: the command time decides', () => {
    for (const nowIso of ['2026-11-28T00:00:00.000Z', '2026-11-28T08:00:00+08:00', '2026-12-05T10:00:00.000Z']) {
      spec
        .given([requested, authorised])
        .when({ type: 'RequestCompletion', preauthId, completionId, capturedMinor: 25_000n, nowIso })
        .thenRefuses('preauth_expired', { preauthId, expiresAt: request.expiresAt });
    }
  });
  it('given a completion requested before the expiry, when the same completion is retried after it, then nothing new is decided', () => {
    spec
      .given([requested, authorised, completionRequested(25_000n)])
      .when({
        type: 'RequestCompletion',
        preauthId,
        completionId,
        capturedMinor: 25_000n,
        nowIso: '2026-11-29T00:00:00.000Z',
      })
      .then([]);
  });
  it('given an authorisation, when completed above the hold, then it is refused', () => {
    spec
      .given([requested, authorised])
      .when({ type: 'RequestCompletion', preauthId, completionId, capturedMinor: 30_001n, nowIso: beforeExpiry })
      .thenRefuses('capture_exceeds_authorisation');
  });
  it('given a completed authorisation, when completed again, then it is refused: a completion is captured once', () => {
    spec
      .given([requested, authorised, completionRequested(10_000n), completedEvent])
      .when({
        type: 'RequestCompletion',
        preauthId,
        completionId: '0190a0a0-0000-7000-8000-0000000000dd',
        capturedMinor: 1n,
        nowIso: beforeExpiry,
      })
      .thenRefuses('operation_state_conflict');
  });
  it('given a completed authorisation, when the completion is cancelled, then the cancellation is requested for that completion', () => {
    spec
      .given([requested, authorised, completionRequested(10_000n), completedEvent])
      .when({ type: 'RequestCompletionCancellation', preauthId, cancellationId })
      .then([{ type: 'PreauthCompletionCancellationRequested', data: { preauthId, completionId, cancellationId } }]);
  });
  it('given a cancelled completion, when the same cancellation is retried, then nothing new is decided (its answer is the stream)', () => {
    spec.given(completionCancelled).when({ type: 'RequestCompletionCancellation', preauthId, cancellationId }).then([]);
  });
  it('given a cancelled completion, when completed again, then the authorisation is valid again', () => {
    const other = '0190a0a0-0000-7000-8000-0000000000ee';
    spec
      .given(completionCancelled)
      .when({ type: 'RequestCompletion', preauthId, completionId: other, capturedMinor: 30_000n, nowIso: beforeExpiry })
      .then([{ type: 'PreauthCompletionRequested', data: { preauthId, completionId: other, capturedMinor: 30_000n } }]);
  });
  it('given an authorisation, when expired before its expiry time, then it is refused', () => {
    spec
      .given([requested, authorised])
      .when({ type: 'CancelPreauth', preauthId, reason: 'expired', nowIso: '2026-11-27T23:59:59.000Z' })
      .thenRefuses('operation_state_conflict');
  });
  it('given an authorisation past its expiry, when expired, then it is cancelled', () => {
    spec
      .given([requested, authorised])
      .when({ type: 'CancelPreauth', preauthId, reason: 'expired', nowIso: '2026-11-28T00:00:01.000Z' })
      .then([{ type: 'PreauthCancelled', data: { preauthId, reason: 'expired' } }]);
  });
  it('given a completed authorisation, when cancelled, then it is refused', () => {
    spec
      .given([requested, authorised, completionRequested(1n), completedEvent])
      .when({ type: 'CancelPreauth', preauthId, reason: 'merchant', nowIso: '2026-11-21T00:00:00.000Z' })
      .thenRefuses('operation_state_conflict');
  });
});

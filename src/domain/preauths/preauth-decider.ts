import { DateTime } from 'luxon';
import { DomainError, assert } from '../shared/domain-error.js';
import type { PreauthEvent, PreauthRequested } from './preauth-events.js';
import { formatAmount } from '../money/money.js';

export type PreauthStatus =
  'requested' | 'authorised' | 'declined' | 'cancelled' | 'completing' | 'completed' | 'cancelling_completion';

export interface Completion {
  readonly completionId: string;
  readonly capturedMinor: bigint;
}

export type PreauthState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly request: PreauthRequested['data'];
      readonly status: PreauthStatus;
      /** The completion in progress or done; null while authorised without one. */
      readonly completion: Completion | null;
      /** The attempt at cancelling the completion in progress (or the last one). */
      readonly completionCancellationId: string | null;
      readonly failure: { reasonCode: string; reason: string } | null;
      readonly cancelReason: 'merchant' | 'expired' | null;
    };

export type PreauthCommand =
  | { readonly type: 'RequestPreauth'; readonly request: PreauthRequested['data'] }
  | { readonly type: 'AuthorisePreauth'; readonly preauthId: string }
  | {
      readonly type: 'DeclinePreauth';
      readonly preauthId: string;
      readonly reasonCode: string;
      readonly reason: string;
    }
  | {
      readonly type: 'CancelPreauth';
      readonly preauthId: string;
      readonly reason: 'merchant' | 'expired';
      readonly nowIso: string;
    }
  | {
      readonly type: 'RequestCompletion';
      readonly preauthId: string;
      readonly completionId: string;
      readonly capturedMinor: bigint;
      /** The command's time (its `occurredAt`): a hold past its expiry captures nothing, however late the sweep. */
      readonly nowIso: string;
    }
  | { readonly type: 'ConfirmCompletion'; readonly preauthId: string; readonly completionId: string }
  | {
      readonly type: 'FailCompletion';
      readonly preauthId: string;
      readonly completionId: string;
      readonly reasonCode: string;
      readonly reason: string;
    }
  | { readonly type: 'RequestCompletionCancellation'; readonly preauthId: string; readonly cancellationId: string }
  | { readonly type: 'ConfirmCompletionCancellation'; readonly preauthId: string; readonly completionId: string }
  | {
      readonly type: 'FailCompletionCancellation';
      readonly preauthId: string;
      readonly completionId: string;
      readonly reasonCode: string;
      readonly reason: string;
    };

export function evolvePreauth(state: PreauthState, event: PreauthEvent): PreauthState {
  if (event.type === 'PreauthRequested') {
    return {
      exists: true,
      request: event.data,
      status: 'requested',
      completion: null,
      completionCancellationId: null,
      failure: null,
      cancelReason: null,
    };
  }
  assert(state.exists, 'a pre-authorisation event follows PreauthRequested');
  switch (event.type) {
    case 'PreauthAuthorised':
      return { ...state, status: 'authorised' };
    case 'PreauthDeclined':
      return {
        ...state,
        status: 'declined',
        failure: { reasonCode: event.data.reasonCode, reason: event.data.reason },
      };
    case 'PreauthCancelled':
      return { ...state, status: 'cancelled', cancelReason: event.data.reason };
    case 'PreauthCompletionRequested':
      assert(event.data.capturedMinor <= state.request.amountMinor, 'captured never exceeds authorised (invariant 5)');
      return {
        ...state,
        status: 'completing',
        completion: { completionId: event.data.completionId, capturedMinor: event.data.capturedMinor },
      };
    case 'PreauthCompleted':
      return { ...state, status: 'completed' };
    case 'PreauthCompletionFailed':
      return {
        ...state,
        status: 'authorised',
        completion: null,
        failure: { reasonCode: event.data.reasonCode, reason: event.data.reason },
      };
    case 'PreauthCompletionCancellationRequested':
      return { ...state, status: 'cancelling_completion', completionCancellationId: event.data.cancellationId };
    case 'PreauthCompletionCancelled':
      // The authorisation is valid again, for its full amount.
      return { ...state, status: 'authorised', completion: null };
    case 'PreauthCompletionCancellationFailed':
      return {
        ...state,
        status: 'completed',
        failure: { reasonCode: event.data.reasonCode, reason: event.data.reason },
      };
  }
}

function requirePreauth(state: PreauthState, preauthId: string): Extract<PreauthState, { exists: true }> {
  if (!state.exists)
    throw new DomainError('operation_not_found', `pre-authorisation ${preauthId} does not exist`, { preauthId });
  return state;
}

/** Whether `deadlineIso` has passed at `nowIso` (instants compared in UTC, not strings: offsets may differ). */
function isPast(deadlineIso: string, nowIso: string): boolean {
  const deadline = DateTime.fromISO(deadlineIso, { zone: 'utc' });
  const now = DateTime.fromISO(nowIso, { zone: 'utc' });
  assert(deadline.isValid && now.isValid, 'deadline and command time are ISO-8601 instants');
  return now.toMillis() >= deadline.toMillis();
}

function conflict(preauthId: string, status: PreauthStatus, wanted: string): DomainError {
  return new DomainError('operation_state_conflict', `pre-authorisation ${preauthId} is ${status}; cannot ${wanted}`, {
    preauthId,
    status,
  });
}

export function decidePreauth(command: PreauthCommand, state: PreauthState): PreauthEvent[] {
  switch (command.type) {
    case 'RequestPreauth': {
      if (state.exists) {
        const same =
          state.request.amountMinor === command.request.amountMinor &&
          state.request.payerAccountId === command.request.payerAccountId &&
          state.request.payeeAccountId === command.request.payeeAccountId;
        if (same) return [];
        throw new DomainError(
          'duplicate_order_no',
          `merchant order number ${command.request.merchantOrderNo} was already used for another pre-authorisation`,
          { merchantOrderNo: command.request.merchantOrderNo },
        );
      }
      if (command.request.payerAccountId === command.request.payeeAccountId)
        throw new DomainError('same_account', 'a pre-authorisation needs two different accounts');
      return [{ type: 'PreauthRequested', data: command.request }];
    }
    case 'AuthorisePreauth':
    case 'DeclinePreauth': {
      const preauth = requirePreauth(state, command.preauthId);
      if (preauth.status !== 'requested') return [];
      return command.type === 'AuthorisePreauth'
        ? [{ type: 'PreauthAuthorised', data: { preauthId: command.preauthId } }]
        : [
            {
              type: 'PreauthDeclined',
              data: { preauthId: command.preauthId, reasonCode: command.reasonCode, reason: command.reason },
            },
          ];
    }
    case 'CancelPreauth': {
      const preauth = requirePreauth(state, command.preauthId);
      if (preauth.status === 'cancelled') return [];
      if (preauth.status !== 'authorised') throw conflict(command.preauthId, preauth.status, 'cancel it');
      if (command.reason === 'expired' && !isPast(preauth.request.expiresAt, command.nowIso))
        throw conflict(command.preauthId, preauth.status, 'expire it before its expiry time');
      return [{ type: 'PreauthCancelled', data: { preauthId: command.preauthId, reason: command.reason } }];
    }
    case 'RequestCompletion': {
      const preauth = requirePreauth(state, command.preauthId);
      if (preauth.completion?.completionId === command.completionId) return [];
      if (preauth.status !== 'authorised') throw conflict(command.preauthId, preauth.status, 'complete it');
      if (isPast(preauth.request.expiresAt, command.nowIso)) {
        throw new DomainError(
          'preauth_expired',
          `pre-authorisation ${command.preauthId} expired at ${preauth.request.expiresAt}; its hold can no longer be captured`,
          { preauthId: command.preauthId, expiresAt: preauth.request.expiresAt },
        );
      }
      if (command.capturedMinor <= 0n || command.capturedMinor > preauth.request.amountMinor) {
        throw new DomainError(
          'capture_exceeds_authorisation',
          `pre-authorisation ${command.preauthId} holds ${formatAmount(preauth.request.amountMinor, preauth.request.currency)} ${preauth.request.currency}`,
          {
            preauthId: command.preauthId,
            authorisedAmount: formatAmount(preauth.request.amountMinor, preauth.request.currency),
            currency: preauth.request.currency,
          },
        );
      }
      return [
        {
          type: 'PreauthCompletionRequested',
          data: {
            preauthId: command.preauthId,
            completionId: command.completionId,
            capturedMinor: command.capturedMinor,
          },
        },
      ];
    }
    case 'ConfirmCompletion':
    case 'FailCompletion': {
      const preauth = requirePreauth(state, command.preauthId);
      if (preauth.status !== 'completing' || preauth.completion?.completionId !== command.completionId) return [];
      return command.type === 'ConfirmCompletion'
        ? [{ type: 'PreauthCompleted', data: { preauthId: command.preauthId, completionId: command.completionId } }]
        : [
            {
              type: 'PreauthCompletionFailed',
              data: {
                preauthId: command.preauthId,
                completionId: command.completionId,
                reasonCode: command.reasonCode,
                reason: command.reason,
              },
            },
          ];
    }
    case 'RequestCompletionCancellation': {
      const preauth = requirePreauth(state, command.preauthId);
      if (preauth.status === 'cancelling_completion') return [];
      // This very cancellation already gave the capture back (a retry whose answer was lost): done, not a conflict.
      if (preauth.completionCancellationId === command.cancellationId && preauth.completion === null) return [];
      if (preauth.status !== 'completed' || !preauth.completion)
        throw conflict(command.preauthId, preauth.status, 'cancel its completion');
      return [
        {
          type: 'PreauthCompletionCancellationRequested',
          data: {
            preauthId: command.preauthId,
            completionId: preauth.completion.completionId,
            cancellationId: command.cancellationId,
          },
        },
      ];
    }
    case 'ConfirmCompletionCancellation':
    case 'FailCompletionCancellation': {
      const preauth = requirePreauth(state, command.preauthId);
      if (preauth.status !== 'cancelling_completion' || preauth.completion?.completionId !== command.completionId)
        return [];
      return command.type === 'ConfirmCompletionCancellation'
        ? [
            {
              type: 'PreauthCompletionCancelled',
              data: { preauthId: command.preauthId, completionId: command.completionId },
            },
          ]
        : [
            {
              type: 'PreauthCompletionCancellationFailed',
              data: {
                preauthId: command.preauthId,
                completionId: command.completionId,
                reasonCode: command.reasonCode,
                reason: command.reason,
              },
            },
          ];
    }
  }
}

export const preauthDecider = {
  decide: decidePreauth,
  evolve: evolvePreauth,
  initialState: (): PreauthState => ({ exists: false }),
};

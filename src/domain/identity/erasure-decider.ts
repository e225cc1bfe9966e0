import { DomainError } from '../shared/domain-error.js';
import type { ErasureEvent, UserErased } from './erasure-events.js';

/**
 * A user's erasure as an Emmett decider (`erasure-<userId>`). Requested first (recorded before anything
 * is destroyed, so an erasure that waits for a channel is on the record), then erased once the process
 * has unsigned the contracts, revoked the seeds and destroyed the data key. Both steps are idempotent:
 * the first request's operator and reason are the erasure's; asking again while it waits resumes it.
 */
export type ErasureState =
  | { readonly status: 'none' }
  | {
      readonly status: 'requested' | 'erased';
      readonly userId: string;
      readonly requestedBy: string;
      readonly reason: string;
      readonly requestedAt: string;
      readonly erased: UserErased['data'] | null;
    };

export type ErasureCommand =
  | {
      readonly type: 'RequestErasure';
      readonly userId: string;
      readonly requestedBy: string;
      readonly reason: string;
      readonly at: string;
    }
  | {
      readonly type: 'RecordErased';
      readonly userId: string;
      readonly forgotten: UserErased['data']['forgotten'];
      readonly at: string;
    };

export function initialErasureState(): ErasureState {
  return { status: 'none' };
}

export function decideErasure(command: ErasureCommand, state: ErasureState): ErasureEvent[] {
  switch (command.type) {
    case 'RequestErasure': {
      if (state.status !== 'none') return [];
      const reason = command.reason.trim();
      if (reason.length === 0 || reason.length > 500)
        throw new DomainError('erasure_reason_required', 'an erasure needs its reason (1 to 500 characters)', {});
      return [
        {
          type: 'UserErasureRequested',
          data: { userId: command.userId, requestedBy: command.requestedBy, reason, requestedAt: command.at },
        },
      ];
    }
    case 'RecordErased':
      if (state.status === 'erased') return [];
      if (state.status === 'none')
        throw new DomainError('operation_state_conflict', `no erasure of ${command.userId} was requested`, {
          userId: command.userId,
          reason: 'not_requested',
        });
      return [
        {
          type: 'UserErased',
          data: {
            userId: state.userId,
            requestedBy: state.requestedBy,
            reason: state.reason,
            forgotten: command.forgotten,
            erasedAt: command.at,
          },
        },
      ];
  }
}

export function evolveErasure(state: ErasureState, event: ErasureEvent): ErasureState {
  switch (event.type) {
    case 'UserErasureRequested':
      return { status: 'requested', ...event.data, erased: null };
    case 'UserErased':
      if (state.status === 'none') throw new DomainError('invariant_violated', 'erasure: erased before its request');
      return { ...state, status: 'erased', erased: event.data };
  }
}

export const erasureDecider = { decide: decideErasure, evolve: evolveErasure, initialState: initialErasureState };

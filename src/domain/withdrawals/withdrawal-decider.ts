import type { AwaitingChannel } from '../channels/awaiting-channel.js';
import { DomainError } from '../shared/domain-error.js';
import type { WithdrawalEvent } from './withdrawal-events.js';

type Requested = Extract<WithdrawalEvent, { type: 'WithdrawalRequested' }>['data'];
type Completed = Extract<WithdrawalEvent, { type: 'WithdrawalCompleted' }>['data'];

export type WithdrawalState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly request: Requested;
      readonly status: 'requested' | 'completed' | 'failed';
      /** The payout's answer was not final (pending, unknown): resolved by an order query. */
      readonly awaiting: AwaitingChannel | null;
      readonly payout: Completed | null;
      readonly failure: { reasonCode: string; reason: string } | null;
    };

export type WithdrawalCommand =
  | { readonly type: 'RequestWithdrawal'; readonly request: Requested }
  | { readonly type: 'AwaitWithdrawalChannel'; readonly withdrawalId: string; readonly awaiting: AwaitingChannel }
  | { readonly type: 'CompleteWithdrawal'; readonly payout: Completed }
  | {
      readonly type: 'FailWithdrawal';
      readonly withdrawalId: string;
      readonly reasonCode: string;
      readonly reason: string;
    };

export function evolveWithdrawal(state: WithdrawalState, event: WithdrawalEvent): WithdrawalState {
  switch (event.type) {
    case 'WithdrawalRequested':
      return { exists: true, request: event.data, status: 'requested', awaiting: null, payout: null, failure: null };
    case 'WithdrawalAwaitingChannel': {
      if (!state.exists) return state;
      const { withdrawalId: _id, ...awaiting } = event.data;
      return { ...state, awaiting };
    }
    case 'WithdrawalCompleted':
      return state.exists ? { ...state, status: 'completed', awaiting: null, payout: event.data } : state;
    case 'WithdrawalFailed':
      return state.exists
        ? {
            ...state,
            status: 'failed',
            awaiting: null,
            failure: { reasonCode: event.data.reasonCode, reason: event.data.reason },
          }
        : state;
  }
}

export function decideWithdrawal(command: WithdrawalCommand, state: WithdrawalState): WithdrawalEvent[] {
  switch (command.type) {
    case 'RequestWithdrawal':
      return state.exists ? [] : [{ type: 'WithdrawalRequested', data: command.request }];
    case 'AwaitWithdrawalChannel':
    case 'CompleteWithdrawal':
    case 'FailWithdrawal': {
      const id = command.type === 'CompleteWithdrawal' ? command.payout.withdrawalId : command.withdrawalId;
      if (!state.exists)
        throw new DomainError('operation_not_found', `withdrawal ${id} does not exist`, { withdrawalId: id });
      if (state.status !== 'requested') return [];
      if (command.type === 'AwaitWithdrawalChannel')
        return [{ type: 'WithdrawalAwaitingChannel', data: { withdrawalId: id, ...command.awaiting } }];
      return command.type === 'CompleteWithdrawal'
        ? [{ type: 'WithdrawalCompleted', data: command.payout }]
        : [
            {
              type: 'WithdrawalFailed',
              data: { withdrawalId: id, reasonCode: command.reasonCode, reason: command.reason },
            },
          ];
    }
  }
}

export const withdrawalDecider = {
  decide: decideWithdrawal,
  evolve: evolveWithdrawal,
  initialState: (): WithdrawalState => ({ exists: false }),
};

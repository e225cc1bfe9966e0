import { DomainError } from '../shared/domain-error.js';
import type { TransferEvent, TransferRequested } from './transfer-events.js';

export type TransferState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly request: TransferRequested['data'];
      readonly status: 'requested' | 'completed' | 'failed';
      readonly failure: { reasonCode: string; reason: string } | null;
    };

export type TransferCommand =
  | { readonly type: 'RequestTransfer'; readonly request: TransferRequested['data'] }
  | { readonly type: 'CompleteTransfer'; readonly transferId: string }
  | {
      readonly type: 'FailTransfer';
      readonly transferId: string;
      readonly reasonCode: string;
      readonly reason: string;
    };

export function evolveTransfer(state: TransferState, event: TransferEvent): TransferState {
  switch (event.type) {
    case 'TransferRequested':
      return { exists: true, request: event.data, status: 'requested', failure: null };
    case 'TransferCompleted':
      return state.exists ? { ...state, status: 'completed' } : state;
    case 'TransferFailed':
      return state.exists
        ? { ...state, status: 'failed', failure: { reasonCode: event.data.reasonCode, reason: event.data.reason } }
        : state;
  }
}

export function decideTransfer(command: TransferCommand, state: TransferState): TransferEvent[] {
  switch (command.type) {
    case 'RequestTransfer':
      if (state.exists) return [];
      if (command.request.fromAccountId === command.request.toAccountId)
        throw new DomainError('same_account', 'a transfer needs two different accounts');
      return [{ type: 'TransferRequested', data: command.request }];
    case 'CompleteTransfer':
    case 'FailTransfer': {
      if (!state.exists)
        throw new DomainError('operation_not_found', `transfer ${command.transferId} does not exist`, {
          transferId: command.transferId,
        });
      if (state.status !== 'requested') return [];
      return command.type === 'CompleteTransfer'
        ? [{ type: 'TransferCompleted', data: { transferId: command.transferId } }]
        : [
            {
              type: 'TransferFailed',
              data: { transferId: command.transferId, reasonCode: command.reasonCode, reason: command.reason },
            },
          ];
    }
  }
}

export const transferDecider = {
  decide: decideTransfer,
  evolve: evolveTransfer,
  initialState: (): TransferState => ({ exists: false }),
};

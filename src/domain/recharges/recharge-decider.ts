import { DomainError } from '../shared/domain-error.js';
import type { RechargeEvent, RechargeRequested } from './recharge-events.js';

export type RechargeState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly request: RechargeRequested['data'];
      readonly status: 'requested' | 'completed' | 'failed';
      /** The channel's reference and fee, once completed. */
      readonly charge: { readonly channelOrderNo: string; readonly channelFeeMinor: bigint } | null;
      readonly failure: {
        readonly reasonCode: string;
        readonly reason: string;
        readonly chargedAtChannel: boolean;
      } | null;
    };

export type RechargeCommand =
  | { readonly type: 'RequestRecharge'; readonly request: RechargeRequested['data'] }
  | {
      readonly type: 'CompleteRecharge';
      readonly rechargeId: string;
      readonly channelOrderNo: string;
      readonly channelFeeMinor: bigint;
    }
  | {
      readonly type: 'FailRecharge';
      readonly rechargeId: string;
      readonly reasonCode: string;
      readonly reason: string;
      readonly chargedAtChannel: boolean;
    };

export function evolveRecharge(state: RechargeState, event: RechargeEvent): RechargeState {
  switch (event.type) {
    case 'RechargeRequested':
      return { exists: true, request: event.data, status: 'requested', charge: null, failure: null };
    case 'RechargeCompleted':
      return state.exists
        ? {
            ...state,
            status: 'completed',
            charge: { channelOrderNo: event.data.channelOrderNo, channelFeeMinor: event.data.channelFeeMinor },
          }
        : state;
    case 'RechargeFailed':
      return state.exists
        ? {
            ...state,
            status: 'failed',
            failure: {
              reasonCode: event.data.reasonCode,
              reason: event.data.reason,
              chargedAtChannel: event.data.chargedAtChannel,
            },
          }
        : state;
  }
}

export function decideRechargeProcess(command: RechargeCommand, state: RechargeState): RechargeEvent[] {
  switch (command.type) {
    case 'RequestRecharge':
      return state.exists ? [] : [{ type: 'RechargeRequested', data: command.request }];
    case 'CompleteRecharge':
    case 'FailRecharge': {
      if (!state.exists)
        throw new DomainError('operation_not_found', `recharge ${command.rechargeId} does not exist`, {
          rechargeId: command.rechargeId,
        });
      if (state.status !== 'requested') return [];
      return command.type === 'CompleteRecharge'
        ? [
            {
              type: 'RechargeCompleted',
              data: {
                rechargeId: command.rechargeId,
                channelOrderNo: command.channelOrderNo,
                channelFeeMinor: command.channelFeeMinor,
              },
            },
          ]
        : [
            {
              type: 'RechargeFailed',
              data: {
                rechargeId: command.rechargeId,
                reasonCode: command.reasonCode,
                reason: command.reason,
                chargedAtChannel: command.chargedAtChannel,
              },
            },
          ];
    }
  }
}

export const rechargeDecider = {
  decide: decideRechargeProcess,
  evolve: evolveRecharge,
  initialState: (): RechargeState => ({ exists: false }),
};

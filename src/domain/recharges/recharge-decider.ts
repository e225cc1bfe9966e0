import type { AwaitingChannel } from '../channels/awaiting-channel.js';
import { DomainError } from '../shared/domain-error.js';
import type { RechargeEvent, RechargeRequested } from './recharge-events.js';

type Routed = Extract<RechargeEvent, { type: 'RechargeRouted' }>['data'];

export type RechargeState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly request: RechargeRequested['data'];
      /** The channel the charge goes to: the request's, or the last `RechargeRouted`'s. */
      readonly channel: string;
      /** The decision that chose `channel`: null for recharges recorded before routing. */
      readonly routing: Routed['routing'] | null;
      /** The channels routed away from (they accepted nothing), oldest first. */
      readonly routedAway: readonly string[];
      readonly status: 'requested' | 'completed' | 'failed';
      /** The channel's answer was not final (pending, unknown): resolved by an order query. */
      readonly awaiting: AwaitingChannel | null;
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
  | { readonly type: 'RouteRecharge'; readonly routed: Routed }
  | { readonly type: 'AwaitRechargeChannel'; readonly rechargeId: string; readonly awaiting: AwaitingChannel }
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
      return {
        exists: true,
        request: event.data,
        channel: event.data.channel,
        routing: event.data.routing ?? null,
        routedAway: [],
        status: 'requested',
        awaiting: null,
        charge: null,
        failure: null,
      };
    case 'RechargeRouted':
      return state.exists
        ? {
            ...state,
            channel: event.data.channel,
            routing: event.data.routing,
            routedAway: [...state.routedAway, event.data.fromChannel],
            awaiting: null,
          }
        : state;
    case 'RechargeAwaitingChannel': {
      if (!state.exists) return state;
      const { rechargeId: _id, ...awaiting } = event.data;
      return { ...state, awaiting };
    }
    case 'RechargeCompleted':
      return state.exists
        ? {
            ...state,
            status: 'completed',
            awaiting: null,
            charge: { channelOrderNo: event.data.channelOrderNo, channelFeeMinor: event.data.channelFeeMinor },
          }
        : state;
    case 'RechargeFeeAnomalyRecorded':
      // A fact for review: the recharge is what RechargeCompleted made it.
      return state;
    case 'RechargeFailed':
      return state.exists
        ? {
            ...state,
            status: 'failed',
            awaiting: null,
            failure: {
              reasonCode: event.data.reasonCode,
              reason: event.data.reason,
              chargedAtChannel: event.data.chargedAtChannel,
            },
          }
        : state;
  }
}

function idOf(command: Exclude<RechargeCommand, { type: 'RequestRecharge' }>): string {
  return command.type === 'RouteRecharge' ? command.routed.rechargeId : command.rechargeId;
}

export function decideRechargeProcess(command: RechargeCommand, state: RechargeState): RechargeEvent[] {
  if (command.type === 'RequestRecharge')
    return state.exists ? [] : [{ type: 'RechargeRequested', data: command.request }];
  const rechargeId = idOf(command);
  if (!state.exists)
    throw new DomainError('operation_not_found', `recharge ${rechargeId} does not exist`, { rechargeId });
  if (state.status !== 'requested') return [];
  switch (command.type) {
    case 'RouteRecharge':
      // Routed away once from a channel: a retry of the same step (same decision) records nothing more.
      return command.routed.fromChannel === state.channel && command.routed.channel !== state.channel
        ? [{ type: 'RechargeRouted', data: command.routed }]
        : [];
    case 'AwaitRechargeChannel':
      if (command.awaiting.channel !== state.channel)
        throw new DomainError('operation_state_conflict', `recharge ${rechargeId} is routed to ${state.channel}`, {
          rechargeId,
        });
      return [{ type: 'RechargeAwaitingChannel', data: { rechargeId, ...command.awaiting } }];
    case 'CompleteRecharge': {
      const completed: RechargeEvent[] = [
        {
          type: 'RechargeCompleted',
          data: { rechargeId, channelOrderNo: command.channelOrderNo, channelFeeMinor: command.channelFeeMinor },
        },
      ];
      const { amountMinor, currency } = state.request;
      if (command.channelFeeMinor > amountMinor)
        completed.push({
          type: 'RechargeFeeAnomalyRecorded',
          data: {
            rechargeId,
            channel: state.channel,
            amountMinor,
            currency,
            reportedFeeMinor: command.channelFeeMinor,
          },
        });
      return completed;
    }
    case 'FailRecharge':
      return [
        {
          type: 'RechargeFailed',
          data: {
            rechargeId,
            reasonCode: command.reasonCode,
            reason: command.reason,
            chargedAtChannel: command.chargedAtChannel,
          },
        },
      ];
  }
}

export const rechargeDecider = {
  decide: decideRechargeProcess,
  evolve: evolveRecharge,
  initialState: (): RechargeState => ({ exists: false }),
};

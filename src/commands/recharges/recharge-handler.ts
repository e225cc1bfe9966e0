import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import type { Money } from '../../domain/money/money.js';
import type { RechargeCommand, RechargeState } from '../../domain/recharges/recharge-decider.js';
import type { RechargeEvent } from '../../domain/recharges/recharge-events.js';
import { decideRecharge } from '../../domain/recharges/recharge.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type { PaymentChannel } from '../../ports/payment-channel.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  loadAccount,
  maxPosition,
  requireExisting,
  runAccountStep,
  resumptionOf,
  stepContext,
  type OperationDeps,
} from '../operations/operation-steps.js';
import type { StreamCommandHandler } from '../stream-command-handler.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import { OneCommitUnsuitableError, type CommitPlan } from '../one-commit.js';
import type { ChannelChargeOutcome } from '../../ports/payment-channel.js';

export type RechargeHandler = StreamCommandHandler<RechargeCommand, RechargeEvent, RechargeState>;
export type ExistingRecharge = Extract<RechargeState, { exists: true }>;

export interface RechargeDeps extends OperationDeps {
  readonly recharges: RechargeHandler;
  readonly channels: ReadonlyMap<string, PaymentChannel>;
}

export interface RechargeRequest {
  readonly accountId: string;
  readonly amount: Money;
  readonly channelId: string;
}

export interface RechargeOutcome {
  readonly recharge: ExistingRecharge;
  /** Position to wait for to read the new balance. */
  readonly position: bigint;
}

export function rechargeStreamId(rechargeId: string): string {
  return `recharge-${rechargeId}`;
}

/**
 * A recharge: check the account can take it, record the request, charge the payer through the channel
 * under our recharge id (channels are idempotent by order number), credit the account, complete. The
 * request is on disk before any card is charged, so a crash anywhere after it is resumed (by a retry or
 * the recovery sweep) and the credit is recorded once. A declined charge fails the recharge; a credit the
 * account refuses after the charge (its status changed meanwhile) fails it as "charged at the channel",
 * for reconciliation to refund.
 */
export async function rechargeAccount(
  deps: RechargeDeps,
  request: RechargeRequest,
  context: CommandContext,
): Promise<RechargeOutcome> {
  const channel = deps.channels.get(request.channelId);
  if (!channel)
    throw new DomainError('unknown_channel', `no payment channel "${request.channelId}"`, {
      channel: request.channelId,
    });
  const rechargeId = deriveId(context.operationKey, 'recharge');
  const streamId = rechargeStreamId(rechargeId);
  const existing = await deps.recharges.load(streamId);
  let position = -1n;
  let resuming = true;
  if (!existing.state.exists) {
    const account = await loadAccount(deps, request.accountId);
    checkRechargeable(rechargeId, account, request, channel.id);
    const requested = await deps.recharges.handle(
      streamId,
      { type: 'RequestRecharge', request: rechargeRequestOf(rechargeId, account.accountId, request, channel.id) },
      stepContext(context, rechargeId, 'request'),
    );
    position = requested.position;
    resuming = requested.events.length === 0;
  }
  const driven = await driveRecharge(deps, rechargeId, context, resuming);
  return { ...driven, position: maxPosition(position, driven.position) };
}

/**
 * A new recharge in two commits (src/commands/one-commit.ts), with the same commands, checks and derived
 * ids as `rechargeAccount` and `driveRecharge`: first the request (checked on the account), durable before
 * any card is charged; then, after the charge, the credit and the completion (or the failure) together.
 * A crash between the two leaves a requested recharge, which a retry or the recovery sweep resumes as a
 * process. Null when the process must answer (an unknown channel, refused there).
 */
export function rechargeInTwoCommits(
  deps: RechargeDeps,
  request: RechargeRequest,
  context: CommandContext,
): { request: CommitPlan<void>; finish: () => Promise<CommitPlan<ExistingRecharge>> } | null {
  const channel = deps.channels.get(request.channelId);
  if (!channel) return null;
  const rechargeId = deriveId(context.operationKey, 'recharge');
  const streamId = rechargeStreamId(rechargeId);
  const accountStream = accountStreamId(request.accountId);
  const requested: CommitPlan<void> = {
    streams: [
      { handler: deps.recharges, streamId, expectNew: true },
      { handler: deps.accounts, streamId: accountStream },
    ],
    positionStream: streamId,
    decide: (decisions) => {
      if (decisions.state(deps.recharges, streamId).exists) throw new OneCommitUnsuitableError('the recharge exists');
      const account = requireExisting(decisions.state(deps.accounts, accountStream), request.accountId);
      checkRechargeable(rechargeId, account, request, channel.id);
      decisions.decide(
        deps.recharges,
        streamId,
        { type: 'RequestRecharge', request: rechargeRequestOf(rechargeId, account.accountId, request, channel.id) },
        stepContext(context, rechargeId, 'request'),
      );
    },
  };
  const finish = async (): Promise<CommitPlan<ExistingRecharge>> => {
    const charged = await channel.charge({ orderNo: rechargeId, amount: request.amount, payerReference: null });
    return {
      streams: [
        { handler: deps.recharges, streamId },
        { handler: deps.accounts, streamId: accountStream },
      ],
      positionStream: streamId,
      decide: (decisions) => {
        const state = decisions.state(deps.recharges, streamId);
        assert(state.exists, 'the recharge was requested in the first commit');
        // Finished meanwhile (the recovery sweep): the answer is the stream's.
        if (state.status !== 'requested') return state;
        const failWith = (error: DomainError, chargedAtChannel: boolean): never => {
          decisions.decide(
            deps.recharges,
            streamId,
            { type: 'FailRecharge', rechargeId, reasonCode: error.code, reason: error.message, chargedAtChannel },
            stepContext(context, rechargeId, 'fail'),
          );
          throw error;
        };
        if (charged.status === 'declined') return failWith(declined(channel.id, charged), false);
        try {
          decisions.decide(
            deps.accounts,
            accountStream,
            {
              type: 'RechargeAccount',
              rechargeId,
              accountId: request.accountId,
              amount: request.amount,
              channel: channel.id,
              channelOrderNo: charged.channelOrderNo,
              channelFeeMinor: charged.feeMinor,
            },
            stepContext(context, rechargeId, 'credit'),
          );
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          decisions.confirmRefusal();
          return failWith(error, true);
        }
        const done = decisions.decide(
          deps.recharges,
          streamId,
          {
            type: 'CompleteRecharge',
            rechargeId,
            channelOrderNo: charged.channelOrderNo,
            channelFeeMinor: charged.feeMinor,
          },
          stepContext(context, rechargeId, 'complete'),
        );
        assert(done.state.exists, 'a completed recharge exists');
        return done.state;
      },
    };
  };
  return { request: requested, finish };
}

/** Checks the account before charging anyone's card: a refused recharge moves no external money. */
function checkRechargeable(
  rechargeId: string,
  account: OpenAccountState,
  request: RechargeRequest,
  channelId: string,
): void {
  decideRecharge(
    {
      rechargeId,
      accountId: account.accountId,
      amount: request.amount,
      channel: channelId,
      channelOrderNo: 'not-yet-charged',
      channelFeeMinor: 0n,
    },
    account,
  );
}

function rechargeRequestOf(rechargeId: string, accountId: string, request: RechargeRequest, channelId: string) {
  return {
    rechargeId,
    accountId,
    amountMinor: request.amount.amountMinor,
    currency: request.amount.currency,
    channel: channelId,
  };
}

function declined(channelId: string, charged: Extract<ChannelChargeOutcome, { status: 'declined' }>): DomainError {
  return new DomainError('channel_declined', `${channelId} declined the charge: ${charged.channelErrorMessage}`, {
    channel: channelId,
    channelErrorCode: charged.channelErrorCode,
  });
}

/** Takes a requested recharge to its end; safe to call again at any point (a retry, a resume after a crash). */
export async function driveRecharge(
  deps: RechargeDeps,
  rechargeId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<RechargeOutcome> {
  const streamId = rechargeStreamId(rechargeId);
  const { state, position: streamPosition } = await deps.recharges.load(streamId);
  if (!state.exists)
    throw new DomainError('operation_not_found', `recharge ${rechargeId} does not exist`, { rechargeId });
  const r = state.request;
  // Already finished (by an earlier run or the recovery sweep): the answer is the stream's, up to its end.
  if (state.status !== 'requested') return { recharge: state, position: streamPosition };
  const channel = deps.channels.get(r.channel);
  if (!channel) throw new DomainError('unknown_channel', `no payment channel "${r.channel}"`, { channel: r.channel });
  const amount = { amountMinor: r.amountMinor, currency: r.currency };
  const charged = await channel.charge({ orderNo: rechargeId, amount, payerReference: null });
  if (charged.status === 'declined') {
    return fail(deps, rechargeId, context, declined(channel.id, charged), false);
  }
  const credited = await runAccountStep(
    deps,
    r.accountId,
    {
      type: 'RechargeAccount',
      rechargeId,
      accountId: r.accountId,
      amount,
      channel: channel.id,
      channelOrderNo: charged.channelOrderNo,
      channelFeeMinor: charged.feeMinor,
    },
    stepContext(context, rechargeId, 'credit'),
    resumptionOf(resuming, streamId),
  );
  if (!credited.ok) return fail(deps, rechargeId, context, credited.error, true);
  const done = await deps.recharges.handle(
    streamId,
    { type: 'CompleteRecharge', rechargeId, channelOrderNo: charged.channelOrderNo, channelFeeMinor: charged.feeMinor },
    stepContext(context, rechargeId, 'complete'),
  );
  return { recharge: done.state as ExistingRecharge, position: maxPosition(credited.position, done.position) };
}

async function fail(
  deps: RechargeDeps,
  rechargeId: string,
  context: CommandContext,
  error: DomainError,
  chargedAtChannel: boolean,
): Promise<never> {
  await deps.recharges.handle(
    rechargeStreamId(rechargeId),
    { type: 'FailRecharge', rechargeId, reasonCode: error.code, reason: error.message, chargedAtChannel },
    stepContext(context, rechargeId, 'fail'),
  );
  throw error;
}

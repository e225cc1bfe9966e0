import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import { queryDue } from '../../domain/channels/awaiting-channel.js';
import {
  chargeInstrumentAt,
  channelsHolding,
  choiceOf,
  type PayerInstrument,
} from '../../domain/channels/payer-instrument.js';
import type { RoutingDecision, RoutingRequest } from '../../domain/channels/routing.js';
import type { Money } from '../../domain/money/money.js';
import type { RechargeCommand, RechargeState } from '../../domain/recharges/recharge-decider.js';
import type { RechargeEvent } from '../../domain/recharges/recharge-events.js';
import { decideRecharge } from '../../domain/recharges/recharge.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
import type { ChannelGateway } from '../channels/channel-gateway.js';
import {
  awaitingOf,
  queryOpenOrder,
  resultOfAnswer,
  routeOrRefuse,
  type OrderResult,
} from '../channels/channel-orders.js';
import { deriveId, type CommandContext } from '../command-context.js';
import { OneCommitUnsuitableError, type CommitPlan, type OneCommitDecisions } from '../one-commit.js';
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

export type RechargeHandler = StreamCommandHandler<RechargeCommand, RechargeEvent, RechargeState>;
export type ExistingRecharge = Extract<RechargeState, { exists: true }>;

export interface RechargeDeps extends OperationDeps {
  readonly recharges: RechargeHandler;
  readonly gateway: ChannelGateway;
}

export interface RechargeRequest {
  readonly accountId: string;
  readonly amount: Money;
  /** How the payer pays: the router chooses the channel among those that can carry it. */
  readonly payer: PayerInstrument;
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
 * A recharge: check the account can take it, route it (the decision and its inputs recorded with the
 * request), charge the payer through the chosen channel under our recharge id (channels are idempotent
 * by order number), credit the account, complete. The request is on disk before any card is charged, so
 * a crash anywhere after it is resumed (by a retry or the recovery sweep) and the credit is recorded
 * once. A channel that accepted nothing is routed away from (a new recorded decision); a declined charge
 * fails the recharge; an answer that is not final (pending, unknown) is recorded and resolved by asking
 * the channel for the order, never by charging again. A credit the account refuses after the charge (its
 * status changed meanwhile) fails it as "charged at the channel", for reconciliation to refund.
 */
export async function rechargeAccount(
  deps: RechargeDeps,
  request: RechargeRequest,
  context: CommandContext,
): Promise<RechargeOutcome> {
  const rechargeId = deriveId(context.operationKey, 'recharge');
  const streamId = rechargeStreamId(rechargeId);
  const existing = await deps.recharges.load(streamId);
  let position = -1n;
  let resuming = true;
  if (!existing.state.exists) {
    const account = await loadAccount(deps, request.accountId);
    checkRechargeable(rechargeId, account, request);
    const routing = routeRecharge(deps.gateway, request);
    const requested = await deps.recharges.handle(
      streamId,
      { type: 'RequestRecharge', request: rechargeRequestOf(rechargeId, account.accountId, request, routing) },
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
 * ids as `rechargeAccount` and `driveRecharge`: first the request (checked on the account, routed), durable
 * before any card is charged; then, after the channel's answer, the credit and the completion (or the
 * failure, or the note that the answer is not final) together. Routing away from a channel that accepted
 * nothing is recorded on its own before the next channel is called, as the process does. A crash between
 * the commits leaves a requested recharge, which a retry or the recovery sweep resumes as a process.
 * Null when the process must answer (no channel can take it: refused there).
 */
export function rechargeInTwoCommits(
  deps: RechargeDeps,
  request: RechargeRequest,
  context: CommandContext,
): { request: CommitPlan<void>; finish: () => Promise<CommitPlan<ExistingRecharge>> } | null {
  let routing: RoutingDecision;
  try {
    routing = routeRecharge(deps.gateway, request);
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
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
      checkRechargeable(rechargeId, account, request);
      decisions.decide(
        deps.recharges,
        streamId,
        { type: 'RequestRecharge', request: rechargeRequestOf(rechargeId, account.accountId, request, routing) },
        stepContext(context, rechargeId, 'request'),
      );
    },
  };
  const finish = async (): Promise<CommitPlan<ExistingRecharge>> => {
    const { state } = await deps.recharges.load(streamId);
    assert(state.exists, 'the recharge was requested in the first commit');
    const charged = state.status === 'requested' ? await chargeRouted(deps, state, context) : null;
    return {
      streams: [
        { handler: deps.recharges, streamId },
        { handler: deps.accounts, streamId: accountStream },
      ],
      positionStream: streamId,
      decide: (decisions) => {
        const now = decisions.state(deps.recharges, streamId);
        assert(now.exists, 'the recharge was requested in the first commit');
        // Finished meanwhile (the recovery sweep): the answer is the stream's.
        if (now.status !== 'requested' || !charged || now.channel !== charged.channel || now.awaiting) return now;
        return finishInOneCommit(deps, decisions, now, charged.result, context);
      },
    };
  };
  return { request: requested, finish };
}

function finishInOneCommit(
  deps: RechargeDeps,
  decisions: OneCommitDecisions,
  state: ExistingRecharge,
  result: OrderResult,
  context: CommandContext,
): ExistingRecharge {
  const { rechargeId, accountId } = state.request;
  const streamId = rechargeStreamId(rechargeId);
  const decideRechargeStep = (command: RechargeCommand, step: string) => {
    const done = decisions.decide(deps.recharges, streamId, command, stepContext(context, rechargeId, step));
    assert(done.state.exists, 'a recharge being finished exists');
    return done.state;
  };
  const failWith = (error: DomainError, chargedAtChannel: boolean): never => {
    decideRechargeStep(failCommand(rechargeId, error, chargedAtChannel), 'fail');
    throw error;
  };
  if (result.kind === 'refused') return failWith(result.error, false);
  if (result.kind === 'open') {
    const command = awaitCommand(state, result, context);
    return decideRechargeStep(command, awaitStep(command));
  }
  try {
    decisions.decide(
      deps.accounts,
      accountStreamId(accountId),
      creditCommand(state, result),
      stepContext(context, rechargeId, 'credit'),
    );
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    decisions.confirmRefusal();
    return failWith(error, true);
  }
  return decideRechargeStep(completeCommand(rechargeId, result), 'complete');
}

/** The routing request of a recharge: a charge of the amount by the payer's choice. */
function routeRecharge(gateway: ChannelGateway, request: RechargeRequest, tried: readonly string[] = []) {
  const routed: RoutingRequest = { operation: 'charge', choice: choiceOf(request.payer), amount: request.amount };
  return routeOrRefuse(gateway, routed, channelsHolding(request.payer), tried);
}

/** Checks the account before charging anyone's card: a refused recharge moves no external money. */
function checkRechargeable(rechargeId: string, account: OpenAccountState, request: RechargeRequest): void {
  decideRecharge(
    {
      rechargeId,
      accountId: account.accountId,
      amount: request.amount,
      channel: 'not-yet-routed',
      channelOrderNo: 'not-yet-charged',
      channelFeeMinor: 0n,
    },
    account,
  );
}

function rechargeRequestOf(rechargeId: string, accountId: string, request: RechargeRequest, routing: RoutingDecision) {
  assert(routing.chosen !== null, 'a recorded routing decision chose a channel');
  return {
    rechargeId,
    accountId,
    amountMinor: request.amount.amountMinor,
    currency: request.amount.currency,
    channel: routing.chosen,
    instrument: request.payer,
    routing,
  };
}

function amountOf(state: ExistingRecharge): Money {
  return { amountMinor: state.request.amountMinor, currency: state.request.currency };
}

/**
 * Charges the payer at the recharge's channel; a channel that accepted nothing (`unavailable`) is routed
 * away from, the new decision recorded before the next channel is called (so a resume after a crash asks
 * the channel that was called), until one answers or none is left (`channel_unavailable`). Bounded by
 * the number of channels the instrument can go through. Null when the stream moved on meanwhile (a
 * concurrent resume routed or finished it): its state is the answer.
 */
async function chargeRouted(
  deps: RechargeDeps,
  initial: ExistingRecharge,
  context: CommandContext,
): Promise<{ channel: string; result: OrderResult } | null> {
  let state = initial;
  const { rechargeId } = state.request;
  const instrument = state.request.instrument;
  // Channels an earlier run routed away from stay tried: a resume does not go back to them.
  const tried: string[] = [...state.routedAway];
  for (;;) {
    const channelInstrument = instrument ? chargeInstrumentAt(instrument, state.channel) : null;
    if (!channelInstrument || !deps.gateway.port(state.channel)) {
      // A recharge recorded before routing (its channel retired) or a contract at a channel we no longer have.
      const error = new DomainError('unknown_channel', `no payment channel "${state.channel}" for this recharge`, {
        channel: state.channel,
      });
      return { channel: state.channel, result: { kind: 'refused', error } };
    }
    const channel = state.channel;
    const answer = await deps.gateway.call(channel, (port, options) =>
      port.charge(
        {
          orderNo: rechargeId,
          amount: amountOf(state),
          instrument: channelInstrument,
          notifyUrl: deps.gateway.notifyUrl(channel),
          description: 'wallet recharge',
        },
        options,
      ),
    );
    if (answer.status !== 'unavailable') {
      const result = resultOfAnswer(channel, 'charge', answer);
      if (result.kind === 'done' || (result.kind === 'open' && result.outcome === 'pending'))
        deps.gateway.noteUsage(channel, 'charge', amountOf(state));
      return { channel, result };
    }
    tried.push(channel);
    let routing: RoutingDecision;
    try {
      routing = routeRecharge(deps.gateway, { ...state.request, amount: amountOf(state), payer: instrument! }, tried);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return { channel, result: { kind: 'refused', error } };
    }
    const routed = await deps.recharges.handle(
      rechargeStreamId(rechargeId),
      { type: 'RouteRecharge', routed: { rechargeId, fromChannel: channel, channel: routing.chosen!, routing } },
      stepContext(context, rechargeId, `route-${tried.length}`),
    );
    assert(routed.state.exists, 'a routed recharge exists');
    // Finished or routed meanwhile (a concurrent resume): the stream's state decides what is next.
    if (routed.state.status !== 'requested' || routed.state.awaiting || routed.state.channel !== routing.chosen)
      return null;
    state = routed.state;
  }
}

function creditCommand(state: ExistingRecharge, done: Extract<OrderResult, { kind: 'done' }>) {
  return {
    type: 'RechargeAccount' as const,
    rechargeId: state.request.rechargeId,
    accountId: state.request.accountId,
    amount: amountOf(state),
    channel: state.channel,
    channelOrderNo: done.channelOrderNo,
    channelFeeMinor: done.feeMinor,
  };
}

function completeCommand(rechargeId: string, done: Extract<OrderResult, { kind: 'done' }>): RechargeCommand {
  return { type: 'CompleteRecharge', rechargeId, channelOrderNo: done.channelOrderNo, channelFeeMinor: done.feeMinor };
}

function failCommand(rechargeId: string, error: DomainError, chargedAtChannel: boolean): RechargeCommand {
  return { type: 'FailRecharge', rechargeId, reasonCode: error.code, reason: error.message, chargedAtChannel };
}

function awaitCommand(
  state: ExistingRecharge,
  open: Extract<OrderResult, { kind: 'open' }>,
  context: CommandContext,
): RechargeCommand {
  const queries = state.awaiting ? state.awaiting.queries + 1 : 0;
  return {
    type: 'AwaitRechargeChannel',
    rechargeId: state.request.rechargeId,
    awaiting: awaitingOf(state.channel, open, queries, context.occurredAt),
  };
}

/** Each note of an open answer is its own step (by the count of queries made): each is recorded once. */
function awaitStep(command: RechargeCommand): string {
  assert(command.type === 'AwaitRechargeChannel', 'an await step notes an open answer');
  return `await-${command.awaiting.queries}`;
}

/**
 * Takes a requested recharge as far as it can go now; safe to call again at any point (a retry, a resume
 * after a crash). One whose channel answer was not final is asked about (an order query) once its next
 * query is due, or at once with `forceQuery` (a client asking for it): never charged again.
 */
export async function driveRecharge(
  deps: RechargeDeps,
  rechargeId: string,
  context: CommandContext,
  resuming: boolean,
  forceQuery = false,
): Promise<RechargeOutcome> {
  const streamId = rechargeStreamId(rechargeId);
  const { state, position: streamPosition } = await deps.recharges.load(streamId);
  if (!state.exists)
    throw new DomainError('operation_not_found', `recharge ${rechargeId} does not exist`, { rechargeId });
  // Already finished (by an earlier run or the recovery sweep): the answer is the stream's, up to its end.
  if (state.status !== 'requested') return { recharge: state, position: streamPosition };
  let charged: { channel: string; result: OrderResult } | null;
  if (state.awaiting) {
    if (!queryDue(state.awaiting, context.occurredAt, forceQuery)) return { recharge: state, position: streamPosition };
    charged = {
      channel: state.channel,
      result: await queryOpenOrder(deps.gateway, 'charge', rechargeId, state.awaiting),
    };
  } else {
    charged = await chargeRouted(deps, state, context);
  }
  const { state: current } = await deps.recharges.load(streamId);
  assert(current.exists, 'a requested recharge exists');
  if (!charged || current.status !== 'requested' || current.channel !== charged.channel)
    return { recharge: current, position: streamPosition };
  const result = charged.result;
  if (result.kind === 'refused') return fail(deps, rechargeId, context, result.error, false);
  if (result.kind === 'open') {
    const command = awaitCommand(current, result, context);
    const noted = await deps.recharges.handle(streamId, command, stepContext(context, rechargeId, awaitStep(command)));
    return { recharge: noted.state as ExistingRecharge, position: maxPosition(streamPosition, noted.position) };
  }
  const credited = await runAccountStep(
    deps,
    current.request.accountId,
    creditCommand(current, result),
    stepContext(context, rechargeId, 'credit'),
    resumptionOf(resuming, streamId),
  );
  if (!credited.ok) return fail(deps, rechargeId, context, credited.error, true);
  const done = await deps.recharges.handle(
    streamId,
    completeCommand(rechargeId, result),
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
    failCommand(rechargeId, error, chargedAtChannel),
    stepContext(context, rechargeId, 'fail'),
  );
  throw error;
}

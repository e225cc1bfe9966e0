import { decideDebit } from '../../domain/accounts/movements.js';
import { queryDue } from '../../domain/channels/awaiting-channel.js';
import { contractAt, payoutChoiceOf, type BoundCard } from '../../domain/channels/payer-instrument.js';
import type { RoutingDecision } from '../../domain/channels/routing.js';
import type { Money } from '../../domain/money/money.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type { WithdrawalCommand, WithdrawalState } from '../../domain/withdrawals/withdrawal-decider.js';
import type { WithdrawalEvent } from '../../domain/withdrawals/withdrawal-events.js';
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

export type WithdrawalHandler = StreamCommandHandler<WithdrawalCommand, WithdrawalEvent, WithdrawalState>;
export type ExistingWithdrawal = Extract<WithdrawalState, { exists: true }>;

export interface WithdrawalDeps extends OperationDeps {
  readonly withdrawals: WithdrawalHandler;
  readonly gateway: ChannelGateway;
}

export interface WithdrawalRequest {
  readonly accountId: string;
  readonly amount: Money;
  /** The payee's bound card: paid out through one of the channels holding its contract. */
  readonly payee: BoundCard;
}

export function withdrawalStreamId(withdrawalId: string): string {
  return `withdrawal-${withdrawalId}`;
}

/**
 * Wallet -> the payee's bound card: route the payout among the channels holding the card's contract (the
 * decision and its inputs recorded with the request) -> debit the wallet -> pay out through the chosen
 * channel (idempotent by our withdrawal id) -> completed. A declined payout, or a channel that accepted
 * nothing, credits the wallet back and fails. An answer that is not final (pending, unknown) leaves the
 * withdrawal requested with the wallet debited, noted, and resolved by asking the channel for the order:
 * never paid out twice.
 */
export async function withdraw(
  deps: WithdrawalDeps,
  request: WithdrawalRequest,
  context: CommandContext,
): Promise<{ withdrawal: ExistingWithdrawal; position: bigint }> {
  const withdrawalId = deriveId(context.operationKey, 'withdrawal');
  const streamId = withdrawalStreamId(withdrawalId);
  const existing = await deps.withdrawals.load(streamId);
  let position = -1n;
  let resuming = true;
  if (!existing.state.exists) {
    const account = await loadAccount(deps, request.accountId);
    decideDebit(
      { ...withdrawalMovement(withdrawalId, request.amount, 'not-yet-routed'), accountId: account.accountId },
      account,
    );
    const routing = routePayout(deps.gateway, request);
    const requested = await deps.withdrawals.handle(
      streamId,
      requestCommand(withdrawalId, account.accountId, request, routing),
      stepContext(context, withdrawalId, 'request'),
    );
    position = requested.position;
    resuming = requested.events.length === 0;
  }
  const driven = await driveWithdrawal(deps, withdrawalId, context, resuming);
  return { withdrawal: driven.withdrawal, position: maxPosition(position, driven.position) };
}

function routePayout(gateway: ChannelGateway, request: WithdrawalRequest): RoutingDecision {
  return routeOrRefuse(
    gateway,
    { operation: 'payout', choice: payoutChoiceOf(request.payee), amount: request.amount },
    request.payee.contracts.map((c) => c.channelId),
  );
}

function requestCommand(
  withdrawalId: string,
  accountId: string,
  request: WithdrawalRequest,
  routing: RoutingDecision,
): WithdrawalCommand {
  const channel = routing.chosen;
  assert(channel !== null, 'a recorded routing decision chose a channel');
  const contractNo = contractAt(request.payee, channel);
  assert(contractNo !== null, 'the payout is routed among the channels holding the card');
  return {
    type: 'RequestWithdrawal',
    request: {
      withdrawalId,
      accountId,
      amountMinor: request.amount.amountMinor,
      currency: request.amount.currency,
      channel,
      payeeReference: contractNo,
      payee: request.payee,
      routing,
    },
  };
}

/**
 * A new withdrawal in two commits (src/commands/one-commit.ts), with the same commands, checks and derived
 * event ids as `withdraw` and `driveWithdrawal`: first the request and the wallet's debit (with the key's
 * claim), durable before the payout is sent; then, after the payout, its completion, its note when the
 * answer is not final, or the debit's reversal and the failure, with the answer. A withdrawal that exists
 * already, or one no channel can take, is the process's to answer (null or OneCommitUnsuitableError).
 */
export function withdrawalInTwoCommits(
  deps: WithdrawalDeps,
  request: WithdrawalRequest,
  context: CommandContext,
): { request: CommitPlan<void>; finish: () => Promise<CommitPlan<ExistingWithdrawal>> } | null {
  let routing: RoutingDecision;
  try {
    routing = routePayout(deps.gateway, request);
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
  const withdrawalId = deriveId(context.operationKey, 'withdrawal');
  const streamId = withdrawalStreamId(withdrawalId);
  const accountStream = accountStreamId(request.accountId);
  const command = requestCommand(withdrawalId, request.accountId, request, routing);
  assert(command.type === 'RequestWithdrawal', 'a withdrawal starts with its request');
  const movement = withdrawalMovement(withdrawalId, request.amount, command.request.channel);
  const streams = [
    { handler: deps.withdrawals, streamId },
    { handler: deps.accounts, streamId: accountStream },
  ];
  const requested: CommitPlan<void> = {
    streams: [{ ...streams[0]!, expectNew: true }, streams[1]!],
    positionStream: streamId,
    decide: (decisions) => {
      if (decisions.state(deps.withdrawals, streamId).exists)
        throw new OneCommitUnsuitableError('the withdrawal exists');
      const account = requireExisting(decisions.state(deps.accounts, accountStream), request.accountId);
      // Checked before anything is decided, as the process checks it: a refusal records nothing.
      decideDebit({ ...movement, accountId: account.accountId }, account);
      decisions.decide(deps.withdrawals, streamId, command, stepContext(context, withdrawalId, 'request'));
      decisions.decide(
        deps.accounts,
        accountStream,
        { type: 'DebitAccount', ...movement, accountId: account.accountId },
        stepContext(context, withdrawalId, 'debit'),
      );
    },
  };
  const finish = async (): Promise<CommitPlan<ExistingWithdrawal>> => {
    const result = await payOut(deps, withdrawalId, command.request);
    return {
      streams,
      positionStream: streamId,
      decide: (decisions: OneCommitDecisions) => {
        const state = decisions.state(deps.withdrawals, streamId);
        assert(state.exists, 'the withdrawal was requested in the first commit');
        // Finished meanwhile (a resume by the process): the answer is the stream's.
        if (state.status !== 'requested' || state.awaiting) return state;
        const decideStep = (next: WithdrawalCommand, step: string) => {
          const done = decisions.decide(deps.withdrawals, streamId, next, stepContext(context, withdrawalId, step));
          assert(done.state.exists, 'a finished withdrawal exists');
          return done.state;
        };
        if (result.kind === 'refused')
          creditBack(() =>
            decisions.decide(
              deps.accounts,
              accountStream,
              reversalCommand(state, result.error),
              stepContext(context, withdrawalId, 'reverse-debit'),
            ),
          );
        const next = finishCommand(state, result, context);
        return decideStep(next, stepOf(next));
      },
    };
  };
  return { request: requested, finish };
}

/**
 * The debit's reversal after a payout that did not happen. It cannot be refused (reversals pass any status
 * but closed, and a closed account holds no money); if it were, it is a bug, not the withdrawal's answer.
 */
function creditBack(decide: () => unknown): void {
  try {
    decide();
  } catch (error) {
    if (error instanceof DomainError)
      throw new Error(`a withdrawal's reversal was refused: ${error.code}`, { cause: error });
    throw error;
  }
}

type Requested = Extract<WithdrawalCommand, { type: 'RequestWithdrawal' }>['request'];

function amountOf(request: Requested): Money {
  return { amountMinor: request.amountMinor, currency: request.currency };
}

/**
 * Sends the payout to the withdrawal's channel. A channel that accepted nothing (`unavailable`) is not
 * routed elsewhere: the debit is already booked against the chosen channel's clearing, so it is reversed
 * and the withdrawal fails (`channel_unavailable`); the payee asks again.
 */
async function payOut(deps: WithdrawalDeps, withdrawalId: string, request: Requested): Promise<OrderResult> {
  if (!deps.gateway.port(request.channel) || !request.payee)
    return {
      kind: 'refused',
      error: new DomainError('unknown_channel', `no payment channel "${request.channel}" for this withdrawal`, {
        channel: request.channel,
      }),
    };
  const amount = amountOf(request);
  const answer = await deps.gateway.call(request.channel, (port, options) =>
    port.payout({ orderNo: withdrawalId, amount, contractNo: request.payeeReference }, options),
  );
  if (answer.status === 'unavailable')
    return {
      kind: 'refused',
      error: new DomainError(
        'channel_unavailable',
        `${request.channel} accepted nothing: ${answer.detail}`.slice(0, 300),
        {
          channel: request.channel,
        },
      ),
    };
  const result = resultOfAnswer(request.channel, 'payout', answer);
  if (result.kind === 'done' || (result.kind === 'open' && result.outcome === 'pending'))
    deps.gateway.noteUsage(request.channel, 'payout', amount);
  return result;
}

function reversalCommand(state: ExistingWithdrawal, error: DomainError) {
  const r = state.request;
  return {
    type: 'CreditAccount' as const,
    ...withdrawalMovement(r.withdrawalId, amountOf(r), r.channel),
    kind: 'withdrawal_reversal' as const,
    accountId: r.accountId,
    memo: `payout not made: ${error.details.channelErrorCode ?? error.code}`,
  };
}

/** The command after the payout's result: completed, noted as open, or failed. */
function finishCommand(state: ExistingWithdrawal, result: OrderResult, context: CommandContext): WithdrawalCommand {
  const r = state.request;
  switch (result.kind) {
    case 'refused':
      return {
        type: 'FailWithdrawal',
        withdrawalId: r.withdrawalId,
        reasonCode: result.error.code,
        reason: result.error.message,
      };
    case 'open':
      return {
        type: 'AwaitWithdrawalChannel',
        withdrawalId: r.withdrawalId,
        awaiting: awaitingOf(r.channel, result, state.awaiting ? state.awaiting.queries + 1 : 0, context.occurredAt),
      };
    case 'done':
      return {
        type: 'CompleteWithdrawal',
        payout: {
          withdrawalId: r.withdrawalId,
          channel: r.channel,
          channelOrderNo: result.channelOrderNo,
          channelFeeMinor: result.feeMinor,
          currency: r.currency,
        },
      };
  }
}

/** Each step's name (its derived event ids): an open answer's note by the count of queries made. */
function stepOf(command: WithdrawalCommand): string {
  return command.type === 'AwaitWithdrawalChannel' ? `await-${command.awaiting.queries}` : command.type;
}

/**
 * Takes a requested withdrawal as far as it can go now; safe to call again at any point (a retry, a
 * resume after a crash). One whose payout answer was not final is asked about (an order query) once its
 * next query is due, or at once with `forceQuery`: never paid out again.
 */
export async function driveWithdrawal(
  deps: WithdrawalDeps,
  withdrawalId: string,
  context: CommandContext,
  resuming: boolean,
  forceQuery = false,
): Promise<{ withdrawal: ExistingWithdrawal; position: bigint }> {
  const streamId = withdrawalStreamId(withdrawalId);
  const { state, position } = await deps.withdrawals.load(streamId);
  if (!state.exists) throw new Error('a requested withdrawal exists');
  if (state.status !== 'requested') return { withdrawal: state, position };
  const r = state.request;
  let result: OrderResult;
  let at = position;
  if (state.awaiting) {
    if (!queryDue(state.awaiting, context.occurredAt, forceQuery)) return { withdrawal: state, position };
    result = await queryOpenOrder(deps.gateway, 'payout', withdrawalId, state.awaiting);
  } else {
    const debit = await runAccountStep(
      deps,
      r.accountId,
      { type: 'DebitAccount', ...withdrawalMovement(withdrawalId, amountOf(r), r.channel), accountId: r.accountId },
      stepContext(context, withdrawalId, 'debit'),
      resumptionOf(resuming, streamId),
    );
    if (!debit.ok)
      return finish(
        deps,
        withdrawalId,
        context,
        { type: 'FailWithdrawal', withdrawalId, reasonCode: debit.error.code, reason: debit.error.message },
        position,
      );
    at = maxPosition(at, debit.position);
    result = await payOut(deps, withdrawalId, r);
  }
  if (result.kind === 'refused') {
    const reversal = await runAccountStep(
      deps,
      r.accountId,
      reversalCommand(state, result.error),
      stepContext(context, withdrawalId, 'reverse-debit'),
      resumptionOf(resuming || state.awaiting !== null, streamId),
    );
    if (!reversal.ok) throw reversal.error;
    at = maxPosition(at, reversal.position);
  }
  return finish(deps, withdrawalId, context, finishCommand(state, result, context), at);
}

function withdrawalMovement(withdrawalId: string, amount: Money, channelId: string) {
  const counterparty = { accountId: null, ownerId: null, name: null, channel: channelId };
  return {
    amount,
    kind: 'withdrawal' as const,
    operationId: withdrawalId,
    merchantOrderNo: null,
    memo: 'withdrawal to a bound card',
    counterparty,
  };
}

async function finish(
  deps: WithdrawalDeps,
  withdrawalId: string,
  context: CommandContext,
  command: WithdrawalCommand,
  position: bigint,
) {
  const done = await deps.withdrawals.handle(
    withdrawalStreamId(withdrawalId),
    command,
    stepContext(context, withdrawalId, stepOf(command)),
  );
  return { withdrawal: done.state as ExistingWithdrawal, position: maxPosition(position, done.position) };
}

import { decideDebit } from '../../domain/accounts/movements.js';
import type { Money } from '../../domain/money/money.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type { WithdrawalCommand, WithdrawalState } from '../../domain/withdrawals/withdrawal-decider.js';
import type { WithdrawalEvent } from '../../domain/withdrawals/withdrawal-events.js';
import type { ChannelPayoutOutcome, PaymentChannel } from '../../ports/payment-channel.js';
import { accountStreamId } from '../accounts/open-account-handler.js';
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
  readonly channels: ReadonlyMap<string, PaymentChannel>;
}

export interface WithdrawalRequest {
  readonly accountId: string;
  readonly amount: Money;
  readonly channelId: string;
  readonly payeeReference: string;
}

export function withdrawalStreamId(withdrawalId: string): string {
  return `withdrawal-${withdrawalId}`;
}

/**
 * Wallet -> external card: request -> debit the wallet -> pay out through the channel (idempotent by our
 * withdrawal id) -> completed; a declined payout credits the wallet back. If the channel is unreachable
 * the withdrawal stays requested with the wallet debited, and a retry pays out again under the same id.
 */
export async function withdraw(
  deps: WithdrawalDeps,
  request: WithdrawalRequest,
  context: CommandContext,
): Promise<{ withdrawal: ExistingWithdrawal; position: bigint }> {
  const channel = deps.channels.get(request.channelId);
  if (!channel)
    throw new DomainError('unknown_channel', `no payment channel "${request.channelId}"`, {
      channel: request.channelId,
    });
  const withdrawalId = deriveId(context.operationKey, 'withdrawal');
  const streamId = withdrawalStreamId(withdrawalId);
  const movement = withdrawalMovement(withdrawalId, request.amount, request.payeeReference, channel.id);
  const existing = await deps.withdrawals.load(streamId);
  let position = -1n;
  let resuming = true;
  if (!existing.state.exists) {
    const account = await loadAccount(deps, request.accountId);
    decideDebit({ ...movement, accountId: account.accountId }, account);
    const requested = await deps.withdrawals.handle(
      streamId,
      requestCommand(withdrawalId, account.accountId, request, channel.id),
      stepContext(context, withdrawalId, 'request'),
    );
    position = requested.position;
    resuming = requested.events.length === 0;
  }
  const driven = await driveWithdrawal(deps, withdrawalId, context, resuming);
  return { withdrawal: driven.withdrawal, position: maxPosition(position, driven.position) };
}

function requestCommand(
  withdrawalId: string,
  accountId: string,
  request: WithdrawalRequest,
  channelId: string,
): WithdrawalCommand {
  return {
    type: 'RequestWithdrawal',
    request: {
      withdrawalId,
      accountId,
      amountMinor: request.amount.amountMinor,
      currency: request.amount.currency,
      channel: channelId,
      payeeReference: request.payeeReference,
    },
  };
}

/**
 * A new withdrawal in two commits (src/commands/one-commit.ts), with the same commands, checks and derived
 * event ids as `withdraw` and `driveWithdrawal`: first the request and the wallet's debit (with the key's
 * claim), durable before the payout is sent; then, after the payout, its completion, or the debit's
 * reversal and the failure, with the answer. A withdrawal that exists already, or an unknown channel, is
 * the process's to answer (null or OneCommitUnsuitableError).
 */
export function withdrawalInTwoCommits(
  deps: WithdrawalDeps,
  request: WithdrawalRequest,
  context: CommandContext,
): { request: CommitPlan<void>; finish: () => Promise<CommitPlan<ExistingWithdrawal>> } | null {
  const channel = deps.channels.get(request.channelId);
  if (!channel) return null;
  const withdrawalId = deriveId(context.operationKey, 'withdrawal');
  const streamId = withdrawalStreamId(withdrawalId);
  const accountStream = accountStreamId(request.accountId);
  const movement = withdrawalMovement(withdrawalId, request.amount, request.payeeReference, channel.id);
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
      decisions.decide(
        deps.withdrawals,
        streamId,
        requestCommand(withdrawalId, account.accountId, request, channel.id),
        stepContext(context, withdrawalId, 'request'),
      );
      decisions.decide(
        deps.accounts,
        accountStream,
        { type: 'DebitAccount', ...movement, accountId: account.accountId },
        stepContext(context, withdrawalId, 'debit'),
      );
    },
  };
  const finish = async (): Promise<CommitPlan<ExistingWithdrawal>> => {
    const payout = await channel.payout({
      orderNo: withdrawalId,
      amount: request.amount,
      payeeReference: request.payeeReference,
    });
    return {
      streams,
      positionStream: streamId,
      decide: (decisions: OneCommitDecisions) => {
        const state = decisions.state(deps.withdrawals, streamId);
        assert(state.exists, 'the withdrawal was requested in the first commit');
        // Finished meanwhile (a resume by the process): the answer is the stream's.
        if (state.status !== 'requested') return state;
        const finishWith = (command: WithdrawalCommand) => {
          const done = decisions.decide(
            deps.withdrawals,
            streamId,
            command,
            stepContext(context, withdrawalId, command.type),
          );
          assert(done.state.exists, 'a finished withdrawal exists');
          return done.state;
        };
        if (payout.status === 'declined') {
          creditBack(() =>
            decisions.decide(
              deps.accounts,
              accountStream,
              {
                type: 'CreditAccount',
                ...movement,
                kind: 'withdrawal_reversal',
                accountId: request.accountId,
                memo: `payout declined: ${payout.channelErrorCode}`,
              },
              stepContext(context, withdrawalId, 'reverse-debit'),
            ),
          );
        }
        return finishWith(payoutFinish(withdrawalId, channel.id, request.amount.currency, payout));
      },
    };
  };
  return { request: requested, finish };
}

/**
 * The debit's reversal after a declined payout. It cannot be refused (reversals pass any status but
 * closed, and a closed account holds no money); if it were, it is a bug, not the withdrawal's answer.
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

/** Takes a requested withdrawal to its end; safe to call again at any point (a retry, a resume after a crash). */
export async function driveWithdrawal(
  deps: WithdrawalDeps,
  withdrawalId: string,
  context: CommandContext,
  resuming: boolean,
): Promise<{ withdrawal: ExistingWithdrawal; position: bigint }> {
  const streamId = withdrawalStreamId(withdrawalId);
  const { state, position } = await deps.withdrawals.load(streamId);
  if (!state.exists) throw new Error('a requested withdrawal exists');
  if (state.status !== 'requested') return { withdrawal: state, position };
  const r = state.request;
  const channel = deps.channels.get(r.channel);
  if (!channel) throw new DomainError('unknown_channel', `no payment channel "${r.channel}"`, { channel: r.channel });
  const amount = { amountMinor: r.amountMinor, currency: r.currency };
  const movement = withdrawalMovement(withdrawalId, amount, r.payeeReference, channel.id);
  const debit = await runAccountStep(
    deps,
    r.accountId,
    { type: 'DebitAccount', ...movement, amount, accountId: r.accountId },
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
  const payout = await channel.payout({ orderNo: withdrawalId, amount, payeeReference: r.payeeReference });
  if (payout.status === 'declined') {
    const reversal = await runAccountStep(
      deps,
      r.accountId,
      {
        type: 'CreditAccount',
        ...movement,
        amount,
        kind: 'withdrawal_reversal',
        accountId: r.accountId,
        memo: `payout declined: ${payout.channelErrorCode}`,
      },
      stepContext(context, withdrawalId, 'reverse-debit'),
      resumptionOf(resuming, streamId),
    );
    if (!reversal.ok) throw reversal.error;
    return finish(
      deps,
      withdrawalId,
      context,
      payoutFinish(withdrawalId, channel.id, r.currency, payout),
      maxPosition(position, reversal.position),
    );
  }
  return finish(
    deps,
    withdrawalId,
    context,
    payoutFinish(withdrawalId, channel.id, r.currency, payout),
    maxPosition(position, debit.position),
  );
}

/** The command that ends a withdrawal after its payout: completed, or failed when the channel declined. */
function payoutFinish(
  withdrawalId: string,
  channelId: string,
  currency: Money['currency'],
  payout: ChannelPayoutOutcome,
): WithdrawalCommand {
  if (payout.status === 'declined')
    return { type: 'FailWithdrawal', withdrawalId, reasonCode: 'channel_declined', reason: payout.channelErrorMessage };
  return {
    type: 'CompleteWithdrawal',
    payout: {
      withdrawalId,
      channel: channelId,
      channelOrderNo: payout.channelOrderNo,
      channelFeeMinor: payout.feeMinor,
      currency,
    },
  };
}

function withdrawalMovement(withdrawalId: string, amount: Money, payeeReference: string, channelId: string) {
  const counterparty = { accountId: null, ownerId: null, name: null, channel: channelId };
  return {
    amount,
    kind: 'withdrawal' as const,
    operationId: withdrawalId,
    merchantOrderNo: null,
    memo: `withdrawal to ${payeeReference}`,
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
    stepContext(context, withdrawalId, command.type),
  );
  return { withdrawal: done.state as ExistingWithdrawal, position: maxPosition(position, done.position) };
}

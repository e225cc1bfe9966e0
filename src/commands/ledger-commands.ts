import { accountDecider } from '../domain/accounts/account-decider.js';
import type { AccountEvent } from '../domain/accounts/account-events.js';
import type { AccountFlags } from '../domain/accounts/account-flags.js';
import { decodeEvent } from '../domain/event-catalogue.js';
import type { AccountState, AccountStatus } from '../domain/accounts/account-state.js';
import { freezeDecider } from '../domain/freezes/freeze-decider.js';
import type { Money } from '../domain/money/money.js';
import type { ExistingPayment } from '../domain/payments/payment-state.js';
import { paymentDecider } from '../domain/payments/payment-decider.js';
import { preauthDecider } from '../domain/preauths/preauth-decider.js';
import { transferDecider } from '../domain/transfers/transfer-decider.js';
import { transferBatchDecider } from '../domain/transfers/transfer-batch-decider.js';
import { withdrawalDecider } from '../domain/withdrawals/withdrawal-decider.js';
import type { EventStore } from '../ports/event-store.js';
import type { ChannelGateway } from './channels/channel-gateway.js';
import {
  accountStreamId,
  openAccount,
  type AccountHandler,
  type OpenAccountRequest,
} from './accounts/open-account-handler.js';
import type { CommandContext } from './command-context.js';
import {
  deductFromFreeze,
  deductInOneCommit,
  driveDeduction,
  drivePlacement,
  driveRelease,
  getFreeze,
  placeFreeze,
  placeFreezeInOneCommit,
  releaseFreeze,
  releaseInOneCommit,
  type DeductRequest,
  type ExistingFreeze,
  type FreezeHandler,
  type PlaceFreezeRequest,
} from './freezes/freeze-operations.js';
import {
  drivePayment,
  getPayment,
  pay,
  payInOneCommit,
  type PayRequest,
  type PaymentHandler,
  type PaymentParties,
} from './payments/payment-operations.js';
import {
  cancelInOneCommit,
  cancelPayment,
  refundInOneCommit,
  refundPayment,
  type RefundRequest,
} from './payments/payment-reversals.js';
import {
  authorise,
  cancelCompletion,
  cancelPreauth,
  completePreauth,
  driveAuthorisation,
  driveCompletion,
  getPreauth,
  type AuthoriseRequest,
  type ExistingPreauth,
  type PreauthHandler,
} from './preauths/preauth-operations.js';
import {
  authoriseInOneCommit,
  cancelCompletionInOneCommit,
  cancelPreauthInOneCommit,
  completeInOneCommit,
} from './preauths/preauth-one-commit.js';
import {
  driveRecharge,
  rechargeStreamId,
  rechargeAccount,
  rechargeInTwoCommits,
  type RechargeHandler,
  type RechargeRequest,
} from './recharges/recharge-handler.js';
import { rechargeDecider } from '../domain/recharges/recharge-decider.js';
import {
  DEFAULT_HANDLER_LIMITS,
  StreamCommandHandler,
  type StreamCommandHandlerLimits,
} from './stream-command-handler.js';
import type { StreamSnapshots } from './stream-snapshots.js';
import {
  driveTransfer,
  transfer,
  transferInOneCommit,
  transferStreamId,
  type TransferHandler,
  type TransferRequest,
} from './transfers/transfer-operations.js';
import {
  runTransferBatch,
  transferBatchInOneCommit,
  transferBatchStreamId,
  type TransferBatchHandler,
  type TransferBatchRequest,
} from './transfers/transfer-batch.js';
import {
  driveWithdrawal,
  withdraw,
  withdrawalInTwoCommits,
  withdrawalStreamId,
  type WithdrawalHandler,
  type WithdrawalRequest,
} from './withdrawals/withdrawal-operations.js';
import { DomainError } from '../domain/shared/domain-error.js';
import { OneCommitCoordinator } from './one-commit.js';

/** The write side's front door: every command the ledger accepts, and reads of operation state. */
export class LedgerCommands {
  private readonly deps: {
    readonly eventStore: EventStore;
    readonly accounts: AccountHandler;
    readonly payments: PaymentHandler;
    readonly transfers: TransferHandler;
    readonly batches: TransferBatchHandler;
    readonly withdrawals: WithdrawalHandler;
    readonly freezes: FreezeHandler;
    readonly preauths: PreauthHandler;
    readonly recharges: RechargeHandler;
    readonly gateway: ChannelGateway;
    readonly accountingTimeZone: string;
  };
  /** One commit per operation where the engine has a multi-stream append; null: every operation is a process. */
  readonly oneCommit: OneCommitCoordinator | null;

  constructor(
    eventStore: EventStore,
    gateway: ChannelGateway,
    accountingTimeZone: string,
    limits: StreamCommandHandlerLimits = DEFAULT_HANDLER_LIMITS,
    /** Snapshots of account streams, the ones that grow long; operation streams stay a few events each. */
    accountSnapshots?: StreamSnapshots<AccountState>,
    /** False: every operation runs as its process of separate appends, whatever the engine can do. */
    oneCommit = true,
  ) {
    this.deps = {
      eventStore,
      gateway,
      accountingTimeZone,
      accounts: new StreamCommandHandler(eventStore, accountDecider, limits, accountSnapshots),
      payments: new StreamCommandHandler(eventStore, paymentDecider, limits),
      transfers: new StreamCommandHandler(eventStore, transferDecider, limits),
      batches: new StreamCommandHandler(eventStore, transferBatchDecider, limits),
      withdrawals: new StreamCommandHandler(eventStore, withdrawalDecider, limits),
      freezes: new StreamCommandHandler(eventStore, freezeDecider, limits),
      preauths: new StreamCommandHandler(eventStore, preauthDecider, limits),
      recharges: new StreamCommandHandler(eventStore, rechargeDecider, limits),
    };
    this.oneCommit = oneCommit ? OneCommitCoordinator.of(eventStore) : null;
  }

  /** The account streams' handler, shared with operations decided elsewhere (channel payments). */
  get accountHandler(): AccountHandler {
    return this.deps.accounts;
  }

  openAccount(request: OpenAccountRequest, context: CommandContext) {
    return openAccount(this.deps.eventStore, this.deps.accounts, request, context);
  }

  /** The account's state as the write side sees it (strongly consistent). */
  async getAccountState(accountId: string) {
    return (await this.deps.accounts.load(accountStreamId(accountId))).state;
  }

  /** Every event of one account, decoded, in order (for audits and tests; streams are read in pages). */
  async getAccountEvents(accountId: string): Promise<AccountEvent[]> {
    const events: AccountEvent[] = [];
    for await (const recorded of this.deps.eventStore.readStream(accountStreamId(accountId))) {
      events.push(decodeEvent(recorded.type, recorded.data) as AccountEvent);
    }
    return events;
  }

  async changeAccountFlags(accountId: string, flags: AccountFlags, reason: string, context: CommandContext) {
    return this.deps.accounts.handle(
      accountStreamId(accountId),
      { type: 'ChangeAccountFlags', accountId, flags, reason },
      context,
    );
  }

  async changeAccountStatus(accountId: string, status: AccountStatus, reason: string, context: CommandContext) {
    return this.deps.accounts.handle(
      accountStreamId(accountId),
      { type: 'ChangeAccountStatus', accountId, status, reason },
      context,
    );
  }

  /** The channels recharges and withdrawals are routed among and sent through. */
  get gateway(): ChannelGateway {
    return this.deps.gateway;
  }

  recharge(request: RechargeRequest, context: CommandContext) {
    return rechargeAccount(this.deps, request, context);
  }

  /** A new recharge in two commits (see rechargeInTwoCommits), or null: run `recharge`. */
  rechargeInTwoCommits(request: RechargeRequest, context: CommandContext) {
    return rechargeInTwoCommits(this.deps, request, context);
  }

  pay(request: PayRequest, context: CommandContext, loaded?: PaymentParties) {
    return pay(this.deps, request, context, loaded);
  }

  /** A new payment decided whole for one commit (see payInOneCommit), or null: run `pay`. */
  payInOneCommit(request: PayRequest, context: CommandContext) {
    return payInOneCommit(this.deps, request, context);
  }

  getPayment(paymentId: string) {
    return getPayment(this.deps, paymentId);
  }

  cancelPayment(paymentId: string, reason: string, context: CommandContext) {
    return cancelPayment(this.deps, paymentId, reason, context);
  }

  /** A new cancellation of `payment` decided whole for one commit (see cancelInOneCommit). */
  cancelInOneCommit(paymentId: string, reason: string, context: CommandContext, payment: ExistingPayment) {
    return cancelInOneCommit(this.deps, paymentId, reason, context, payment);
  }

  refundPayment(request: RefundRequest, context: CommandContext) {
    return refundPayment(this.deps, request, context);
  }

  /** A new refund of `payment` decided whole for one commit (see refundInOneCommit). */
  refundInOneCommit(request: RefundRequest, context: CommandContext, payment: ExistingPayment) {
    return refundInOneCommit(this.deps, request, context, payment);
  }

  async getRecharge(rechargeId: string) {
    const { state } = await this.deps.recharges.load(rechargeStreamId(rechargeId));
    if (!state.exists)
      throw new DomainError('operation_not_found', `recharge ${rechargeId} does not exist`, { rechargeId });
    return state;
  }

  /**
   * A recharge as it stands, after asking its channel once for the order when its answer was not final
   * (pending, unknown): a client looking at it need not wait for the recovery sweep's next query.
   */
  async resolveRecharge(rechargeId: string, context: CommandContext) {
    const state = await this.getRecharge(rechargeId);
    if (state.status !== 'requested' || !state.awaiting) return state;
    try {
      return (await driveRecharge(this.deps, rechargeId, context, true, true)).recharge;
    } catch (error) {
      // A refusal is the recharge's recorded outcome (failed): the stream answers it.
      if (!(error instanceof DomainError)) throw error;
      return this.getRecharge(rechargeId);
    }
  }

  transfer(request: TransferRequest, context: CommandContext) {
    return transfer(this.deps, request, context);
  }

  /** A new transfer decided whole for one commit (see transferInOneCommit), or null: run `transfer`. */
  transferInOneCommit(request: TransferRequest, context: CommandContext) {
    return transferInOneCommit(this.deps, request, context);
  }

  async getTransfer(transferId: string) {
    const { state } = await this.deps.transfers.load(transferStreamId(transferId));
    if (!state.exists)
      throw new DomainError('operation_not_found', `transfer ${transferId} does not exist`, { transferId });
    return state;
  }

  /** A transfer batch as its process (engines without a multi-stream append; see runTransferBatch). */
  transferBatch(request: TransferBatchRequest, context: CommandContext) {
    return runTransferBatch(this.deps, request, context);
  }

  /** A new transfer batch decided whole for one commit (see transferBatchInOneCommit). */
  transferBatchInOneCommit(request: TransferBatchRequest, context: CommandContext) {
    return transferBatchInOneCommit(this.deps, request, context);
  }

  async getTransferBatch(batchId: string) {
    const { state } = await this.deps.batches.load(transferBatchStreamId(batchId));
    if (!state.recorded)
      throw new DomainError('operation_not_found', `transfer batch ${batchId} does not exist`, { batchId });
    return state;
  }

  withdraw(request: WithdrawalRequest, context: CommandContext) {
    return withdraw(this.deps, request, context);
  }

  /** A new withdrawal in two commits (see withdrawalInTwoCommits), or null: run `withdraw`. */
  withdrawalInTwoCommits(request: WithdrawalRequest, context: CommandContext) {
    return withdrawalInTwoCommits(this.deps, request, context);
  }

  async getWithdrawal(withdrawalId: string) {
    const { state } = await this.deps.withdrawals.load(withdrawalStreamId(withdrawalId));
    if (!state.exists)
      throw new DomainError('operation_not_found', `withdrawal ${withdrawalId} does not exist`, { withdrawalId });
    return state;
  }

  /** A withdrawal as it stands, after asking its channel once when its payout's answer was not final. */
  async resolveWithdrawal(withdrawalId: string, context: CommandContext) {
    const state = await this.getWithdrawal(withdrawalId);
    if (state.status !== 'requested' || !state.awaiting) return state;
    return (await driveWithdrawal(this.deps, withdrawalId, context, true, true)).withdrawal;
  }

  placeFreeze(request: PlaceFreezeRequest, context: CommandContext) {
    return placeFreeze(this.deps, request, context);
  }

  /** A new freeze decided whole for one commit (see placeFreezeInOneCommit). */
  placeFreezeInOneCommit(request: PlaceFreezeRequest, context: CommandContext) {
    return placeFreezeInOneCommit(this.deps, request, context);
  }

  getFreeze(freezeId: string) {
    return getFreeze(this.deps, freezeId);
  }

  releaseFreeze(freezeId: string, amountMinor: bigint | null, reason: string, context: CommandContext) {
    return releaseFreeze(this.deps, freezeId, amountMinor, reason, context);
  }

  /** A new release of `freeze` decided whole for one commit (see releaseInOneCommit). */
  releaseInOneCommit(freeze: ExistingFreeze, amountMinor: bigint | null, reason: string, context: CommandContext) {
    return releaseInOneCommit(this.deps, freeze, amountMinor, reason, context);
  }

  deductFromFreeze(request: DeductRequest, context: CommandContext) {
    return deductFromFreeze(this.deps, request, context);
  }

  /** A new deduction from `freeze` decided whole for one commit (see deductInOneCommit), or null: run `deductFromFreeze`. */
  deductInOneCommit(freeze: ExistingFreeze, request: DeductRequest, context: CommandContext) {
    return deductInOneCommit(this.deps, freeze, request, context);
  }

  authorisePreauth(request: AuthoriseRequest, context: CommandContext, loaded?: PaymentParties) {
    return authorise(this.deps, request, context, loaded);
  }

  /** A new pre-authorisation decided whole for one commit (see authoriseInOneCommit), or null: run `authorisePreauth`. */
  authoriseInOneCommit(request: AuthoriseRequest, context: CommandContext) {
    return authoriseInOneCommit(this.deps, request, context);
  }

  getPreauth(preauthId: string) {
    return getPreauth(this.deps, preauthId);
  }

  cancelPreauth(preauthId: string, reason: 'merchant' | 'expired', context: CommandContext) {
    return cancelPreauth(this.deps, preauthId, reason, context);
  }

  /** A merchant's cancellation of `preauth` decided whole for one commit (see cancelPreauthInOneCommit). */
  cancelPreauthInOneCommit(preauth: ExistingPreauth, context: CommandContext) {
    return cancelPreauthInOneCommit(this.deps, preauth, context);
  }

  completePreauth(preauthId: string, amount: Money, context: CommandContext) {
    return completePreauth(this.deps, preauthId, amount, context);
  }

  /** A new completion of `preauth` decided whole for one commit (see completeInOneCommit). */
  completeInOneCommit(preauth: ExistingPreauth, amount: Money, context: CommandContext) {
    return completeInOneCommit(this.deps, preauth, amount, context);
  }

  cancelPreauthCompletion(preauthId: string, context: CommandContext) {
    return cancelCompletion(this.deps, preauthId, context);
  }

  /** A new cancellation of `preauth`'s completion decided whole for one commit (see cancelCompletionInOneCommit). */
  cancelCompletionInOneCommit(preauth: ExistingPreauth, context: CommandContext) {
    return cancelCompletionInOneCommit(this.deps, preauth, context);
  }

  /**
   * Drives an operation (and any refund, deduction or completion within it) to its end after a crash.
   * Business refusals along the way are the operation's outcome, already recorded: they are not errors here.
   */
  async resumeOperation(
    kind: 'payment' | 'transfer' | 'withdrawal' | 'freeze' | 'preauth' | 'recharge',
    operationId: string,
    context: CommandContext,
  ): Promise<void> {
    const refusalsAreOutcomes = async (step: Promise<unknown>) => {
      try {
        await step;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
    };
    switch (kind) {
      case 'payment': {
        const payment = await this.getPayment(operationId);
        if (payment.status === 'initiated') await drivePayment(this.deps, operationId, context, true, -1n);
        if (payment.status === 'cancelling') await refusalsAreOutcomes(this.cancelPayment(operationId, '', context));
        for (const refund of payment.refunds.values()) {
          if (refund.status !== 'requested') continue;
          const amount = { amountMinor: refund.amountMinor, currency: payment.currency };
          await refusalsAreOutcomes(
            this.refundPayment({ paymentId: operationId, refundNo: refund.refundNo, amount, reason: '' }, context),
          );
        }
        return;
      }
      case 'transfer':
        await driveTransfer(this.deps, operationId, context, true);
        return;
      case 'recharge':
        await refusalsAreOutcomes(driveRecharge(this.deps, operationId, context, true));
        return;
      case 'withdrawal':
        await driveWithdrawal(this.deps, operationId, context, true);
        return;
      case 'freeze': {
        const freeze = await this.getFreeze(operationId);
        if (freeze.status === 'requested')
          await refusalsAreOutcomes(drivePlacement(this.deps, operationId, context, true));
        for (const [releaseId, release] of freeze.releases) {
          if (!release.applied)
            await driveRelease(this.deps, operationId, releaseId, 'resumed after a crash', context, true);
        }
        for (const deduction of freeze.deductions.values()) {
          if (deduction.status === 'requested')
            await refusalsAreOutcomes(driveDeduction(this.deps, operationId, deduction.deductionId, context, true));
        }
        return;
      }
      case 'preauth': {
        const preauth = await this.getPreauth(operationId);
        if (preauth.status === 'requested')
          await refusalsAreOutcomes(driveAuthorisation(this.deps, operationId, context, true));
        if (preauth.status === 'completing' && preauth.completion)
          await refusalsAreOutcomes(
            driveCompletion(this.deps, operationId, preauth.completion.completionId, context, true),
          );
        if (preauth.status === 'cancelling_completion')
          await refusalsAreOutcomes(this.cancelPreauthCompletion(operationId, context));
        return;
      }
    }
  }
}

import { requireActive, requireCurrency, requireFlag } from '../../domain/accounts/account-rules.js';
import type { OpenAccountState } from '../../domain/accounts/account-state.js';
import {
  MAX_CHANNEL_ATTEMPTS,
  type ChannelPaymentCommand,
  type ChannelPaymentEvent,
  type ChannelPaymentState,
  type ChannelResult,
  type ExistingChannelPayment,
} from '../../domain/channel-payments/channel-payment-decider.js';
import type { ChannelPaymentOrder, LearntBy } from '../../domain/channel-payments/channel-payment-events.js';
import {
  chargeInstrumentAt,
  channelsHolding,
  choiceOf,
  type PayerInstrument,
} from '../../domain/channels/payer-instrument.js';
import type { RoutingRequest } from '../../domain/channels/routing.js';
import type { Money } from '../../domain/money/money.js';
import { assessRisk } from '../../domain/risk/risk-assessment.js';
import type { RiskHistory } from '../../domain/risk/risk-history.js';
import type { RiskRules } from '../../domain/risk/risk-rules.js';
import type { StepUpPolicy } from '../../domain/risk/step-up-events.js';
import { accountingDate } from '../../domain/shared/accounting-day.js';
import { DomainError, assert } from '../../domain/shared/domain-error.js';
import type { SensitiveText } from '../../domain/shared/sensitive-text.js';
import type { SmsGateway } from '../../ports/sms-gateway.js';
import type { ChannelGateway } from '../channels/channel-gateway.js';
import { deriveId, type CommandContext } from '../command-context.js';
import {
  loadAccount,
  maxPosition,
  resumptionOf,
  runAccountStep,
  stepContext,
  type OperationDeps,
} from '../operations/operation-steps.js';
import type { StreamCommandHandler } from '../stream-command-handler.js';
import { resultOfCharge, resultOfQuery } from './channel-results.js';

export type ChannelPaymentHandler = StreamCommandHandler<
  ChannelPaymentCommand,
  ChannelPaymentEvent,
  ChannelPaymentState
>;

/** Makes one-time codes and their keyed hashes (src/adapters/crypto/one-time-codes.ts). */
export interface StepUpCodes {
  issue(): SensitiveText;
  hmacOf(challengeId: string, code: SensitiveText): string;
}

/** The bounded risk history of a payment's payer and merchant, from a read model. */
export interface RiskHistorySource {
  historyOf(order: ChannelPaymentOrder): Promise<RiskHistory>;
}

export interface ChannelPaymentDeps extends OperationDeps {
  readonly channelPayments: ChannelPaymentHandler;
  readonly gateway: ChannelGateway;
  readonly riskRules: RiskRules;
  readonly riskHistory: RiskHistorySource;
  readonly stepUpPolicy: StepUpPolicy;
  readonly codes: StepUpCodes;
  readonly sms: SmsGateway | null;
  readonly accountingTimeZone: string;
}

export interface ChannelPaymentRequest {
  readonly merchantId: string;
  readonly payeeAccountId: string;
  readonly merchantOrderNo: string;
  readonly amount: Money;
  readonly description: string;
  readonly instrument: PayerInstrument;
  readonly payer: {
    readonly ip: string | null;
    readonly deviceId: string | null;
    readonly payerId: string | null;
    /** For a step-up code only: never recorded but masked. */
    readonly phone: SensitiveText | null;
  };
}

export interface ChannelPaymentOutcome {
  readonly payment: ExistingChannelPayment;
  /** Position to wait for to read the payment's effects back. */
  readonly position: bigint;
}

/** Steps one drive takes at most (created -> assessed -> submitted -> result, a reroute or two, settled). */
const MAX_DRIVE_STEPS = 16;
/** An SMS provider that does not answer in this time may still send: the code can be resent. */
const SMS_TIMEOUT_MS = 5_000;

export function channelPaymentStreamId(paymentId: string): string {
  return `chanpay-${paymentId}`;
}

/** A merchant's order number pays once: the payment id is derived from merchant and order number. */
export function channelPaymentIdOf(merchantId: string, merchantOrderNo: string): string {
  return deriveId(`${merchantId}\u0000${merchantOrderNo}`, 'channel-payment');
}

export function challengeIdOf(paymentId: string): string {
  return deriveId(paymentId, 'step-up');
}

/**
 * A channel payment (DESIGN 2.3): validate (the payee account open, the merchant's, taking this currency)
 * -> route (the gateway, among the channels holding the instrument) -> record the order -> assess risk
 * (block: failed; step-up: a code sent, waiting for it; allow) -> record the submission, call the channel
 * under our payment id (channels are idempotent by order number) -> record its word -> credit the payee
 * and complete. A refusal before the order is recorded records nothing. The same merchant order number
 * again resumes the first payment, or is refused `duplicate_order_no` for other terms.
 */
export async function createChannelPayment(
  deps: ChannelPaymentDeps,
  request: ChannelPaymentRequest,
  context: CommandContext,
): Promise<ChannelPaymentOutcome> {
  const paymentId = channelPaymentIdOf(request.merchantId, request.merchantOrderNo);
  const streamId = channelPaymentStreamId(paymentId);
  const existing = await deps.channelPayments.load(streamId);
  if (existing.state.exists) {
    const o = existing.state.order;
    const same =
      o.payeeAccountId === request.payeeAccountId &&
      o.amountMinor === request.amount.amountMinor &&
      o.currency === request.amount.currency &&
      o.instrument.method === request.instrument.method;
    if (!same)
      throw new DomainError(
        'duplicate_order_no',
        `merchant order number ${request.merchantOrderNo} was already used for another payment`,
        { merchantOrderNo: request.merchantOrderNo },
      );
    return driveChannelPayment(deps, paymentId, context, { phone: request.payer.phone, resuming: true });
  }
  const payee = await loadAccount(deps, request.payeeAccountId);
  checkPayee(payee, request);
  const routing = deps.gateway.route(routingRequestOf(request), channelsHolding(request.instrument));
  if (routing.chosen === null)
    throw new DomainError('no_channel_available', 'no payment channel can take this payment now', {
      reason: routing.candidates
        .map((c) => `${c.channelId}: ${c.standing === 'excluded' ? c.excludedBecause : c.standing}`)
        .join('; '),
    });
  const order: ChannelPaymentOrder = {
    paymentId,
    merchantId: request.merchantId,
    payeeAccountId: payee.accountId,
    payeeSubjectCode: payee.subjectCode,
    merchantOrderNo: request.merchantOrderNo,
    amountMinor: request.amount.amountMinor,
    currency: request.amount.currency,
    description: request.description,
    instrument: request.instrument,
    payer: {
      ip: request.payer.ip,
      deviceId: request.payer.deviceId,
      payerId: request.payer.payerId ?? request.payer.deviceId ?? request.payer.ip ?? 'anonymous',
      maskedPhone: request.payer.phone?.masked ?? null,
    },
    routing,
    createdAt: context.occurredAt,
    accountingDate: accountingDate(context.occurredAt, deps.accountingTimeZone),
  };
  const created = await deps.channelPayments.handle(
    streamId,
    { type: 'CreateChannelPayment', order },
    stepContext(context, paymentId, 'create'),
  );
  const driven = await driveChannelPayment(deps, paymentId, context, {
    phone: request.payer.phone,
    resuming: created.events.length === 0,
  });
  return { ...driven, position: maxPosition(created.position, driven.position) };
}

/** What the payee must be, checked before any order is recorded (a refused request moves no money). */
function checkPayee(payee: OpenAccountState, request: ChannelPaymentRequest): void {
  if (payee.ownerId !== request.merchantId)
    throw new DomainError('forbidden', `account ${payee.accountId} is not the merchant's`, {
      accountId: payee.accountId,
    });
  requireActive(payee);
  requireFlag(payee, 'mayReceive');
  requireCurrency(payee, request.amount.currency);
  if (request.amount.amountMinor <= 0n)
    throw new DomainError('invalid_amount', 'a channel payment amount is positive', {});
}

function routingRequestOf(o: { amount: Money; instrument: PayerInstrument }): RoutingRequest {
  return { operation: 'charge', choice: choiceOf(o.instrument), amount: o.amount };
}

interface DriveOptions {
  /** The payer's phone, when this request gave it (a step-up code goes there). */
  readonly phone: SensitiveText | null;
  /** True when an earlier run may have called the channel: a found submission is asked about first. */
  readonly resuming: boolean;
}

/**
 * Takes a channel payment as far as it can go now; safe to call again at any point (a retry, the recovery
 * sweep, a callback, the poller). A submission this run did not record (a crash after it, another run)
 * is never charged again blindly: the channel is asked for the order first, and only an order it does
 * not know is charged (under the same order number, so even a race charges once).
 */
export async function driveChannelPayment(
  deps: ChannelPaymentDeps,
  paymentId: string,
  context: CommandContext,
  options: DriveOptions,
): Promise<ChannelPaymentOutcome> {
  const streamId = channelPaymentStreamId(paymentId);
  let loaded = await deps.channelPayments.load(streamId);
  let position = loaded.position;
  let submittedHere = false;
  for (let step = 0; step < MAX_DRIVE_STEPS; step += 1) {
    const state = loaded.state;
    if (!state.exists)
      throw new DomainError('operation_not_found', `channel payment ${paymentId} does not exist`, { paymentId });
    const run = async (command: ChannelPaymentCommand, key: string) => {
      const handled = await deps.channelPayments.handle(streamId, command, stepContext(context, paymentId, key));
      position = maxPosition(position, handled.position);
      loaded = { state: handled.state, revision: handled.revision, position: handled.position };
      return handled;
    };
    switch (state.status) {
      case 'created':
        await assess(deps, state, context, options.phone, run);
        continue;
      case 'ready': {
        const submitted = await run(
          { type: 'SubmitChannelPayment', paymentId, at: context.occurredAt },
          `submit-${state.attempts + 1}`,
        );
        submittedHere = submitted.events.length > 0;
        continue;
      }
      case 'submitted': {
        // Only a submission this run recorded is charged blindly; any other may have reached the channel.
        const next = submittedHere ? await charge(deps, state) : await askThenCharge(deps, state);
        submittedHere = false;
        if (next.kind === 'result') {
          await recordResult(run, state, loaded.revision, next.result, next.learntBy, null, context.occurredAt);
          continue;
        }
        await rerouteOrFail(deps, state, context, run);
        continue;
      }
      case 'succeeded':
        position = maxPosition(position, await settle(deps, state, context, run));
        continue;
      default:
        return { payment: state, position };
    }
  }
  assert(false, `channel payment ${paymentId}: more than ${MAX_DRIVE_STEPS} steps in one drive`);
  throw new Error('unreachable');
}

type Run = (
  command: ChannelPaymentCommand,
  key: string,
) => Promise<{ events: readonly ChannelPaymentEvent[]; state: ChannelPaymentState; position: bigint }>;

async function assess(
  deps: ChannelPaymentDeps,
  payment: ExistingChannelPayment,
  context: CommandContext,
  phone: SensitiveText | null,
  run: Run,
): Promise<void> {
  const o = payment.order;
  const history = await deps.riskHistory.historyOf(o);
  const assessment = assessRisk({
    rules: deps.riskRules,
    attempt: {
      amountMinor: o.amountMinor,
      currency: o.currency,
      payerId: o.payer.payerId,
      merchantId: o.merchantId,
      ip: o.payer.ip,
      deviceId: o.payer.deviceId,
      occurredAt: context.occurredAt,
    },
    history,
  });
  const paymentId = o.paymentId;
  if (assessment.verdict !== 'step_up') {
    await run(
      { type: 'AssessChannelPaymentRisk', paymentId, assessment, challenge: null, at: context.occurredAt },
      'assess',
    );
    return;
  }
  // A step-up needs a phone to text and a gateway to text through; without them the payment cannot go on.
  if (phone === null || deps.sms === null) {
    await run(
      { type: 'AssessChannelPaymentRisk', paymentId, assessment, challenge: null, at: context.occurredAt },
      'assess-unverifiable',
    );
    return;
  }
  const challengeId = challengeIdOf(paymentId);
  const code = deps.codes.issue();
  const assessed = await run(
    {
      type: 'AssessChannelPaymentRisk',
      paymentId,
      assessment,
      challenge: {
        challengeId,
        maskedPhone: phone.masked,
        codeHmac: deps.codes.hmacOf(challengeId, code),
        policy: deps.stepUpPolicy,
      },
      at: context.occurredAt,
    },
    'assess',
  );
  // Texted only when this run issued the challenge: a retry's fresh code would not match the recorded hash.
  if (assessed.events.some((event) => event.type === 'StepUpChallengeIssued'))
    await sendCode(deps.sms, `${challengeId}-1`, phone, code);
}

async function sendCode(sms: SmsGateway, messageId: string, phone: SensitiveText, code: SensitiveText): Promise<void> {
  // Whatever the provider says, the challenge stands: a code that did not arrive is resent on request.
  await sms.send({ messageId, phone, template: 'payment_step_up', code }, { timeoutMs: SMS_TIMEOUT_MS });
}

type Next = { kind: 'result'; result: ChannelResult; learntBy: LearntBy } | { kind: 'unavailable' };

async function charge(deps: ChannelPaymentDeps, payment: ExistingChannelPayment): Promise<Next> {
  const o = payment.order;
  const instrument = chargeInstrumentAt(o.instrument, payment.channel);
  assert(instrument !== null, `channel ${payment.channel} was routed a payment it cannot carry`);
  const amount = { amountMinor: o.amountMinor, currency: o.currency };
  const outcome = await deps.gateway.call(payment.channel, (port, options) =>
    port.charge(
      {
        orderNo: o.paymentId,
        amount,
        instrument,
        notifyUrl: deps.gateway.notifyUrl(payment.channel),
        description: o.description,
      },
      options,
    ),
  );
  if (outcome.status === 'succeeded' || outcome.status === 'pending')
    deps.gateway.noteUsage(payment.channel, 'charge', amount);
  const result = resultOfCharge(outcome);
  return result ? { kind: 'result', result, learntBy: 'answer' } : { kind: 'unavailable' };
}

/** A submission found in the stream: the channel may have the order. Ask; charge only what it does not know. */
async function askThenCharge(deps: ChannelPaymentDeps, payment: ExistingChannelPayment): Promise<Next> {
  const asked = await deps.gateway.call(payment.channel, (port, options) =>
    port.queryOrder(payment.order.paymentId, options),
  );
  const result = resultOfQuery(asked);
  if (result === 'not_found') return charge(deps, payment);
  if (result !== null) return { kind: 'result', result, learntBy: 'query' };
  // No answer: the order may be there or not; the poller asks again later.
  return {
    kind: 'result',
    result: { kind: 'unknown', reason: 'system_error', detail: `order query unanswered: ${asked.status}` },
    learntBy: 'query',
  };
}

export async function recordResult(
  run: Run,
  payment: ExistingChannelPayment,
  revision: bigint,
  result: ChannelResult,
  learntBy: LearntBy,
  sequence: number | null,
  at: string,
): Promise<void> {
  // One key per fact learnt at a revision: two sources deciding at one revision never share event ids.
  await run(
    { type: 'RecordChannelResult', paymentId: payment.order.paymentId, result, learntBy, sequence, at },
    `result-${revision}-${learntBy}-${result.kind}-${sequence ?? ''}`,
  );
}

/** `unavailable`: nothing was sent. Another channel holding the instrument, if one can take it, else failed. */
async function rerouteOrFail(
  deps: ChannelPaymentDeps,
  payment: ExistingChannelPayment,
  context: CommandContext,
  run: Run,
): Promise<void> {
  const o = payment.order;
  const paymentId = o.paymentId;
  if (payment.attempts < MAX_CHANNEL_ATTEMPTS) {
    const holding = channelsHolding(o.instrument) ?? deps.gateway.channelIds;
    const others = holding.filter((id) => id !== payment.channel);
    const routing = deps.gateway.route(
      routingRequestOf({ amount: { amountMinor: o.amountMinor, currency: o.currency }, instrument: o.instrument }),
      others,
    );
    if (routing.chosen !== null) {
      await run(
        { type: 'RerouteChannelPayment', paymentId, routing, at: context.occurredAt },
        `reroute-${payment.attempts}`,
      );
      return;
    }
  }
  await run(
    {
      type: 'FailChannelPayment',
      paymentId,
      reasonCode: 'channel_unavailable',
      reason: `no channel could take the payment (last: ${payment.channel})`,
      at: context.occurredAt,
    },
    `fail-${payment.attempts}`,
  );
}

/** The channel has the money: credit the payee (gross; the fee is booked on completion) and complete. */
async function settle(
  deps: ChannelPaymentDeps,
  payment: ExistingChannelPayment,
  context: CommandContext,
  run: Run,
): Promise<bigint> {
  const o = payment.order;
  const credited = await runAccountStep(
    deps,
    o.payeeAccountId,
    {
      type: 'CreditAccount',
      accountId: o.payeeAccountId,
      amount: { amountMinor: o.amountMinor, currency: o.currency },
      kind: 'channel_payment',
      operationId: o.paymentId,
      merchantOrderNo: o.merchantOrderNo,
      counterparty: { accountId: null, ownerId: null, name: null, channel: payment.channel },
      memo: `channel order ${payment.channelOrderNo ?? ''}`.slice(0, 200),
    },
    stepContext(context, o.paymentId, 'credit'),
    // Any run may be the second (a callback and the poller race): always look for an earlier credit.
    resumptionOf(true, channelPaymentStreamId(o.paymentId)),
  );
  // Only a closed account refuses a channel payment's credit, and a merchant's account holding money in
  // flight should not close: the payment stays succeeded (in flight) for the sweep and an operator.
  if (!credited.ok) throw credited.error;
  const done = await run({ type: 'CompleteChannelPayment', paymentId: o.paymentId }, 'complete');
  return maxPosition(credited.position, done.position);
}

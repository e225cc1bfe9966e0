import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { chargeOfferFor } from '../../../domain/channels/channel-profile.js';
import { feeMinor } from '../../../domain/channels/fee-schedule.js';
import {
  WIRE_VERSION,
  type TradeState,
  type WireNotification,
  type WireOperation,
  type WireRequest,
} from '../wire/wire-messages.js';
import type { ChannelKey } from '../wire/wire-signing.js';
import { CHANNEL_DIALECTS, type SimulatedRefusal } from './channel-dialects.js';
import { dispatchNotices, type CallbackPost } from './notice-dispatcher.js';
import { drawBetween, drawPpm, happens } from './seeded-draw.js';
import {
  failureModes,
  type FailureModes,
  type SimulatedChannelConfig,
  type SimulatorConfig,
} from './simulator-config.js';
import type { CallbackAttempt, ChannelRecords, OrderRecord, SmsMessage } from './simulator-records.js';
import { SimulatedContracts } from './simulated-contracts.js';
import { SimulatedQueries } from './simulated-queries.js';
import { SimulatedSmsGateway } from './simulated-sms-gateway.js';
import { SmsOutbox } from './sms-outbox.js';

/** A channel's answer before it is enveloped and signed: its own code and message, and the data. */
export interface SimulatedAnswer {
  readonly code: string;
  readonly message: string;
  readonly data: Record<string, unknown> | null;
}

/** How the answer goes out: after `latencyMs`, or held for `heldMs` (an injected timeout), or busy. */
export type SimulatedReply =
  | {
      readonly kind: 'answer';
      readonly answer: SimulatedAnswer;
      readonly latencyMs: number;
      readonly heldMs: number | null;
    }
  | { readonly kind: 'busy'; readonly answer: SimulatedAnswer };

/** A bound on what a long run keeps in memory beyond its orders: the callback log. */
const MAX_CALLBACK_LOG = 10_000;

export interface SimulatorDependencies {
  readonly post: CallbackPost;
  /** The simulator's base URL (for payer pages); set once the server listens. */
  publicBaseUrl?: string;
}

/**
 * The simulated channels' behaviour without HTTP: orders idempotent by our order number, fees from each
 * channel's schedule, limits, cardholders' balances, contracts and SMS codes, asynchronous results and
 * notices, statements, and the injected faults. The HTTP server (simulator-server.ts) puts it on the
 * network; a test may drive it in-process through the same server with `inject`.
 */
export class ChannelSimulator {
  readonly #records = new Map<string, ChannelRecords>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #contracts = new SimulatedContracts(this);
  readonly #queries = new SimulatedQueries(this);
  /** Every SMS sent: the banks' bind-card codes and the SMS gateway's messages. */
  readonly outbox = new SmsOutbox();
  /** The SMS provider, when the configuration has one. */
  readonly smsGateway: SimulatedSmsGateway | null;
  #fixedNowMs: number | null = null;
  #closed = false;

  constructor(
    readonly config: SimulatorConfig,
    private readonly dependencies: SimulatorDependencies,
  ) {
    this.smsGateway = config.smsGateway ? new SimulatedSmsGateway(this, config.smsGateway) : null;
    for (const [channelId, channel] of Object.entries(config.channels)) {
      this.#records.set(channelId, {
        orders: new Map(),
        refunds: new Map(),
        contracts: new Map(),
        verifications: new Map(),
        callbacks: [],
        contractAnswers: new Map(),
        attempts: new Map(),
        dailyUsedMinor: new Map(),
        merchantBalanceMinor: channel.merchantBalanceMinor,
      });
    }
  }

  set publicBaseUrl(url: string) {
    this.dependencies.publicBaseUrl = url;
  }

  nowMs(): number {
    return this.#fixedNowMs ?? Date.now();
  }

  /** Fixes the simulator's clock (statements, limits, outage windows, expiry); null: the system clock again. */
  setNow(atMs: number | null): void {
    this.#fixedNowMs = atMs;
  }

  channel(channelId: string): SimulatedChannelConfig | null {
    return this.config.channels[channelId] ?? null;
  }

  key(channelId: string): ChannelKey {
    const channel = this.channelConfig(channelId);
    return { keyId: channel.keyId, secret: Buffer.from(channel.secretBase64, 'base64') };
  }

  failures(channelId: string): FailureModes {
    return this.channelConfig(channelId).failures;
  }

  setFailures(channelId: string, changes: Partial<FailureModes>): FailureModes {
    const channel = this.channelConfig(channelId);
    const failures = failureModes.parse({ ...channel.failures, ...changes });
    this.config.channels[channelId] = { ...channel, failures };
    return failures;
  }

  records(channelId: string): ChannelRecords {
    const records = this.#records.get(channelId);
    if (!records) throw new RangeError(`no simulated channel ${channelId}`);
    return records;
  }

  smsOutbox(): readonly SmsMessage[] {
    return this.outbox.messages();
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  isBusy(channelId: string): boolean {
    const { failures } = this.channelConfig(channelId);
    const nowMs = this.nowMs();
    return (
      failures.outage || failures.outageWindows.some((w) => Date.parse(w.from) <= nowMs && nowMs < Date.parse(w.to))
    );
  }

  /** One request, already authenticated and parsed. */
  handle<Op extends WireOperation>(channelId: string, operation: Op, request: WireRequest<Op>): SimulatedReply {
    const channel = this.channelConfig(channelId);
    const dialect = CHANNEL_DIALECTS[channel.kind];
    if (this.isBusy(channelId)) {
      return { kind: 'busy', answer: { code: dialect.busy, message: 'system busy, nothing accepted', data: null } };
    }
    const orderKey = requestKeyOf(operation, request);
    const records = this.records(channelId);
    const attempt = (records.attempts.get(`${operation}:${orderKey}`) ?? 0) + 1;
    records.attempts.set(`${operation}:${orderKey}`, attempt);
    const answer = this.#answer(channelId, operation, request);
    const seed = this.config.seed;
    const latencyMs = drawBetween(seed, channel.latencyMs, channelId, operation, orderKey, attempt, 'latency');
    const held = happens(seed, channel.failures.timeoutRatePpm, channelId, operation, orderKey, attempt, 'timeout');
    return { kind: 'answer', answer, latencyMs, heldMs: held ? channel.heldAnswerMs : null };
  }

  channelConfig(channelId: string): SimulatedChannelConfig {
    const channel = this.config.channels[channelId];
    if (!channel) throw new RangeError(`no simulated channel ${channelId}`);
    return channel;
  }

  #answer<Op extends WireOperation>(channelId: string, operation: Op, request: WireRequest<Op>): SimulatedAnswer {
    switch (operation) {
      case 'charge':
        return this.#charge(channelId, request as WireRequest<'charge'>);
      case 'payout':
        return this.#payout(channelId, request as WireRequest<'payout'>);
      case 'refund':
        return this.#refund(channelId, request as WireRequest<'refund'>);
      case 'cancel':
        return this.#cancel(channelId, request as WireRequest<'cancel'>);
      case 'order.query':
        return this.#queries.order(channelId, request as WireRequest<'order.query'>);
      case 'refund.query':
        return this.#queries.refund(channelId, request as WireRequest<'refund.query'>);
      case 'balance':
        return this.#queries.balance(channelId, request as WireRequest<'balance'>);
      case 'statement':
        return this.#queries.statement(channelId, request as WireRequest<'statement'>);
      case 'contract.verify':
        return this.#contracts.verify(channelId, request as WireRequest<'contract.verify'>);
      case 'contract.sign':
        return this.#contracts.sign(channelId, request as WireRequest<'contract.sign'>);
      case 'contract.unsign':
        return this.#contracts.unsign(channelId, request as WireRequest<'contract.unsign'>);
      case 'contract.query':
        return this.#contracts.query(channelId, request as WireRequest<'contract.query'>);
    }
    throw new RangeError(`unknown operation ${String(operation)}`);
  }

  ok(channelId: string, data: Record<string, unknown>, accepted = false): SimulatedAnswer {
    const dialect = CHANNEL_DIALECTS[this.channelConfig(channelId).kind];
    return { code: accepted ? dialect.accepted : dialect.success, message: accepted ? 'accepted' : 'ok', data };
  }

  refusal(channelId: string, refusal: SimulatedRefusal): SimulatedAnswer {
    const [code, message] = CHANNEL_DIALECTS[this.channelConfig(channelId).kind].refusals[refusal];
    return { code, message, data: null };
  }

  #time(atMs: number): string {
    return new Date(atMs).toISOString();
  }

  /** The channel's own number for an order, refund, verification or contract of ours: stable per seed. */
  tradeNo(channelId: string, kind: string, orderNo: string): string {
    const prefix = channelId
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 6)
      .toUpperCase();
    return `${prefix}${kind}${createHash('sha256').update(`${this.config.seed}:${orderNo}`).digest('hex').slice(0, 20).toUpperCase()}`;
  }

  #dayOf(atMs: number): string {
    return DateTime.fromMillis(atMs, { zone: this.config.timeZone }).toISODate()!;
  }

  #withinLimits(channelId: string, amountMinor: bigint, kind: 'PAY' | 'PAYOUT'): boolean {
    const { limits } = this.channelConfig(channelId).profile;
    if (amountMinor < limits.perTransactionMinMinor || amountMinor > limits.perTransactionMaxMinor) return false;
    const usedMinor = this.records(channelId).dailyUsedMinor.get(`${kind}:${this.#dayOf(this.nowMs())}`) ?? 0n;
    return usedMinor + amountMinor <= limits.dailyMaxMinor;
  }

  /** Counts an order towards its day's total (`sign` 1 when it is taken, -1 when it fails or closes). */
  countTowardsDay(channelId: string, order: OrderRecord, sign: 1n | -1n): void {
    const used = this.records(channelId).dailyUsedMinor;
    const key = `${order.kind}:${this.#dayOf(order.createdAtMs)}`;
    used.set(key, (used.get(key) ?? 0n) + sign * order.amountMinor);
  }

  #activeContract(channelId: string, contractNo: string | undefined): number | null {
    const contract = contractNo ? this.records(channelId).contracts.get(contractNo) : undefined;
    return contract?.state === 'ACTIVE' ? contract.cardholder : null;
  }

  #orderAnswer(order: OrderRecord): SimulatedAnswer['data'] {
    return {
      trade_no: order.channelOrderNo,
      trade_state: order.state,
      fee: order.feeMinor.toString(),
      time: this.#time(order.completedAtMs ?? order.createdAtMs),
      pay_url:
        order.method === 'EBANK' || order.method === 'WALLET'
          ? `${this.dependencies.publicBaseUrl ?? ''}/pay/${order.channelOrderNo}`
          : null,
    };
  }

  #replayOrder(channelId: string, order: OrderRecord, requestKey: string): SimulatedAnswer {
    if (order.requestKey !== requestKey) return this.refusal(channelId, 'order_conflict');
    if (order.state === 'FAIL') return this.#failed(channelId, order);
    return this.ok(channelId, this.#orderAnswer(order)!, order.state === 'PROCESSING');
  }

  #failed(channelId: string, order: OrderRecord): SimulatedAnswer {
    const dialect = CHANNEL_DIALECTS[this.channelConfig(channelId).kind];
    const refusal = (Object.entries(dialect.refusals).find(([, [code]]) => code === order.failCode)?.[0] ??
      'insufficient_funds') as SimulatedRefusal;
    return this.refusal(channelId, refusal);
  }

  #charge(channelId: string, request: WireRequest<'charge'>): SimulatedAnswer {
    const channel = this.channelConfig(channelId);
    const records = this.records(channelId);
    const requestKey = JSON.stringify(request);
    const existing = records.orders.get(request.out_trade_no);
    if (existing) return this.#replayOrder(channelId, existing, requestKey);
    if (!channel.profile.currencies.includes(request.ccy as never)) return this.refusal(channelId, 'not_supported');
    const amountMinor = BigInt(request.amt);
    let cardholder: number | null = null;
    let offer;
    if (request.pay_method === 'QUICK') {
      cardholder = this.#activeContract(channelId, request.contract_no);
      if (cardholder === null) return this.refusal(channelId, 'contract_invalid');
      const holder = this.config.cardholders[cardholder]!;
      offer = chargeOfferFor(channel.profile, {
        method: 'quick_pay',
        bankCode: holder.bankCode,
        cardKind: holder.cardKind,
      });
    } else if (request.pay_method === 'EBANK') {
      offer = chargeOfferFor(channel.profile, { method: 'online_banking', bankCode: request.bank_code ?? '' });
    } else {
      offer = chargeOfferFor(channel.profile, { method: 'platform_pay', platform: request.platform ?? '' });
    }
    if (!offer) return this.refusal(channelId, 'not_supported');
    if (!this.#withinLimits(channelId, amountMinor, 'PAY')) return this.refusal(channelId, 'limit_exceeded');
    const nowMs = this.nowMs();
    const order = newOrder({
      orderNo: request.out_trade_no,
      channelOrderNo: this.tradeNo(channelId, 'P', request.out_trade_no),
      kind: 'PAY',
      method: request.pay_method,
      amountMinor,
      currency: request.ccy,
      requestKey,
      createdAtMs: nowMs,
      notifyUrl: request.notify_url ?? null,
      cardholder,
      feeMinor: feeMinor(offer.fee, amountMinor),
    });
    records.orders.set(order.orderNo, order);
    this.countTowardsDay(channelId, order, 1n);
    if (request.pay_method !== 'QUICK') {
      const delayMs = drawBetween(this.config.seed, channel.asyncResultMs, channelId, order.orderNo, 'async');
      this.#later(delayMs, async () => this.#completeAsync(channelId, order));
      return this.ok(channelId, this.#orderAnswer(order)!, true);
    }
    const refusal =
      this.#draftDecline(channelId, order) ??
      (this.config.cardholders[cardholder!]!.balanceMinor < amountMinor ? 'insufficient_funds' : null);
    if (refusal) return this.#fail(channelId, order, refusal);
    this.config.cardholders[cardholder!]!.balanceMinor -= amountMinor;
    this.#succeed(channelId, order);
    if (channel.profile.capabilities.settlementNotice && order.notifyUrl) {
      const delayMs = drawBetween(this.config.seed, channel.settlementNoticeMs, channelId, order.orderNo, 'settle');
      this.#later(delayMs, async () => {
        if (order.state !== 'SUCCESS') return;
        order.settled = true;
        await this.#notify(channelId, order.notifyUrl!, [this.#notice(channelId, 'SETTLE', order, null)]);
      });
    }
    return this.ok(channelId, this.#orderAnswer(order)!);
  }

  #draftDecline(channelId: string, order: OrderRecord): SimulatedRefusal | null {
    const { failures } = this.channelConfig(channelId);
    const draw = drawPpm(this.config.seed, channelId, order.orderNo, 'decline');
    if (draw >= failures.declineRatePpm) return null;
    return failures.declineWith[draw % failures.declineWith.length]!;
  }

  #succeed(channelId: string, order: OrderRecord): void {
    order.state = 'SUCCESS';
    order.completedAtMs = this.nowMs();
    const records = this.records(channelId);
    records.merchantBalanceMinor +=
      order.kind === 'PAY' ? order.amountMinor - order.feeMinor : -(order.amountMinor + order.feeMinor);
  }

  #fail(channelId: string, order: OrderRecord, refusal: SimulatedRefusal): SimulatedAnswer {
    const answer = this.refusal(channelId, refusal);
    order.state = 'FAIL';
    this.countTowardsDay(channelId, order, -1n);
    order.feeMinor = 0n;
    order.failCode = answer.code;
    order.completedAtMs = this.nowMs();
    return answer;
  }

  async #completeAsync(channelId: string, order: OrderRecord): Promise<void> {
    if (order.state !== 'PROCESSING') return;
    const refusal = this.#draftDecline(channelId, order);
    if (refusal) this.#fail(channelId, order, refusal);
    else this.#succeed(channelId, order);
    if (!order.notifyUrl) return;
    const kind = this.channelConfig(channelId).kind;
    // A platform tells the payer's progress first (USERPAYING), then the result: two notices that can cross.
    const notices =
      kind === 'platform'
        ? [this.#notice(channelId, 'PAY', order, null, 'PROCESSING'), this.#notice(channelId, 'PAY', order, null)]
        : [this.#notice(channelId, 'PAY', order, null)];
    await this.#notify(channelId, order.notifyUrl, notices);
  }

  #notice(
    channelId: string,
    type: WireNotification['notify_type'],
    order: OrderRecord,
    refundNo: string | null,
    state?: TradeState,
  ): WireNotification {
    order.noticeSeq += 1;
    const refund = refundNo ? this.records(channelId).refunds.get(refundNo)! : null;
    return {
      ver: WIRE_VERSION,
      mch_id: this.config.merchantId,
      notify_id: `${order.channelOrderNo}-${type}-${order.noticeSeq}`,
      notify_type: type,
      out_trade_no: order.orderNo,
      out_refund_no: refundNo,
      trade_no: order.channelOrderNo,
      trade_state: state ?? (refund ? (refund.state === 'PROCESSING' ? 'PROCESSING' : refund.state) : order.state),
      amt: (refund ? refund.amountMinor : order.amountMinor).toString(),
      ccy: order.currency,
      fee: (refund ? 0n : order.feeMinor).toString(),
      seq: order.noticeSeq,
      time: this.#time(this.nowMs()),
    };
  }

  async #notify(channelId: string, url: string, notices: readonly WireNotification[]): Promise<void> {
    const records = this.records(channelId);
    await dispatchNotices(
      {
        seed: this.config.seed,
        channelId,
        key: this.key(channelId),
        retryMs: this.config.callbackRetryMs,
        timeoutMs: this.config.callbackTimeoutMs,
        nowMs: () => this.nowMs(),
        post: this.dependencies.post,
        log: (attempt: CallbackAttempt) => {
          records.callbacks.push(attempt);
          if (records.callbacks.length > MAX_CALLBACK_LOG)
            records.callbacks.splice(0, records.callbacks.length - MAX_CALLBACK_LOG);
        },
        later: (delayMs, task) => this.#later(delayMs, task),
      },
      this.channelConfig(channelId).failures,
      url,
      notices,
    );
  }

  #later(delayMs: number, task: () => Promise<void>): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // A failed delivery is logged by the dispatcher; nothing here may throw out of a timer.
      task().catch(() => undefined);
    }, delayMs);
    this.#timers.add(timer);
  }

  #payout(channelId: string, request: WireRequest<'payout'>): SimulatedAnswer {
    const channel = this.channelConfig(channelId);
    const records = this.records(channelId);
    const requestKey = JSON.stringify(request);
    const existing = records.orders.get(request.out_trade_no);
    if (existing) return this.#replayOrder(channelId, existing, requestKey);
    const payout = channel.profile.capabilities.payout;
    if (!payout) return this.refusal(channelId, 'not_supported');
    const cardholder = this.#activeContract(channelId, request.contract_no);
    if (cardholder === null) return this.refusal(channelId, 'contract_invalid');
    const amountMinor = BigInt(request.amt);
    if (!this.#withinLimits(channelId, amountMinor, 'PAYOUT')) return this.refusal(channelId, 'limit_exceeded');
    const order = newOrder({
      orderNo: request.out_trade_no,
      channelOrderNo: this.tradeNo(channelId, 'O', request.out_trade_no),
      kind: 'PAYOUT',
      method: 'PAYOUT',
      amountMinor,
      currency: request.ccy,
      requestKey,
      createdAtMs: this.nowMs(),
      notifyUrl: null,
      cardholder,
      feeMinor: feeMinor(payout.fee, amountMinor),
    });
    records.orders.set(order.orderNo, order);
    this.countTowardsDay(channelId, order, 1n);
    const refusal =
      this.#draftDecline(channelId, order) ??
      (records.merchantBalanceMinor < amountMinor + order.feeMinor ? 'insufficient_funds' : null);
    if (refusal) return this.#fail(channelId, order, refusal);
    this.config.cardholders[cardholder]!.balanceMinor += amountMinor;
    this.#succeed(channelId, order);
    return this.ok(channelId, this.#orderAnswer(order)!);
  }

  #refund(channelId: string, request: WireRequest<'refund'>): SimulatedAnswer {
    const channel = this.channelConfig(channelId);
    const records = this.records(channelId);
    const requestKey = JSON.stringify(request);
    const existing = records.refunds.get(request.out_refund_no);
    const refundAnswer = (refund: NonNullable<typeof existing>) =>
      this.ok(
        channelId,
        {
          refund_no: refund.channelRefundNo,
          refund_state: refund.state,
          time: this.#time(refund.completedAtMs ?? refund.createdAtMs),
        },
        refund.state === 'PROCESSING',
      );
    if (existing)
      return existing.requestKey === requestKey ? refundAnswer(existing) : this.refusal(channelId, 'order_conflict');
    if (!channel.profile.capabilities.refund) return this.refusal(channelId, 'not_supported');
    const order = records.orders.get(request.out_trade_no);
    if (!order || order.kind !== 'PAY') return this.refusal(channelId, 'order_not_found');
    if (order.state !== 'SUCCESS') return this.refusal(channelId, 'order_closed');
    const amountMinor = BigInt(request.amt);
    if (request.ccy !== order.currency || amountMinor < 1n || order.refundedMinor + amountMinor > order.amountMinor)
      return this.refusal(channelId, 'refund_exceeds');
    const refund = {
      refundNo: request.out_refund_no,
      orderNo: order.orderNo,
      channelRefundNo: this.tradeNo(channelId, 'R', request.out_refund_no),
      amountMinor,
      currency: order.currency,
      requestKey,
      createdAtMs: this.nowMs(),
      notifyUrl: request.notify_url ?? null,
      state: 'PROCESSING' as 'PROCESSING' | 'SUCCESS' | 'FAIL',
      completedAtMs: null as number | null,
    };
    records.refunds.set(refund.refundNo, refund);
    // Held at once so that two refunds racing cannot both pass the check above.
    order.refundedMinor += amountMinor;
    const complete = () => {
      refund.state = 'SUCCESS';
      refund.completedAtMs = this.nowMs();
      records.merchantBalanceMinor -= amountMinor;
      if (order.cardholder !== null) this.config.cardholders[order.cardholder]!.balanceMinor += amountMinor;
    };
    if (channel.kind === 'platform') {
      const delayMs = drawBetween(this.config.seed, channel.asyncResultMs, channelId, refund.refundNo, 'async');
      this.#later(delayMs, async () => {
        complete();
        if (refund.notifyUrl)
          await this.#notify(channelId, refund.notifyUrl, [this.#notice(channelId, 'REFUND', order, refund.refundNo)]);
      });
      return refundAnswer(refund);
    }
    complete();
    return refundAnswer(refund);
  }

  #cancel(channelId: string, request: WireRequest<'cancel'>): SimulatedAnswer {
    const channel = this.channelConfig(channelId);
    if (!channel.profile.capabilities.cancel) return this.refusal(channelId, 'not_supported');
    const order = this.records(channelId).orders.get(request.out_trade_no);
    if (!order || order.kind !== 'PAY') return this.refusal(channelId, 'order_not_found');
    if (order.state === 'CANCELLED') return this.ok(channelId, { time: this.#time(order.completedAtMs!) });
    const sameDay = this.#dayOf(order.createdAtMs) === this.#dayOf(this.nowMs());
    if (order.state !== 'SUCCESS' || order.settled || order.refundedMinor > 0n || !sameDay)
      return this.refusal(channelId, 'cancel_not_allowed');
    order.state = 'CANCELLED';
    order.completedAtMs = this.nowMs();
    const records = this.records(channelId);
    // A void undoes the charge whole, fee included.
    records.merchantBalanceMinor -= order.amountMinor - order.feeMinor;
    order.feeMinor = 0n;
    if (order.cardholder !== null) this.config.cardholders[order.cardholder]!.balanceMinor += order.amountMinor;
    return this.ok(channelId, { time: this.#time(order.completedAtMs) });
  }
}

/** A new order, processing, nothing refunded, settled or notified yet. */
function newOrder(
  fields: Omit<OrderRecord, 'state' | 'completedAtMs' | 'failCode' | 'refundedMinor' | 'settled' | 'noticeSeq'>,
): OrderRecord {
  return {
    ...fields,
    state: 'PROCESSING',
    completedAtMs: null,
    failCode: null,
    refundedMinor: 0n,
    settled: false,
    noticeSeq: 0,
  };
}

/** What identifies a request's order at the channel, for the per-order attempt count. */
function requestKeyOf(operation: WireOperation, request: Record<string, unknown>): string {
  const key =
    request.out_refund_no ??
    request.out_trade_no ??
    request.request_no ??
    request.contract_no ??
    request.bill_date ??
    request.ccy;
  return `${operation}:${String(key)}`;
}

import type { ChannelProfile } from '../../domain/channels/channel-profile.js';
import type { CurrencyCode } from '../../domain/money/currency.js';
import { parseCurrency } from '../../domain/money/money.js';
import type {
  BalanceOutcome,
  CallOptions,
  CancelOutcome,
  ChannelNotification,
  ChannelOrderState,
  ChannelPort,
  ChargeOutcome,
  ChargeRequest,
  ContractStatusOutcome,
  Declined,
  InboundHttpMessage,
  NotificationCheck,
  OrderQueryOutcome,
  PayoutOutcome,
  PayoutRequest,
  RefundOutcome,
  RefundQueryOutcome,
  RefundRequest,
  SignOutcome,
  SignRequest,
  StatementOutcome,
  Unavailable,
  Unknown,
  UnsignOutcome,
  VerifyElementsOutcome,
  VerifyElementsRequest,
} from '../../ports/channel-port.js';
import { meaningOf } from './channel-error-codes.js';
import type { ChannelTransport } from './channel-transport.js';
import type { ChannelKind } from './simulator/channel-dialects.js';
import {
  responseEnvelope,
  WIRE_VERSION,
  wireAnswers,
  wireNotification,
  type TradeState,
  type WireAnswer,
  type WireOperation,
  type WireRequest,
} from './wire/wire-messages.js';
import { assertChannelKey, checkSignature, newNonce, signatureHeaders, type ChannelKey } from './wire/wire-signing.js';

export interface HttpChannelSettings {
  readonly channelId: string;
  readonly kind: ChannelKind;
  readonly profile: ChannelProfile;
  /** Our merchant id at the channel. */
  readonly merchantId: string;
  readonly key: ChannelKey;
  readonly transport: ChannelTransport;
  /** The largest timeout a caller may ask for: a call is never left without a bound. */
  readonly maxTimeoutMs?: number;
}

const DEFAULT_MAX_TIMEOUT_MS = 60_000;

type Answered<Op extends WireOperation> =
  | { readonly meaning: 'success' | 'accepted'; readonly data: WireAnswer<Op> }
  | { readonly meaning: 'failed'; readonly outcome: Declined | Unknown | Unavailable };

const TRADE_STATES: Readonly<Record<TradeState, ChannelOrderState>> = {
  PROCESSING: 'pending',
  SUCCESS: 'succeeded',
  FAIL: 'failed',
  CLOSED: 'closed',
  CANCELLED: 'cancelled',
};

/** What a channel wants back to a notice it should stop resending, in its own format. */
const ACKNOWLEDGEMENTS: Readonly<Record<ChannelKind, { statusCode: number; body: string; contentType: string }>> = {
  bank: { statusCode: 200, body: 'success', contentType: 'text/plain' },
  card_network: { statusCode: 200, body: 'ok', contentType: 'text/plain' },
  platform: { statusCode: 200, body: '{"code":"SUCCESS","message":"OK"}', contentType: 'application/json' },
};

/**
 * The adapter for the simulated channels' wire protocol, written as an adapter for a real bank is: each
 * call is a versioned JSON message signed with the channel's key (HMAC-SHA256 over the canonical form),
 * bounded by the caller's timeout; the answer's signature is checked against our request's nonce before
 * anything in it is believed; the channel's codes are mapped through its table. A timeout, a dropped
 * connection after sending, a system error code, a bad signature or a shape we do not know are
 * `unknown`; connection refused or the channel's busy code are `unavailable`.
 */
export class HttpChannelAdapter implements ChannelPort {
  readonly channelId: string;
  readonly profile: ChannelProfile;
  readonly merchantId: string;

  constructor(private readonly settings: HttpChannelSettings) {
    assertChannelKey(settings.key);
    if (settings.profile.channelId !== settings.channelId)
      throw new RangeError(`channel ${settings.channelId}: its profile names ${settings.profile.channelId}`);
    this.channelId = settings.channelId;
    this.profile = settings.profile;
    this.merchantId = settings.merchantId;
  }

  async #call<Op extends WireOperation>(
    operation: Op,
    data: WireRequest<Op>,
    options: CallOptions,
  ): Promise<Answered<Op>> {
    const maxTimeoutMs = this.settings.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS;
    if (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs < 1 || options.timeoutMs > maxTimeoutMs)
      throw new RangeError(`timeoutMs must be an integer in 1..${maxTimeoutMs}`);
    const path = `/${this.channelId}/v1/${operation}`;
    const body = JSON.stringify({ ver: WIRE_VERSION, mch_id: this.settings.merchantId, data });
    const nonce = newNonce();
    const headers = {
      'content-type': 'application/json',
      ...signatureHeaders(this.settings.key, { kind: 'POST', path, timestampMs: Date.now(), nonce, body }),
    };
    const result = await this.settings.transport({ path, headers, body }, options.timeoutMs);
    const unknown = (reason: Unknown['reason'], detail: string): Answered<Op> => ({
      meaning: 'failed',
      outcome: { status: 'unknown', reason, detail },
    });
    switch (result.kind) {
      case 'timeout':
        return unknown('timeout', `no answer within ${options.timeoutMs} ms`);
      case 'failed':
        return unknown('system_error', `connection lost after sending: ${result.detail}`);
      case 'refused':
        return {
          meaning: 'failed',
          outcome: { status: 'unavailable', reason: 'connection_refused', detail: result.detail },
        };
      case 'answer':
        break;
    }
    const signature = checkSignature(
      this.settings.key,
      { kind: 'RESPONSE', path, headers: result.headers, body: result.body },
      Date.now(),
      nonce,
    );
    if (signature !== 'valid')
      return unknown('bad_answer', `answer signature ${signature} (HTTP ${result.statusCode})`);
    let envelope;
    try {
      envelope = responseEnvelope.parse(JSON.parse(result.body));
    } catch {
      return unknown('bad_answer', `answer is not a version ${WIRE_VERSION} envelope (HTTP ${result.statusCode})`);
    }
    const meaning = meaningOf(this.settings.kind, envelope.ret_code);
    switch (meaning) {
      case 'success':
      case 'accepted': {
        const parsed = wireAnswers[operation].safeParse(envelope.data);
        if (!parsed.success)
          return unknown('bad_answer', `${operation} answer data does not match version ${WIRE_VERSION}`);
        return { meaning, data: parsed.data as WireAnswer<Op> };
      }
      case 'busy':
        return {
          meaning: 'failed',
          outcome: { status: 'unavailable', reason: 'outage', detail: `${envelope.ret_code} ${envelope.ret_msg}` },
        };
      case 'system_error':
        return unknown('system_error', `${envelope.ret_code} ${envelope.ret_msg}`);
      default:
        return {
          meaning: 'failed',
          outcome: {
            status: 'declined',
            code: meaning,
            message: declineMessage(meaning),
            channelCode: envelope.ret_code,
            channelMessage: envelope.ret_msg,
          },
        };
    }
  }

  #unsupported(what: string): Declined {
    return {
      status: 'declined',
      code: 'not_supported',
      message: `${this.channelId} does not offer ${what}`,
      channelCode: '',
      channelMessage: '',
    };
  }

  #trade(answer: WireAnswer<'charge'> | WireAnswer<'payout'>): ChargeOutcome {
    if (answer.trade_state === 'SUCCESS')
      return {
        status: 'succeeded',
        channelOrderNo: answer.trade_no,
        feeMinor: BigInt(answer.fee),
        channelTime: answer.time,
      };
    if (answer.trade_state === 'PROCESSING')
      return { status: 'pending', channelOrderNo: answer.trade_no, payerActionUrl: answer.pay_url };
    return { status: 'unknown', reason: 'bad_answer', detail: `a success code with trade state ${answer.trade_state}` };
  }

  async charge(request: ChargeRequest, options: CallOptions): Promise<ChargeOutcome> {
    const { instrument } = request;
    const data: WireRequest<'charge'> = {
      out_trade_no: request.orderNo,
      amt: request.amount.amountMinor.toString(),
      ccy: request.amount.currency,
      subject: request.description,
      ...(request.notifyUrl ? { notify_url: request.notifyUrl } : {}),
      ...(instrument.method === 'quick_pay'
        ? { pay_method: 'QUICK' as const, contract_no: instrument.contractNo }
        : instrument.method === 'online_banking'
          ? { pay_method: 'EBANK' as const, bank_code: instrument.bankCode, return_url: instrument.returnUrl }
          : { pay_method: 'WALLET' as const, platform: instrument.platform }),
    };
    if (!this.profile.capabilities.charges.some((offer) => offer.method === instrument.method))
      return this.#unsupported(instrument.method);
    const answered = await this.#call('charge', data, options);
    return answered.meaning === 'failed' ? answered.outcome : this.#trade(answered.data);
  }

  async payout(request: PayoutRequest, options: CallOptions): Promise<PayoutOutcome> {
    if (!this.profile.capabilities.payout) return this.#unsupported('payouts');
    const answered = await this.#call(
      'payout',
      {
        out_trade_no: request.orderNo,
        amt: request.amount.amountMinor.toString(),
        ccy: request.amount.currency,
        contract_no: request.contractNo,
      },
      options,
    );
    return answered.meaning === 'failed' ? answered.outcome : this.#trade(answered.data);
  }

  async refund(request: RefundRequest, options: CallOptions): Promise<RefundOutcome> {
    if (!this.profile.capabilities.refund) return this.#unsupported('refunds');
    const answered = await this.#call(
      'refund',
      {
        out_refund_no: request.refundNo,
        out_trade_no: request.orderNo,
        amt: request.amount.amountMinor.toString(),
        ccy: request.amount.currency,
        ...(request.notifyUrl ? { notify_url: request.notifyUrl } : {}),
      },
      options,
    );
    if (answered.meaning === 'failed') return answered.outcome;
    const { refund_no: channelRefundNo, refund_state: state, time } = answered.data;
    if (state === 'SUCCESS') return { status: 'succeeded', channelRefundNo, channelTime: time };
    if (state === 'PROCESSING') return { status: 'pending', channelRefundNo };
    return { status: 'unknown', reason: 'bad_answer', detail: `a success code with refund state ${state}` };
  }

  async cancel(request: { readonly orderNo: string }, options: CallOptions): Promise<CancelOutcome> {
    if (!this.profile.capabilities.cancel) return this.#unsupported('voids (refund instead)');
    const answered = await this.#call('cancel', { out_trade_no: request.orderNo }, options);
    return answered.meaning === 'failed' ? answered.outcome : { status: 'succeeded', channelTime: answered.data.time };
  }

  async queryOrder(orderNo: string, options: CallOptions): Promise<OrderQueryOutcome> {
    if (!this.profile.capabilities.orderQuery) return this.#unsupported('order queries');
    const answered = await this.#call('order.query', { out_trade_no: orderNo }, options);
    if (answered.meaning === 'failed') return answered.outcome;
    const order = answered.data;
    const currency = parseCurrency(order.ccy);
    return {
      status: 'succeeded',
      order: {
        orderNo: order.out_trade_no,
        channelOrderNo: order.trade_no,
        kind: order.kind === 'PAY' ? 'charge' : 'payout',
        state: TRADE_STATES[order.trade_state],
        amount: { amountMinor: BigInt(order.amt), currency },
        feeMinor: BigInt(order.fee),
        refundedMinor: BigInt(order.refunded_amt),
        channelTime: order.time,
        failureCode: order.fail_code,
      },
    };
  }

  async queryRefund(refundNo: string, options: CallOptions): Promise<RefundQueryOutcome> {
    if (!this.profile.capabilities.refundQuery) return this.#unsupported('refund queries');
    const answered = await this.#call('refund.query', { out_refund_no: refundNo }, options);
    if (answered.meaning === 'failed') return answered.outcome;
    const refund = answered.data;
    return {
      status: 'succeeded',
      refund: {
        refundNo: refund.out_refund_no,
        orderNo: refund.out_trade_no,
        channelRefundNo: refund.refund_no,
        state:
          refund.refund_state === 'PROCESSING' ? 'pending' : refund.refund_state === 'SUCCESS' ? 'succeeded' : 'failed',
        amount: { amountMinor: BigInt(refund.amt), currency: parseCurrency(refund.ccy) },
        channelTime: refund.time,
      },
    };
  }

  async balance(currency: CurrencyCode, options: CallOptions): Promise<BalanceOutcome> {
    if (!this.profile.capabilities.balanceQuery) return this.#unsupported('balance queries');
    const answered = await this.#call('balance', { ccy: currency }, options);
    if (answered.meaning === 'failed') return answered.outcome;
    return {
      status: 'succeeded',
      available: { amountMinor: BigInt(answered.data.available), currency: parseCurrency(answered.data.ccy) },
      asOf: answered.data.time,
    };
  }

  async statement(accountingDate: string, options: CallOptions): Promise<StatementOutcome> {
    if (!this.profile.capabilities.statements) return this.#unsupported('statements');
    const answered = await this.#call('statement', { bill_date: accountingDate }, options);
    if (answered.meaning === 'failed') return answered.outcome;
    const { format, file_name: fileName, content } = answered.data;
    return { status: 'succeeded', statement: { accountingDate, format, fileName, content } };
  }

  async verifyElements(request: VerifyElementsRequest, options: CallOptions): Promise<VerifyElementsOutcome> {
    if (!this.profile.capabilities.contracts) return this.#unsupported('bind-card contracts');
    const { elements } = request;
    // The only place the clear card and identity data are read: into the message to the channel.
    const answered = await this.#call(
      'contract.verify',
      {
        request_no: request.requestNo,
        card_no: elements.cardNumber.reveal(),
        name: elements.holderName.reveal(),
        id_no: elements.idNumber.reveal(),
        phone: elements.phone.reveal(),
        ...(elements.expiry ? { expiry: elements.expiry.reveal() } : {}),
        ...(elements.cvn2 ? { cvn2: elements.cvn2.reveal() } : {}),
      },
      options,
    );
    if (answered.meaning === 'failed') return answered.outcome;
    const answer = answered.data;
    return answer.step === 'SMS_SENT'
      ? {
          status: 'succeeded',
          step: 'code_sent',
          verificationId: answer.verification_id,
          maskedPhone: answer.phone_masked,
        }
      : { status: 'succeeded', step: 'signed', contractNo: answer.contract_no, maskedCard: answer.card_masked };
  }

  async sign(request: SignRequest, options: CallOptions): Promise<SignOutcome> {
    if (this.profile.capabilities.contracts !== 'verify_then_sign')
      return this.#unsupported('signing with an SMS code');
    const answered = await this.#call(
      'contract.sign',
      { request_no: request.requestNo, verification_id: request.verificationId, sms_code: request.code.reveal() },
      options,
    );
    if (answered.meaning === 'failed') return answered.outcome;
    return { status: 'succeeded', contractNo: answered.data.contract_no, maskedCard: answered.data.card_masked };
  }

  async unsign(contractNo: string, options: CallOptions): Promise<UnsignOutcome> {
    if (!this.profile.capabilities.contracts) return this.#unsupported('bind-card contracts');
    const answered = await this.#call('contract.unsign', { contract_no: contractNo }, options);
    return answered.meaning === 'failed' ? answered.outcome : { status: 'succeeded', channelTime: answered.data.time };
  }

  async contractStatus(contractNo: string, options: CallOptions): Promise<ContractStatusOutcome> {
    if (!this.profile.capabilities.contracts) return this.#unsupported('bind-card contracts');
    const answered = await this.#call('contract.query', { contract_no: contractNo }, options);
    if (answered.meaning === 'failed') return answered.outcome;
    return {
      status: 'succeeded',
      state: answered.data.contract_state === 'ACTIVE' ? 'active' : 'terminated',
      maskedCard: answered.data.card_masked,
    };
  }

  verifyNotification(message: InboundHttpMessage, nowMs: number): NotificationCheck {
    const signature = checkSignature(
      this.settings.key,
      { kind: 'POST', path: message.path, headers: message.headers, body: message.rawBody },
      nowMs,
    );
    if (signature !== 'valid') return { ok: false, reason: signature };
    let parsed;
    try {
      parsed = wireNotification.parse(JSON.parse(message.rawBody.toString('utf8')));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (parsed.mch_id !== this.settings.merchantId) return { ok: false, reason: 'wrong_channel' };
    const notification: ChannelNotification = {
      notificationId: parsed.notify_id,
      kind: parsed.notify_type === 'PAY' ? 'payment' : parsed.notify_type === 'REFUND' ? 'refund' : 'settlement',
      orderNo: parsed.out_trade_no,
      refundNo: parsed.out_refund_no,
      channelOrderNo: parsed.trade_no,
      state: TRADE_STATES[parsed.trade_state],
      amount: { amountMinor: BigInt(parsed.amt), currency: parseCurrency(parsed.ccy) },
      feeMinor: BigInt(parsed.fee),
      sequence: parsed.seq,
      channelTime: parsed.time,
    };
    return { ok: true, notification, acknowledgement: ACKNOWLEDGEMENTS[this.settings.kind] };
  }
}

const DECLINE_MESSAGES: Readonly<Record<Declined['code'], string>> = {
  insufficient_funds: 'the payer has not enough funds',
  card_invalid: 'the card does not exist or cannot be used',
  card_restricted: 'the card is frozen or restricted',
  limit_exceeded: "the amount is over the channel's limit",
  elements_mismatch: 'the cardholder details do not match the bank',
  verification_code_invalid: 'the SMS code is wrong',
  verification_code_expired: 'the SMS code has expired or its tries are used up',
  contract_invalid: 'the card contract is not active at the channel',
  order_conflict: 'the order number was used with other details',
  order_not_found: 'the channel has no such order',
  order_closed: 'the order is closed at the channel',
  refund_exceeds_payment: 'the refund is more than what is left of the payment',
  cancel_not_allowed: 'the charge can no longer be voided; refund it',
  statement_not_ready: 'the statement is not available yet',
  not_supported: 'the channel does not offer this',
  request_rejected: 'the channel refused the request as malformed or badly signed',
};

function declineMessage(code: Declined['code']): string {
  return DECLINE_MESSAGES[code];
}

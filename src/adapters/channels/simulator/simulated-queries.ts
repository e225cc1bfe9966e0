import { DateTime } from 'luxon';
import type { WireRequest } from '../wire/wire-messages.js';
import type { ChannelSimulator, SimulatedAnswer } from './channel-simulator.js';
import { statementCsv, STATEMENT_FORMAT } from './statement-file.js';

function isoTime(atMs: number): string {
  return new Date(atMs).toISOString();
}

/**
 * What the simulated channels answer about what they did: an order (closing an unpaid async order once
 * it has expired, as a query to a real channel does), a refund, our balance with them, and a day's
 * statement once that day is over in their time zone.
 */
export class SimulatedQueries {
  constructor(private readonly core: ChannelSimulator) {}

  order(channelId: string, request: WireRequest<'order.query'>): SimulatedAnswer {
    const order = this.core.records(channelId).orders.get(request.out_trade_no);
    if (!order) return this.core.refusal(channelId, 'order_not_found');
    if (
      order.state === 'PROCESSING' &&
      this.core.nowMs() - order.createdAtMs >= this.core.channelConfig(channelId).orderExpiryMs
    ) {
      order.state = 'CLOSED';
      this.core.countTowardsDay(channelId, order, -1n);
      order.completedAtMs = this.core.nowMs();
      order.feeMinor = 0n;
    }
    return this.core.ok(channelId, {
      out_trade_no: order.orderNo,
      trade_no: order.channelOrderNo,
      kind: order.kind,
      trade_state: order.state,
      amt: order.amountMinor.toString(),
      ccy: order.currency,
      fee: order.feeMinor.toString(),
      refunded_amt: order.refundedMinor.toString(),
      time: isoTime(order.completedAtMs ?? order.createdAtMs),
      fail_code: order.failCode,
    });
  }

  refund(channelId: string, request: WireRequest<'refund.query'>): SimulatedAnswer {
    const refund = this.core.records(channelId).refunds.get(request.out_refund_no);
    if (!refund) return this.core.refusal(channelId, 'order_not_found');
    return this.core.ok(channelId, {
      out_refund_no: refund.refundNo,
      out_trade_no: refund.orderNo,
      refund_no: refund.channelRefundNo,
      refund_state: refund.state,
      amt: refund.amountMinor.toString(),
      ccy: refund.currency,
      time: isoTime(refund.completedAtMs ?? refund.createdAtMs),
    });
  }

  balance(channelId: string, request: WireRequest<'balance'>): SimulatedAnswer {
    const channel = this.core.channelConfig(channelId);
    if (!channel.profile.currencies.includes(request.ccy as never))
      return this.core.refusal(channelId, 'not_supported');
    return this.core.ok(channelId, {
      available: this.core.records(channelId).merchantBalanceMinor.toString(),
      ccy: request.ccy,
      time: isoTime(this.core.nowMs()),
    });
  }

  statement(channelId: string, request: WireRequest<'statement'>): SimulatedAnswer {
    const dayEndMs = DateTime.fromISO(request.bill_date, { zone: this.core.config.timeZone })
      .plus({ days: 1 })
      .startOf('day')
      .toMillis();
    // A day's statement exists once the day is over in the channel's time zone.
    if (this.core.nowMs() < dayEndMs) return this.core.refusal(channelId, 'statement_not_ready');
    return this.core.ok(channelId, {
      format: STATEMENT_FORMAT,
      file_name: `${channelId}-${this.core.config.merchantId}-${request.bill_date}.csv`,
      content: statementCsv(
        this.core.records(channelId),
        this.core.config.merchantId,
        request.bill_date,
        this.core.config.timeZone,
      ),
    });
  }
}

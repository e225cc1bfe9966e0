import { z } from 'zod';

/**
 * The simulated channels' wire protocol, version 1: JSON envelopes with the channel's own field names
 * (snake_case, amounts as integer strings of minor units, states in capitals), the way a bank's
 * interface document defines them. The simulator validates requests with these schemas, the adapter
 * validates answers with them: an answer that does not parse is an `unknown` outcome, never a guess.
 */
export const WIRE_VERSION = '1';

const amount = z.string().regex(/^(0|[1-9][0-9]{0,18})$/);
const currency = z.string().regex(/^[A-Z]{3}$/);
const orderNo = z.string().min(1).max(64);
const instant = z.string().min(20).max(40);

export const requestEnvelope = z.strictObject({
  ver: z.literal(WIRE_VERSION),
  mch_id: z.string().min(1).max(32),
  data: z.record(z.string(), z.unknown()),
});

export const responseEnvelope = z.strictObject({
  ver: z.literal(WIRE_VERSION),
  ret_code: z.string().min(1).max(32),
  ret_msg: z.string().max(256),
  data: z.record(z.string(), z.unknown()).nullable(),
});

export type TradeState = 'PROCESSING' | 'SUCCESS' | 'FAIL' | 'CLOSED' | 'CANCELLED';
const tradeState = z.enum(['PROCESSING', 'SUCCESS', 'FAIL', 'CLOSED', 'CANCELLED']);
const refundState = z.enum(['PROCESSING', 'SUCCESS', 'FAIL']);

export const wireRequests = {
  charge: z.strictObject({
    out_trade_no: orderNo,
    amt: amount,
    ccy: currency,
    pay_method: z.enum(['QUICK', 'EBANK', 'WALLET']),
    contract_no: z.string().max(64).optional(),
    bank_code: z.string().max(16).optional(),
    return_url: z.string().max(512).optional(),
    platform: z.string().max(16).optional(),
    notify_url: z.string().max(512).optional(),
    subject: z.string().max(128),
  }),
  payout: z.strictObject({ out_trade_no: orderNo, amt: amount, ccy: currency, contract_no: z.string().max(64) }),
  refund: z.strictObject({
    out_refund_no: orderNo,
    out_trade_no: orderNo,
    amt: amount,
    ccy: currency,
    notify_url: z.string().max(512).optional(),
  }),
  cancel: z.strictObject({ out_trade_no: orderNo }),
  'order.query': z.strictObject({ out_trade_no: orderNo }),
  'refund.query': z.strictObject({ out_refund_no: orderNo }),
  balance: z.strictObject({ ccy: currency }),
  statement: z.strictObject({ bill_date: z.iso.date() }),
  'contract.verify': z.strictObject({
    request_no: orderNo,
    card_no: z.string().regex(/^[0-9]{12,19}$/),
    name: z.string().min(1).max(64),
    id_no: z.string().min(6).max(32),
    phone: z.string().regex(/^[0-9]{6,15}$/),
    expiry: z
      .string()
      .regex(/^[0-9]{4}$/)
      .optional(),
    cvn2: z
      .string()
      .regex(/^[0-9]{3}$/)
      .optional(),
  }),
  'contract.sign': z.strictObject({
    request_no: orderNo,
    verification_id: z.string().max(64),
    sms_code: z.string().max(8),
  }),
  'contract.unsign': z.strictObject({ contract_no: z.string().max(64) }),
  'contract.query': z.strictObject({ contract_no: z.string().max(64) }),
} as const;

export type WireOperation = keyof typeof wireRequests;
export const WIRE_OPERATIONS = Object.keys(wireRequests) as WireOperation[];
export type WireRequest<Op extends WireOperation> = z.infer<(typeof wireRequests)[Op]>;

export const wireAnswers = {
  charge: z.strictObject({
    trade_no: z.string(),
    trade_state: tradeState,
    fee: amount,
    time: instant,
    pay_url: z.string().nullable(),
  }),
  payout: z.strictObject({
    trade_no: z.string(),
    trade_state: tradeState,
    fee: amount,
    time: instant,
    pay_url: z.null(),
  }),
  refund: z.strictObject({ refund_no: z.string(), refund_state: refundState, time: instant }),
  cancel: z.strictObject({ time: instant }),
  'order.query': z.strictObject({
    out_trade_no: orderNo,
    trade_no: z.string(),
    kind: z.enum(['PAY', 'PAYOUT']),
    trade_state: tradeState,
    amt: amount,
    ccy: currency,
    fee: amount,
    refunded_amt: amount,
    time: instant,
    fail_code: z.string().nullable(),
  }),
  'refund.query': z.strictObject({
    out_refund_no: orderNo,
    out_trade_no: orderNo,
    refund_no: z.string(),
    refund_state: refundState,
    amt: amount,
    ccy: currency,
    time: instant,
  }),
  balance: z.strictObject({ available: z.string().regex(/^-?(0|[1-9][0-9]{0,18})$/), ccy: currency, time: instant }),
  statement: z.strictObject({ format: z.string(), file_name: z.string(), content: z.string() }),
  'contract.verify': z.discriminatedUnion('step', [
    z.strictObject({ step: z.literal('SMS_SENT'), verification_id: z.string(), phone_masked: z.string() }),
    z.strictObject({ step: z.literal('SIGNED'), contract_no: z.string(), card_masked: z.string() }),
  ]),
  'contract.sign': z.strictObject({ contract_no: z.string(), card_masked: z.string() }),
  'contract.unsign': z.strictObject({ time: instant }),
  'contract.query': z.strictObject({ contract_state: z.enum(['ACTIVE', 'TERMINATED']), card_masked: z.string() }),
} as const satisfies Record<WireOperation, z.ZodType>;

export type WireAnswer<Op extends WireOperation> = z.infer<(typeof wireAnswers)[Op]>;

export const wireNotification = z.strictObject({
  ver: z.literal(WIRE_VERSION),
  mch_id: z.string(),
  notify_id: z.string().min(1).max(64),
  notify_type: z.enum(['PAY', 'REFUND', 'SETTLE']),
  out_trade_no: orderNo,
  out_refund_no: orderNo.nullable(),
  trade_no: z.string(),
  trade_state: tradeState,
  amt: amount,
  ccy: currency,
  fee: amount,
  seq: z.int().min(1),
  time: instant,
});

export type WireNotification = z.infer<typeof wireNotification>;

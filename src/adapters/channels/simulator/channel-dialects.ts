/**
 * The simulated channels' own answer codes, as each one's interface document would list them: a bank
 * with E-codes, a card network with ISO 8583-style response codes, a wallet platform with words. The
 * simulator answers in these; the adapters map them to ours (channel-error-codes.ts), as a real adapter
 * maps a real channel's document.
 */
export type ChannelKind = 'bank' | 'card_network' | 'platform';

export type SimulatedRefusal =
  | 'insufficient_funds'
  | 'card_invalid'
  | 'card_restricted'
  | 'limit_exceeded'
  | 'elements_mismatch'
  | 'code_invalid'
  | 'code_expired'
  | 'contract_invalid'
  | 'order_conflict'
  | 'order_not_found'
  | 'order_closed'
  | 'refund_exceeds'
  | 'cancel_not_allowed'
  | 'statement_not_ready'
  | 'not_supported'
  | 'param_error'
  | 'signature_invalid';

export interface ChannelDialect {
  readonly success: string;
  readonly accepted: string;
  readonly systemError: string;
  readonly busy: string;
  readonly refusals: Readonly<Record<SimulatedRefusal, readonly [code: string, message: string]>>;
}

export const CHANNEL_DIALECTS: Readonly<Record<ChannelKind, ChannelDialect>> = {
  bank: {
    success: '0000',
    accepted: '0001',
    systemError: 'E9999',
    busy: 'E9998',
    refusals: {
      insufficient_funds: ['E1001', 'insufficient balance on the card'],
      card_invalid: ['E1002', 'card number does not exist'],
      card_restricted: ['E1003', 'card frozen or restricted'],
      limit_exceeded: ['E1004', 'amount exceeds the limit'],
      elements_mismatch: ['E1101', 'cardholder information does not match'],
      code_invalid: ['E1102', 'SMS verification code is wrong'],
      code_expired: ['E1103', 'SMS verification code has expired'],
      contract_invalid: ['E1104', 'agreement number invalid or terminated'],
      order_conflict: ['E2001', 'order number used with different content'],
      order_not_found: ['E2002', 'order does not exist'],
      order_closed: ['E2003', 'order is closed'],
      refund_exceeds: ['E2004', 'refund amount exceeds the refundable amount'],
      cancel_not_allowed: ['E2005', 'order can no longer be voided'],
      statement_not_ready: ['E3001', 'statement not generated yet'],
      not_supported: ['E4001', 'service not opened for this merchant'],
      param_error: ['E4002', 'request parameters invalid'],
      signature_invalid: ['E4003', 'signature verification failed'],
    },
  },
  card_network: {
    success: '00',
    accepted: '09',
    systemError: '96',
    busy: '91',
    refusals: {
      insufficient_funds: ['51', 'not sufficient funds'],
      card_invalid: ['14', 'invalid card number'],
      card_restricted: ['62', 'restricted card'],
      limit_exceeded: ['61', 'exceeds withdrawal amount limit'],
      elements_mismatch: ['Y1', 'cardholder identity verification failed'],
      code_invalid: ['Y2', 'verification code incorrect'],
      code_expired: ['Y3', 'verification code expired'],
      contract_invalid: ['Y4', 'token not active'],
      order_conflict: ['94', 'duplicate transmission'],
      order_not_found: ['25', 'unable to locate record'],
      order_closed: ['12', 'invalid transaction'],
      refund_exceeds: ['13', 'invalid amount'],
      cancel_not_allowed: ['Y5', 'original transaction settled, void refused'],
      statement_not_ready: ['Y6', 'settlement file not ready'],
      not_supported: ['40', 'requested function not supported'],
      param_error: ['30', 'format error'],
      signature_invalid: ['63', 'security violation'],
    },
  },
  platform: {
    success: 'SUCCESS',
    accepted: 'ACCEPTED',
    systemError: 'SYSTEMERROR',
    busy: 'SYSTEM_BUSY',
    refusals: {
      insufficient_funds: ['NOTENOUGH', 'the payer has not enough balance'],
      card_invalid: ['BANKERROR', 'the payer bank card is invalid'],
      card_restricted: ['ACCOUNTERROR', 'the payer account is restricted'],
      limit_exceeded: ['AMOUNT_LIMIT', 'amount over the limit'],
      elements_mismatch: ['NO_AUTH', 'not authorised'],
      code_invalid: ['NO_AUTH', 'not authorised'],
      code_expired: ['NO_AUTH', 'not authorised'],
      contract_invalid: ['NO_AUTH', 'not authorised'],
      order_conflict: ['OUT_TRADE_NO_USED', 'merchant order number already used'],
      order_not_found: ['ORDERNOTEXIST', 'order does not exist'],
      order_closed: ['ORDERCLOSED', 'order closed'],
      refund_exceeds: ['NOT_ENOUGH', 'refund amount exceeds what was paid'],
      cancel_not_allowed: ['ORDERPAID', 'order already paid, refund it instead'],
      statement_not_ready: ['NO_STATEMENT_EXIST', 'statement does not exist yet'],
      not_supported: ['NOT_SUPPORTED', 'interface not opened'],
      param_error: ['PARAM_ERROR', 'parameter error'],
      signature_invalid: ['SIGNERROR', 'signature error'],
    },
  },
};

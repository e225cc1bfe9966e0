import type { ChannelDeclineCode } from '../../ports/channel-port.js';
import type { ChannelKind } from './simulator/channel-dialects.js';

/**
 * What each channel's answer codes mean to us, from its interface document, one table per channel kind.
 * `busy`: the channel accepted nothing (unavailable, safe to retry or route elsewhere). `system_error`:
 * it may have done it (unknown: ask before anything else). A code missing from the table is treated as
 * `system_error`: an answer we cannot read is never taken for a refusal, since money may have moved.
 */
export type AnswerMeaning = 'success' | 'accepted' | 'busy' | 'system_error' | ChannelDeclineCode;

export const CHANNEL_ERROR_CODES: Readonly<Record<ChannelKind, Readonly<Record<string, AnswerMeaning>>>> = {
  bank: {
    '0000': 'success',
    '0001': 'accepted',
    E9998: 'busy',
    E9999: 'system_error',
    E1001: 'insufficient_funds',
    E1002: 'card_invalid',
    E1003: 'card_restricted',
    E1004: 'limit_exceeded',
    E1101: 'elements_mismatch',
    E1102: 'verification_code_invalid',
    E1103: 'verification_code_expired',
    E1104: 'contract_invalid',
    E2001: 'order_conflict',
    E2002: 'order_not_found',
    E2003: 'order_closed',
    E2004: 'refund_exceeds_payment',
    E2005: 'cancel_not_allowed',
    E3001: 'statement_not_ready',
    E4001: 'not_supported',
    E4002: 'request_rejected',
    E4003: 'request_rejected',
  },
  card_network: {
    '00': 'success',
    '09': 'accepted',
    '91': 'busy',
    '96': 'system_error',
    '51': 'insufficient_funds',
    '14': 'card_invalid',
    '62': 'card_restricted',
    '61': 'limit_exceeded',
    Y1: 'elements_mismatch',
    Y2: 'verification_code_invalid',
    Y3: 'verification_code_expired',
    Y4: 'contract_invalid',
    '94': 'order_conflict',
    '25': 'order_not_found',
    '12': 'order_closed',
    '13': 'refund_exceeds_payment',
    Y5: 'cancel_not_allowed',
    Y6: 'statement_not_ready',
    '40': 'not_supported',
    '30': 'request_rejected',
    '63': 'request_rejected',
  },
  platform: {
    SUCCESS: 'success',
    ACCEPTED: 'accepted',
    SYSTEM_BUSY: 'busy',
    SYSTEMERROR: 'system_error',
    NOTENOUGH: 'insufficient_funds',
    BANKERROR: 'card_invalid',
    ACCOUNTERROR: 'card_restricted',
    AMOUNT_LIMIT: 'limit_exceeded',
    NO_AUTH: 'not_supported',
    OUT_TRADE_NO_USED: 'order_conflict',
    ORDERNOTEXIST: 'order_not_found',
    ORDERCLOSED: 'order_closed',
    NOT_ENOUGH: 'refund_exceeds_payment',
    ORDERPAID: 'cancel_not_allowed',
    NO_STATEMENT_EXIST: 'statement_not_ready',
    NOT_SUPPORTED: 'not_supported',
    PARAM_ERROR: 'request_rejected',
    SIGNERROR: 'request_rejected',
  },
};

export function meaningOf(kind: ChannelKind, code: string): AnswerMeaning {
  return CHANNEL_ERROR_CODES[kind][code] ?? 'system_error';
}

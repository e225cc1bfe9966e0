import { z } from 'zod';

/**
 * The SMS provider's wire protocol, version 1 (the simulator speaks it, HttpSmsGateway calls it): the
 * channels' envelope (`ver`, `mch_id`, `data`; answers `ret_code`, `ret_msg`, `data`) and their signing
 * headers, with the provider's own answer codes, as its interface document would list them.
 */
export const SMS_SEND_PATH = '/sms/v1/send';

export const SMS_CODES = {
  ok: 'OK',
  busy: 'BUSY',
  invalidPhone: 'INVALID_PHONE',
  unknownTemplate: 'UNKNOWN_TEMPLATE',
  messageConflict: 'MESSAGE_CONFLICT',
  paramError: 'PARAM_ERROR',
  signatureInvalid: 'SIGNATURE_INVALID',
} as const;

export const smsSendRequest = z.strictObject({
  message_id: z.string().min(1).max(64),
  phone: z.string().max(32),
  template: z.string().min(1).max(64),
  params: z.strictObject({ code: z.string().regex(/^[0-9]{4,8}$/) }),
});

export type SmsSendRequest = z.infer<typeof smsSendRequest>;

export const smsAccepted = z.strictObject({ message_id: z.string(), accepted_at: z.iso.datetime() });

import type { SmsGateway, SmsOutcome, SmsRequest } from '../../ports/sms-gateway.js';
import type { ChannelTransport } from '../channels/channel-transport.js';
import { responseEnvelope, WIRE_VERSION } from '../channels/wire/wire-messages.js';
import { SMS_CODES, SMS_SEND_PATH, smsAccepted } from './sms-wire.js';
import { checkSignature, newNonce, signatureHeaders, type ChannelKey } from '../channels/wire/wire-signing.js';

/**
 * The SMS port over HTTP to a provider speaking the simulator's SMS protocol (`POST /sms/v1/send`, signed
 * both ways like the channels' wire). Written as an adapter for a real provider is: every answer's
 * signature checked before it is believed, the provider's codes mapped to our outcomes, and anything not
 * understood taken as `unknown` (the text may have gone out), never as a refusal.
 */
const MAX_TIMEOUT_MS = 60_000;

/** The provider's refusals that mean nothing was or will be sent. */
const DECLINES: Readonly<Record<string, string>> = {
  [SMS_CODES.invalidPhone]: 'phone_invalid',
  [SMS_CODES.unknownTemplate]: 'template_unknown',
  [SMS_CODES.messageConflict]: 'message_conflict',
  [SMS_CODES.paramError]: 'request_invalid',
  [SMS_CODES.signatureInvalid]: 'signature_refused',
};

export interface HttpSmsGatewayOptions {
  readonly key: ChannelKey;
  /** Our account at the provider. */
  readonly accountId: string;
  readonly transport: ChannelTransport;
}

export class HttpSmsGateway implements SmsGateway {
  constructor(private readonly options: HttpSmsGatewayOptions) {}

  async send(request: SmsRequest, { timeoutMs }: { readonly timeoutMs: number }): Promise<SmsOutcome> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)
      throw new RangeError(`timeoutMs must be in 1..${MAX_TIMEOUT_MS}, not ${timeoutMs}`);
    const body = JSON.stringify({
      ver: WIRE_VERSION,
      mch_id: this.options.accountId,
      data: {
        message_id: request.messageId,
        phone: request.phone.reveal(),
        template: request.template,
        params: { code: request.code.reveal() },
      },
    });
    const nonce = newNonce();
    const headers = {
      'content-type': 'application/json',
      ...signatureHeaders(this.options.key, {
        kind: 'POST',
        path: SMS_SEND_PATH,
        timestampMs: Date.now(),
        nonce,
        body,
      }),
    };
    const result = await this.options.transport({ path: SMS_SEND_PATH, headers, body }, timeoutMs);
    switch (result.kind) {
      case 'timeout':
        return { outcome: 'unknown', detail: `no answer within ${timeoutMs} ms` };
      case 'failed':
        return { outcome: 'unknown', detail: `connection lost after sending: ${result.detail}` };
      case 'refused':
        return { outcome: 'unavailable', detail: `not sent: ${result.detail}` };
      case 'answer':
        break;
    }
    const check = checkSignature(
      this.options.key,
      { kind: 'RESPONSE', path: SMS_SEND_PATH, headers: result.headers, body: result.body },
      Date.now(),
      nonce,
    );
    if (check !== 'valid') return { outcome: 'unknown', detail: `answer not verified: ${check}` };
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.body);
    } catch {
      return { outcome: 'unknown', detail: 'answer not JSON' };
    }
    const envelope = responseEnvelope.safeParse(parsed);
    if (!envelope.success) return { outcome: 'unknown', detail: 'answer not in the expected shape' };
    const { ret_code: code, ret_msg: message, data } = envelope.data;
    if (code === SMS_CODES.busy) return { outcome: 'unavailable', detail: `provider busy: ${message}` };
    const declined = DECLINES[code];
    if (declined) return { outcome: 'declined', code: declined, message };
    const sent = smsAccepted.safeParse(data);
    if (code !== SMS_CODES.ok || !sent.success || sent.data.message_id !== request.messageId)
      return { outcome: 'unknown', detail: `answer not understood: ${code}` };
    return { outcome: 'sent', messageId: sent.data.message_id, acceptedAt: sent.data.accepted_at };
  }
}

import type { SmsGateway, SmsOutcome, SmsRequest } from '../../ports/sms-gateway.js';
import type { ChannelTransport } from '../channels/channel-transport.js';
import { SMS_CODES, SMS_SEND_PATH, smsAccepted } from './sms-wire.js';
import { signedWireCall } from '../channels/wire/signed-wire-call.js';
import type { ChannelKey } from '../channels/wire/wire-signing.js';

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
    const answer = await signedWireCall(
      this.options,
      SMS_SEND_PATH,
      {
        message_id: request.messageId,
        phone: request.phone.reveal(),
        template: request.template,
        params: { code: request.code.reveal() },
      },
      timeoutMs,
    );
    if (answer.kind === 'none')
      return { outcome: answer.sent === 'no' ? 'unavailable' : 'unknown', detail: answer.detail };
    if (answer.kind === 'unverified') return { outcome: 'unknown', detail: answer.detail };
    const { ret_code: code, ret_msg: message, data } = answer.envelope;
    if (code === SMS_CODES.busy) return { outcome: 'unavailable', detail: `provider busy: ${message}` };
    const declined = DECLINES[code];
    if (declined) return { outcome: 'declined', code: declined, message };
    const sent = smsAccepted.safeParse(data);
    if (code !== SMS_CODES.ok || !sent.success || sent.data.message_id !== request.messageId)
      return { outcome: 'unknown', detail: `answer not understood: ${code}` };
    return { outcome: 'sent', messageId: sent.data.message_id, acceptedAt: sent.data.accepted_at };
  }
}

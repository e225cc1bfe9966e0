import { createHash } from 'node:crypto';
import { phoneNumber } from '../../../domain/shared/sensitive-text.js';
import { evictOldest } from '../../../domain/shared/evict-oldest.js';
import { SMS_CODES, type SmsSendRequest } from '../../sms/sms-wire.js';
import { SMS_TEMPLATES } from '../../../ports/sms-gateway.js';
import type { ChannelKey } from '../wire/wire-signing.js';
import type { ChannelSimulator, SimulatedAnswer } from './channel-simulator.js';
import { drawBetween, happens } from './seeded-draw.js';
import { smsGatewayFailures, type SmsGatewayConfig, type SmsGatewayFailures } from './simulator-config.js';

/**
 * A simulated SMS provider, in the shape of the common ones (a templated message with parameters, our
 * message id for de-duplication, its own answer codes): `POST /sms/v1/send`, signed like the channels'
 * wire. The same message id again gives the first answer and sends nothing more; the same id with other
 * content is refused. Messages go to the simulator's one SMS outbox (shared with the banks' bind-card
 * codes), phone masked. Its records keep a hash of each message, never the phone or code in clear.
 */
export const SMS_SOURCE = 'sms-gateway';

/** Answers remembered for de-duplication, most recent kept. */
const MAX_REMEMBERED_MESSAGES = 10_000;

/** The templates this provider was given (a real one approves each template in advance). */
const TEMPLATES = new Set<string>(SMS_TEMPLATES);

export type SmsReply =
  | { readonly kind: 'busy'; readonly answer: SimulatedAnswer }
  | { readonly kind: 'answer'; readonly answer: SimulatedAnswer; readonly delayMs: number };

export class SimulatedSmsGateway {
  readonly #answers = new Map<string, { readonly requestKey: string; readonly answer: SimulatedAnswer }>();
  #failures: SmsGatewayFailures;
  readonly #key: ChannelKey;
  #accepted = 0;

  constructor(
    private readonly core: ChannelSimulator,
    config: SmsGatewayConfig,
  ) {
    this.#failures = config.failures;
    this.#key = { keyId: config.keyId, secret: Buffer.from(config.secretBase64, 'base64') };
  }

  key(): ChannelKey {
    return this.#key;
  }

  failures(): SmsGatewayFailures {
    return this.#failures;
  }

  setFailures(changes: Partial<SmsGatewayFailures>): SmsGatewayFailures {
    this.#failures = smsGatewayFailures.parse({ ...this.#failures, ...changes });
    return this.#failures;
  }

  refusal(code: string, message: string): SimulatedAnswer {
    return { code, message, data: null };
  }

  /** Messages accepted so far (delivered or dropped). */
  acceptedCount(): number {
    return this.#accepted;
  }

  send(request: SmsSendRequest): SmsReply {
    const seed = this.core.config.seed;
    const delayMs = drawBetween(seed, this.#failures.delayMs, SMS_SOURCE, request.message_id, 'delay');
    if (this.#failures.outage)
      return { kind: 'busy', answer: this.refusal(SMS_CODES.busy, 'system busy, nothing accepted') };
    const requestKey = createHash('sha256')
      .update(JSON.stringify([request.phone, request.template, request.params.code]))
      .digest('hex');
    const seen = this.#answers.get(request.message_id);
    if (seen) {
      const answer =
        seen.requestKey === requestKey
          ? seen.answer
          : this.refusal(SMS_CODES.messageConflict, 'message id already used for another message');
      return { kind: 'answer', answer, delayMs };
    }
    if (!/^[0-9]{6,15}$/.test(request.phone))
      return { kind: 'answer', answer: this.refusal(SMS_CODES.invalidPhone, 'phone number not valid'), delayMs };
    if (!TEMPLATES.has(request.template))
      return { kind: 'answer', answer: this.refusal(SMS_CODES.unknownTemplate, 'template not approved'), delayMs };
    const sentAtMs = this.core.nowMs();
    this.#accepted += 1;
    // A dropped message is accepted like any other: the provider does not know the handset never got it.
    if (!happens(seed, this.#failures.dropRatePpm, SMS_SOURCE, request.message_id, 'drop'))
      this.core.outbox.push({
        channelId: SMS_SOURCE,
        verificationId: request.message_id,
        maskedPhone: phoneNumber(request.phone).masked,
        code: request.params.code,
        sentAtMs,
      });
    const answer: SimulatedAnswer = {
      code: SMS_CODES.ok,
      message: 'accepted',
      data: { message_id: request.message_id, accepted_at: new Date(sentAtMs).toISOString() },
    };
    this.#answers.set(request.message_id, { requestKey, answer });
    evictOldest(this.#answers, MAX_REMEMBERED_MESSAGES);
    return { kind: 'answer', answer, delayMs };
  }
}

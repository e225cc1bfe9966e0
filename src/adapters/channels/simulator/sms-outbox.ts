import type { SmsMessage } from './simulator-records.js';

/** The outbox keeps the last this many messages. */
export const MAX_SMS_OUTBOX = 1_000;

/**
 * Every SMS the simulator sent, banks' bind-card codes and the SMS gateway's alike, in sending order:
 * what a payer's phone would show, read by tests and the console through `GET /control/sms-outbox`.
 */
export class SmsOutbox {
  readonly #messages: SmsMessage[] = [];

  push(message: SmsMessage): void {
    this.#messages.push(message);
    if (this.#messages.length > MAX_SMS_OUTBOX) this.#messages.splice(0, this.#messages.length - MAX_SMS_OUTBOX);
  }

  messages(): readonly SmsMessage[] {
    return this.#messages;
  }
}

import type { SensitiveText } from '../domain/shared/sensitive-text.js';

/**
 * Sends a templated SMS (a one-time code for step-up) through an SMS provider. The provider keeps the
 * message idempotent by our `messageId`: sending the same id again after an `unknown` outcome never sends
 * a second text. The phone and the code travel as `SensitiveText`, so a log of the request shows them masked.
 */
export const SMS_TEMPLATES = ['payment_step_up', 'card_binding'] as const;
export type SmsTemplate = (typeof SMS_TEMPLATES)[number];

export interface SmsRequest {
  /** Ours, unique per message: the provider de-duplicates by it. */
  readonly messageId: string;
  readonly phone: SensitiveText;
  readonly template: SmsTemplate;
  readonly code: SensitiveText;
}

export type SmsOutcome =
  /** The provider accepted the message (delivery to the handset is its business, and may still fail). */
  | { readonly outcome: 'sent'; readonly messageId: string; readonly acceptedAt: string }
  /** Refused: nothing will be sent (a phone the provider will not text, a template it does not know). */
  | { readonly outcome: 'declined'; readonly code: string; readonly message: string }
  /** It may have been sent: timeout, connection lost, an answer we cannot verify. Resend with the same id. */
  | { readonly outcome: 'unknown'; readonly detail: string }
  /** Nothing was sent: connection refused, or the provider is busy. */
  | { readonly outcome: 'unavailable'; readonly detail: string };

export interface SmsGateway {
  /** `timeoutMs` in 1..60,000 (else a RangeError): a timeout is `unknown`, never a failure. */
  send(request: SmsRequest, options: { readonly timeoutMs: number }): Promise<SmsOutcome>;
}

import { DomainError } from '../shared/domain-error.js';
import { WEBHOOK_URL_MAX_LENGTH } from './webhook-events.js';

/**
 * What a webhook URL must be, whatever it resolves to: absolute, http(s) as configured, no credentials in
 * it (they would be recorded in events), no fragment (never sent). Where its host points (private,
 * loopback, metadata addresses) is checked by the adapter that resolves it (url-guard.ts), at
 * registration and again at every delivery.
 */
export interface WebhookUrlRules {
  /** Plain http allowed besides https (local development, tests). */
  readonly allowHttp: boolean;
}

export function checkWebhookUrl(text: string, rules: WebhookUrlRules): URL {
  const refuse = (why: string): never => {
    throw new DomainError('invalid_webhook_url', `webhook URL refused: ${why}`, { url: text.slice(0, 200) });
  };
  if (text.length > WEBHOOK_URL_MAX_LENGTH) refuse(`longer than ${WEBHOOK_URL_MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(rules.allowHttp && url.protocol === 'http:'))
    refuse(rules.allowHttp ? 'the scheme must be https or http' : 'the scheme must be https');
  if (url.username !== '' || url.password !== '') refuse('credentials in the URL are not accepted');
  if (url.hash !== '') refuse('a fragment is never sent');
  if (url.hostname === '') refuse('no host');
  return url;
}

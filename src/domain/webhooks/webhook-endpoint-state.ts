import { assert } from '../shared/domain-error.js';
import type { WebhookEventType } from './webhook-event-types.js';
import type { WebhookEndpointEvent } from './webhook-events.js';

export type WebhookEndpointStatus = 'enabled' | 'disabled' | 'deleted';

export type WebhookEndpointState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly endpointId: string;
      readonly merchantId: string;
      readonly url: string;
      /** null: every event type. */
      readonly eventTypes: readonly WebhookEventType[] | null;
      readonly description: string;
      readonly status: WebhookEndpointStatus;
      readonly disabledReason: 'merchant' | 'gone' | null;
      readonly secretVersion: number;
      /** The version before the last rotation, and until when it still signs (UTC ISO-8601). */
      readonly previousSecret: { readonly version: number; readonly validUntil: string } | null;
    };

export type WebhookEndpoint = Extract<WebhookEndpointState, { exists: true }>;

export function initialWebhookEndpointState(): WebhookEndpointState {
  return { exists: false };
}

export function evolveWebhookEndpoint(state: WebhookEndpointState, event: WebhookEndpointEvent): WebhookEndpointState {
  if (event.type === 'WebhookEndpointRegistered') {
    assert(!state.exists, 'a webhook endpoint is registered once');
    return { exists: true, ...event.data, status: 'enabled', disabledReason: null, previousSecret: null };
  }
  assert(state.exists, `${event.type} needs a registered webhook endpoint`);
  assert(state.status !== 'deleted', `${event.type} after the endpoint was deleted`);
  switch (event.type) {
    case 'WebhookEndpointUpdated':
      return { ...state, ...event.data };
    case 'WebhookEndpointDisabled':
      return { ...state, status: 'disabled', disabledReason: event.data.reason };
    case 'WebhookEndpointEnabled':
      return { ...state, status: 'enabled', disabledReason: null };
    case 'WebhookEndpointDeleted':
      return { ...state, status: 'deleted' };
    case 'WebhookSecretRotated': {
      const { secretVersion, previousVersion, previousValidUntil } = event.data;
      assert(previousVersion === state.secretVersion && secretVersion === previousVersion + 1, 'versions count up');
      return { ...state, secretVersion, previousSecret: { version: previousVersion, validUntil: previousValidUntil } };
    }
  }
}

/** The secret versions that sign a message sent at `at` (UTC ISO-8601): the current one, and the previous during its overlap. */
export function signingVersionsAt(endpoint: WebhookEndpoint, at: string): number[] {
  const previous = endpoint.previousSecret;
  return previous && at < previous.validUntil ? [endpoint.secretVersion, previous.version] : [endpoint.secretVersion];
}

/** Whether an endpoint wants messages of this type. */
export function subscribesTo(endpoint: Pick<WebhookEndpoint, 'eventTypes'>, type: WebhookEventType): boolean {
  return endpoint.eventTypes === null || endpoint.eventTypes.includes(type);
}

import { DateTime } from 'luxon';
import { assert, DomainError } from '../shared/domain-error.js';
import type { WebhookEventType } from './webhook-event-types.js';
import type { WebhookEndpointEvent } from './webhook-events.js';
import {
  evolveWebhookEndpoint,
  initialWebhookEndpointState,
  type WebhookEndpoint,
  type WebhookEndpointState,
} from './webhook-endpoint-state.js';

/** Longest overlap a rotation may give the previous secret. */
export const MAX_SECRET_OVERLAP_SECONDS = 7 * 86_400;

interface EndpointSettings {
  /** Already checked by checkWebhookUrl (and the address guard). */
  readonly url: string;
  readonly eventTypes: readonly WebhookEventType[] | null;
  readonly description: string;
}

/** The webhook endpoint decider in Emmett's shape. Who may act was checked before (the endpoint's merchant). */
export type WebhookEndpointCommand =
  | ({
      readonly type: 'RegisterWebhookEndpoint';
      readonly endpointId: string;
      readonly merchantId: string;
    } & EndpointSettings)
  | ({ readonly type: 'UpdateWebhookEndpoint'; readonly endpointId: string } & Partial<EndpointSettings>)
  | { readonly type: 'DisableWebhookEndpoint'; readonly endpointId: string; readonly reason: 'merchant' | 'gone' }
  | { readonly type: 'EnableWebhookEndpoint'; readonly endpointId: string }
  | { readonly type: 'DeleteWebhookEndpoint'; readonly endpointId: string }
  | {
      readonly type: 'RotateWebhookSecret';
      readonly endpointId: string;
      /** The command's time (UTC ISO-8601): the overlap runs from it. */
      readonly at: string;
      readonly overlapSeconds: number;
    };

function requireEndpoint(state: WebhookEndpointState, endpointId: string): WebhookEndpoint {
  if (!state.exists || state.status === 'deleted')
    throw new DomainError('webhook_endpoint_not_found', `webhook endpoint ${endpointId} does not exist`, {
      endpointId,
    });
  return state;
}

export function decideWebhookEndpoint(
  command: WebhookEndpointCommand,
  state: WebhookEndpointState,
): WebhookEndpointEvent[] {
  const { endpointId } = command;
  switch (command.type) {
    case 'RegisterWebhookEndpoint': {
      if (state.exists)
        throw new DomainError('webhook_endpoint_exists', `webhook endpoint ${endpointId} already exists`, {
          endpointId,
        });
      const { merchantId, url, eventTypes, description } = command;
      return [
        {
          type: 'WebhookEndpointRegistered',
          data: {
            endpointId,
            merchantId,
            url,
            eventTypes: eventTypes && [...eventTypes],
            description,
            secretVersion: 1,
          },
        },
      ];
    }
    case 'UpdateWebhookEndpoint': {
      const endpoint = requireEndpoint(state, endpointId);
      const url = command.url ?? endpoint.url;
      const eventTypes = command.eventTypes === undefined ? endpoint.eventTypes : command.eventTypes;
      const description = command.description ?? endpoint.description;
      const same =
        url === endpoint.url &&
        description === endpoint.description &&
        JSON.stringify(eventTypes) === JSON.stringify(endpoint.eventTypes);
      if (same) return [];
      return [
        {
          type: 'WebhookEndpointUpdated',
          data: { endpointId, url, eventTypes: eventTypes && [...eventTypes], description },
        },
      ];
    }
    case 'DisableWebhookEndpoint': {
      const endpoint = requireEndpoint(state, endpointId);
      if (endpoint.status === 'disabled') return [];
      return [{ type: 'WebhookEndpointDisabled', data: { endpointId, reason: command.reason } }];
    }
    case 'EnableWebhookEndpoint': {
      const endpoint = requireEndpoint(state, endpointId);
      if (endpoint.status === 'enabled') return [];
      return [{ type: 'WebhookEndpointEnabled', data: { endpointId } }];
    }
    case 'DeleteWebhookEndpoint':
      requireEndpoint(state, endpointId);
      return [{ type: 'WebhookEndpointDeleted', data: { endpointId } }];
    case 'RotateWebhookSecret': {
      const endpoint = requireEndpoint(state, endpointId);
      assert(
        Number.isInteger(command.overlapSeconds) &&
          command.overlapSeconds >= 0 &&
          command.overlapSeconds <= MAX_SECRET_OVERLAP_SECONDS,
        'a secret overlap is 0 to 7 days',
      );
      const at = DateTime.fromISO(command.at, { zone: 'utc' });
      assert(at.isValid, 'a rotation has a valid time');
      return [
        {
          type: 'WebhookSecretRotated',
          data: {
            endpointId,
            secretVersion: endpoint.secretVersion + 1,
            previousVersion: endpoint.secretVersion,
            previousValidUntil: at.plus({ seconds: command.overlapSeconds }).toUTC().toISO(),
          },
        },
      ];
    }
  }
}

export const webhookEndpointDecider = {
  decide: decideWebhookEndpoint,
  evolve: evolveWebhookEndpoint,
  initialState: initialWebhookEndpointState,
};

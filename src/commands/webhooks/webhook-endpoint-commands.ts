import { webhookEndpointDecider, type WebhookEndpointCommand } from '../../domain/webhooks/webhook-endpoint-decider.js';
import type { WebhookEndpoint, WebhookEndpointState } from '../../domain/webhooks/webhook-endpoint-state.js';
import type { WebhookEventType } from '../../domain/webhooks/webhook-event-types.js';
import type { WebhookEndpointEvent } from '../../domain/webhooks/webhook-events.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore } from '../../ports/event-store.js';
import { deriveId, type CommandContext } from '../command-context.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler } from '../stream-command-handler.js';

/** Each endpoint's facts live on one stream. */
export function webhookEndpointStreamId(endpointId: string): string {
  return `webhook-${endpointId}`;
}

export interface WebhookEndpointSettings {
  readonly url: string;
  readonly eventTypes: readonly WebhookEventType[] | null;
  readonly description: string;
}

export interface WebhookEndpointOutcome {
  readonly endpoint: WebhookEndpoint;
  readonly events: readonly WebhookEndpointEvent[];
  /** Global position at or after the command's events (for read-your-writes on the list). */
  readonly position: bigint;
}

/**
 * The write side of merchants' webhook endpoints. The endpoint id is derived from the request's operation
 * key, so a retried registration finds its own endpoint instead of making a second one. Who may act (the
 * endpoint's merchant, or an operator) is checked by the caller with `get`.
 */
export class WebhookEndpointCommands {
  private readonly handler: StreamCommandHandler<WebhookEndpointCommand, WebhookEndpointEvent, WebhookEndpointState>;

  constructor(eventStore: EventStore) {
    this.handler = new StreamCommandHandler(eventStore, webhookEndpointDecider, DEFAULT_HANDLER_LIMITS);
  }

  async register(
    merchantId: string,
    settings: WebhookEndpointSettings,
    context: CommandContext,
  ): Promise<WebhookEndpointOutcome> {
    const endpointId = deriveId(context.operationKey, 'webhook-endpoint');
    try {
      return await this.handle({ type: 'RegisterWebhookEndpoint', endpointId, merchantId, ...settings }, context);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'webhook_endpoint_exists')) throw error;
      // Derived from the operation key: an existing endpoint is this request's own earlier run.
      const earlier = await this.handler.load(webhookEndpointStreamId(endpointId));
      if (!earlier.state.exists || earlier.state.merchantId !== merchantId) throw error;
      return { endpoint: earlier.state, events: [], position: earlier.position };
    }
  }

  update(endpointId: string, settings: Partial<WebhookEndpointSettings>, context: CommandContext) {
    return this.handle({ type: 'UpdateWebhookEndpoint', endpointId, ...settings }, context);
  }

  disable(endpointId: string, reason: 'merchant' | 'gone', context: CommandContext) {
    return this.handle({ type: 'DisableWebhookEndpoint', endpointId, reason }, context);
  }

  enable(endpointId: string, context: CommandContext) {
    return this.handle({ type: 'EnableWebhookEndpoint', endpointId }, context);
  }

  delete(endpointId: string, context: CommandContext) {
    return this.handle({ type: 'DeleteWebhookEndpoint', endpointId }, context);
  }

  /** The overlap runs from the command's time (`context.occurredAt`). */
  rotateSecret(endpointId: string, overlapSeconds: number, context: CommandContext) {
    return this.handle({ type: 'RotateWebhookSecret', endpointId, at: context.occurredAt, overlapSeconds }, context);
  }

  /** The endpoint as the event store has it now; undefined when it does not exist or was deleted. */
  async get(endpointId: string): Promise<WebhookEndpoint | undefined> {
    const { state } = await this.handler.load(webhookEndpointStreamId(endpointId));
    return state.exists && state.status !== 'deleted' ? state : undefined;
  }

  private async handle(command: WebhookEndpointCommand, context: CommandContext): Promise<WebhookEndpointOutcome> {
    const handled = await this.handler.handle(webhookEndpointStreamId(command.endpointId), command, context);
    if (!handled.state.exists) throw new Error('a webhook endpoint command leaves an endpoint');
    return { endpoint: handled.state, events: handled.events, position: handled.position };
  }
}

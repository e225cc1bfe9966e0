import { deriveId } from '../../commands/command-context.js';
import { decodeEvent, type LedgerEvent } from '../../domain/event-catalogue.js';
import { evictOldest } from '../../domain/shared/evict-oldest.js';
import { NOTIFIED_EVENT_TYPES, ORDER_NOTIFICATIONS } from '../../domain/webhooks/order-notifications.js';
import { subscribesTo } from '../../domain/webhooks/webhook-endpoint-state.js';
import type { WebhookEventType } from '../../domain/webhooks/webhook-event-types.js';
import { WEBHOOK_ENDPOINT_EVENT_TYPES, type WebhookEndpointEvent } from '../../domain/webhooks/webhook-events.js';
import type { EventStore, RecordedEvent } from '../../ports/event-store.js';
import type { NewOutboxMessage, WebhookOutboxStore } from '../../ports/webhook-outbox.js';
import { isLedgerStream } from '../../projections/projection.js';

/** Events read per page of the log (each page is one outbox transaction). */
export const OUTBOX_PAGE_EVENTS = 500;
/** Order origins (a stream's first event) kept in memory. */
const ORIGIN_CACHE_SIZE = 10_000;

/** What the subscription needs of an endpoint, as of the log position it has reached. */
interface EndpointRoute {
  readonly merchantId: string;
  readonly eventTypes: readonly WebhookEventType[] | null;
  readonly enabled: boolean;
}

/** The message id of one event for one endpoint: the same however often the log is read. */
export function messageIdOf(eventId: string, endpointId: string): string {
  return `msg_${deriveId(eventId, `webhook-message\u0000${endpointId}`)}`;
}

/**
 * The checkpointed subscription that turns order state changes into webhook messages, like a projection
 * runner: reads the log after its checkpoint (endpoint events and the event types of ORDER_NOTIFICATIONS),
 * makes one message per matching endpoint, and stores the page's messages and the new checkpoint in ONE
 * outbox transaction. A crash re-reads at most the page it was in; the messages it makes again have the
 * same ids and are not stored twice.
 *
 * Which endpoints an event goes to is judged as of the event's position in the log: the endpoints are
 * folded from the same log, in the same order (and, on start, from the beginning up to the checkpoint),
 * so an endpoint registered after a payment is not told of it, and one registered before always is.
 */
export class WebhookOutboxSubscription {
  private readonly endpoints = new Map<string, EndpointRoute & { endpointId: string }>();
  private readonly origins = new Map<string, LedgerEvent>();
  private checkpoint: bigint | 'start' = 'start';
  private prepared = false;

  constructor(
    private readonly eventStore: EventStore,
    private readonly outbox: WebhookOutboxStore,
    private readonly pageEvents = OUTBOX_PAGE_EVENTS,
  ) {}

  /** Reads pages until the log's end; the number of messages stored. */
  async catchUp(): Promise<number> {
    if (!this.prepared) await this.prepare();
    let stored = 0;
    for (;;) {
      const page = await this.eventStore.readAll({
        after: this.checkpoint,
        maxCount: this.pageEvents,
        filter: { eventTypes: [...WEBHOOK_ENDPOINT_EVENT_TYPES, ...NOTIFIED_EVENT_TYPES].sort() },
      });
      if (page.length === 0) return stored;
      const messages: NewOutboxMessage[] = [];
      for (const recorded of page) messages.push(...(await this.messagesOf(recorded)));
      const last = page.at(-1)!.position;
      await this.outbox.enqueue(messages, last);
      this.checkpoint = last;
      stored += messages.length;
      if (page.length < this.pageEvents) return stored;
    }
  }

  /** The endpoints as of the checkpoint, folded from the log's endpoint events up to it. */
  private async prepare(): Promise<void> {
    this.endpoints.clear();
    this.checkpoint = await this.outbox.getCheckpoint();
    const checkpoint = this.checkpoint;
    if (checkpoint !== 'start') {
      let after: bigint | 'start' = 'start';
      for (;;) {
        const page = await this.eventStore.readAll({
          after,
          maxCount: this.pageEvents,
          filter: { eventTypes: [...WEBHOOK_ENDPOINT_EVENT_TYPES] },
        });
        const upTo = page.filter((event) => event.position <= checkpoint);
        for (const event of upTo) this.applyEndpointEvent(event);
        if (upTo.length < page.length || page.length < this.pageEvents) break;
        after = page.at(-1)!.position;
      }
    }
    this.prepared = true;
  }

  private applyEndpointEvent(recorded: RecordedEvent): void {
    if (!recorded.streamId.startsWith('webhook-')) return;
    const event = decodeEvent(recorded.type, recorded.data) as WebhookEndpointEvent;
    const id = event.data.endpointId;
    const current = this.endpoints.get(id);
    switch (event.type) {
      case 'WebhookEndpointRegistered':
        this.endpoints.set(id, {
          endpointId: id,
          merchantId: event.data.merchantId,
          eventTypes: event.data.eventTypes,
          enabled: true,
        });
        return;
      case 'WebhookEndpointUpdated':
        if (current) this.endpoints.set(id, { ...current, eventTypes: event.data.eventTypes });
        return;
      case 'WebhookEndpointDisabled':
        if (current) this.endpoints.set(id, { ...current, enabled: false });
        return;
      case 'WebhookEndpointEnabled':
        if (current) this.endpoints.set(id, { ...current, enabled: true });
        return;
      case 'WebhookEndpointDeleted':
        this.endpoints.delete(id);
        return;
      case 'WebhookSecretRotated':
        return;
    }
  }

  private async messagesOf(recorded: RecordedEvent): Promise<NewOutboxMessage[]> {
    if (!isLedgerStream(recorded.streamId)) return [];
    if (recorded.streamId.startsWith('webhook-')) {
      this.applyEndpointEvent(recorded);
      return [];
    }
    const row = ORDER_NOTIFICATIONS[recorded.type as keyof typeof ORDER_NOTIFICATIONS];
    // No endpoint anywhere (the usual case before merchants register any): the order is not even read.
    if (!row || !this.anyEnabled()) return [];
    const event = decodeEvent(recorded.type, recorded.data);
    const built = row.build(event, recorded.revision === 0n ? event : await this.originOf(recorded.streamId));
    if (!built) return [];
    const targets = [...this.endpoints.values()].filter(
      (endpoint) =>
        endpoint.enabled && endpoint.merchantId === built.merchantId && subscribesTo(endpoint, row.webhookType),
    );
    if (targets.length === 0) return [];
    // Standard Webhooks payload: the type, when it happened, and the data.
    const payload = JSON.stringify({
      type: row.webhookType,
      timestamp: recorded.metadata.occurredAt,
      data: built.data,
    });
    const createdAtMs = Date.parse(recorded.metadata.occurredAt);
    return targets.map((endpoint) => ({
      messageId: messageIdOf(recorded.metadata.eventId, endpoint.endpointId),
      endpointId: endpoint.endpointId,
      merchantId: built.merchantId,
      eventId: recorded.metadata.eventId,
      position: recorded.position,
      webhookType: row.webhookType,
      payload,
      createdAtMs,
    }));
  }

  private anyEnabled(): boolean {
    for (const endpoint of this.endpoints.values()) if (endpoint.enabled) return true;
    return false;
  }

  /** An order stream's first event (it names the merchant and the order), cached. */
  private async originOf(streamId: string): Promise<LedgerEvent> {
    const cached = this.origins.get(streamId);
    if (cached) return cached;
    for await (const first of this.eventStore.readStream(streamId, { maxCount: 1 })) {
      const origin = decodeEvent(first.type, first.data);
      evictOldest(this.origins, ORIGIN_CACHE_SIZE);
      this.origins.set(streamId, origin);
      return origin;
    }
    throw new Error(`order stream ${streamId} has no first event`);
  }
}

import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../../src/domain/shared/json.js';
import type { NewEvent } from '../../src/ports/event-store.js';
import { encodeEvent } from '../../src/domain/event-catalogue.js';

/** A valid event for storage tests; only the parts a test cares about need saying. */
export function anEvent(
  type = 'SomethingHappened',
  data: JsonObject = { n: 1 },
  eventId: string = randomUUID(),
): NewEvent {
  return {
    type,
    data,
    metadata: {
      eventId,
      correlationId: 'corr-1',
      causationId: null,
      idempotencyKey: null,
      actor: 'test',
      occurredAt: '2026-11-21T10:00:00.000Z',
      schemaVersion: 1,
    },
  };
}

/** A user's registration, as stored: an event the entities projection applies (to entity-<entityId>). */
export function userRegistered(entityId: string): NewEvent {
  return {
    ...anEvent(),
    ...encodeEvent({
      type: 'EntityRegistered',
      data: {
        entityId,
        kind: 'user',
        displayName: 'U',
        mayPay: true,
        phone: null,
        email: null,
        securityLevel: 'standard',
      },
    }),
  };
}

export function uniqueStream(category = 'test'): string {
  return `${category}-${randomUUID()}`;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

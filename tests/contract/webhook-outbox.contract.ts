import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DeliveryAttempt,
  MessageSettlement,
  NewOutboxMessage,
  WebhookOutboxStore,
} from '../../src/ports/webhook-outbox.js';

/**
 * The webhook outbox contract: what every adapter must do. Run against SQLite always, and against MongoDB
 * when MONGODB_URL is set. `open` gives an empty store (a fresh file, a fresh database). Times are the
 * caller's (milliseconds passed in): nothing here waits for a clock.
 */
export function webhookOutboxContract(adapterName: string, open: () => Promise<WebhookOutboxStore>): void {
  describe(`webhook outbox contract: ${adapterName}`, () => {
    let outbox: WebhookOutboxStore;
    const T0 = Date.parse('2026-12-01T10:00:00.000Z');
    let position = 0n;
    const message = (endpointId: string, overrides: Partial<NewOutboxMessage> = {}): NewOutboxMessage => {
      position += 1n;
      return {
        messageId: `msg_${randomUUID()}`,
        endpointId,
        merchantId: 'm-1',
        eventId: randomUUID(),
        position,
        webhookType: 'payment.succeeded',
        payload: JSON.stringify({ type: 'payment.succeeded', n: Number(position) }),
        createdAtMs: T0,
        ...overrides,
      };
    };
    const attempt = (m: NewOutboxMessage, n: number, overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => ({
      attemptId: `${m.messageId}:${n}`,
      messageId: m.messageId,
      endpointId: m.endpointId,
      attemptNo: n,
      startedAtMs: T0 + n * 1_000,
      durationMs: 12,
      statusCode: 500,
      error: null,
      outcome: 'retry',
      nextAttemptAtMs: T0 + 60_000,
      ...overrides,
    });

    const claimOne = async (messageId: string, nowMs: number, untilMs: number) =>
      (await outbox.claim([messageId], nowMs, untilMs))[0] ?? null;
    const settleOne = async (messageId: string, claimToken: string, settlement: MessageSettlement) =>
      (await outbox.settle([{ ...settlement, messageId, claimToken }]))[0];

    beforeAll(async () => {
      outbox = await open();
    });
    afterAll(async () => {
      await outbox.close();
    });

    it('moves its checkpoint with the messages, in one call, never backwards', async () => {
      expect(await outbox.getCheckpoint()).toBe('start');
      const m = message(randomUUID());
      await outbox.enqueue([m], 10n);
      expect(await outbox.getCheckpoint()).toBe(10n);
      await outbox.enqueue([], 5n);
      expect(await outbox.getCheckpoint()).toBe(10n);
      await outbox.enqueue([], 1_000_000_000_000n);
      expect(await outbox.getCheckpoint()).toBe(1_000_000_000_000n);
      expect(await outbox.getMessage(m.messageId)).toMatchObject({
        messageId: m.messageId,
        state: 'pending',
        attempts: 0,
        totalAttempts: 0,
        nextAttemptAtMs: T0,
        position: m.position,
        payload: m.payload,
      });
    });

    it('stores a message once by its id: enqueued again, the first stays as it was', async () => {
      const endpointId = randomUUID();
      const m = message(endpointId);
      await outbox.enqueue([m], position);
      await outbox.enqueue([{ ...m, payload: '{"changed":true}' }, m], position);
      const page = await outbox.listMessages(endpointId, { limit: 10, direction: 'asc' });
      expect(page.items.map((i) => [i.messageId, i.payload])).toEqual([[m.messageId, m.payload]]);
    });

    it('lets exactly one of many concurrent claims win, and gives the message back when the claim expires', async () => {
      const m = message(randomUUID());
      await outbox.enqueue([m], position);
      const claims = await Promise.all(Array.from({ length: 10 }, () => claimOne(m.messageId, T0, T0 + 30_000)));
      const won = claims.filter((c) => c !== null);
      expect(won).toHaveLength(1);
      expect((await outbox.dueMessages(T0 + 29_999, 1_000)).map((d) => d.messageId)).not.toContain(m.messageId);
      expect(await claimOne(m.messageId, T0 + 29_999, T0 + 60_000)).toBeNull();
      // A dead dispatcher's claim: due again once it expires.
      expect((await outbox.dueMessages(T0 + 30_000, 1_000)).map((d) => d.messageId)).toContain(m.messageId);
      const again = await claimOne(m.messageId, T0 + 30_000, T0 + 60_000);
      expect(again?.claimToken).not.toBe(won[0]!.claimToken);
      // The first claimer's late settle logs its attempt but does not overwrite the newer claim's state.
      const late = await settleOne(m.messageId, won[0]!.claimToken, {
        state: 'delivered',
        nextAttemptAtMs: null,
        attempt: attempt(m, 1, { statusCode: 200, outcome: 'delivered', nextAttemptAtMs: null }),
        nowMs: T0 + 31_000,
      });
      expect(late).toBe(false);
      expect((await outbox.getMessage(m.messageId))?.state).toBe('pending');
      expect((await outbox.listAttempts(m.endpointId, { limit: 10, direction: 'asc' })).items).toHaveLength(1);
      expect(
        await settleOne(m.messageId, again!.claimToken, {
          state: 'delivered',
          nextAttemptAtMs: null,
          attempt: attempt(m, 2, { statusCode: 200, outcome: 'delivered', nextAttemptAtMs: null }),
          nowMs: T0 + 32_000,
        }),
      ).toBe(true);
      expect(await outbox.getMessage(m.messageId)).toMatchObject({
        state: 'delivered',
        attempts: 1,
        totalAttempts: 1,
        lastStatusCode: 200,
        nextAttemptAtMs: null,
      });
      expect(await claimOne(m.messageId, T0 + 100_000, T0 + 130_000)).toBeNull();
    });

    it('lists due messages soonest first, and a retried one only from its next attempt', async () => {
      const endpointId = randomUUID();
      const early = message(endpointId, { createdAtMs: T0 - 2_000 });
      const late = message(endpointId, { createdAtMs: T0 - 1_000 });
      await outbox.enqueue([late, early], position);
      const due = (await outbox.dueMessages(T0, 1_000)).filter((d) => d.endpointId === endpointId);
      expect(due.map((d) => d.messageId)).toEqual([early.messageId, late.messageId]);
      const claimed = await claimOne(early.messageId, T0, T0 + 30_000);
      await settleOne(early.messageId, claimed!.claimToken, {
        state: 'pending',
        nextAttemptAtMs: T0 + 60_000,
        attempt: attempt(early, 1),
        nowMs: T0 + 1_000,
      });
      const ids = async (at: number) =>
        (await outbox.dueMessages(at, 1_000)).filter((d) => d.endpointId === endpointId).map((d) => d.messageId);
      expect(await ids(T0 + 59_999)).toEqual([late.messageId]);
      expect(await ids(T0 + 60_000)).toEqual([late.messageId, early.messageId]);
      expect(await outbox.getMessage(early.messageId)).toMatchObject({ attempts: 1, lastStatusCode: 500 });
      expect((await outbox.dueMessages(T0 + 60_000, 1)).length).toBe(1);
    });

    it("leaves the excluded endpoints' messages out of the due ones", async () => {
      const [busy, idle] = [randomUUID(), randomUUID()];
      const backlog = Array.from({ length: 5 }, () => message(busy, { createdAtMs: T0 - 10_000 }));
      const waiting = message(idle, { createdAtMs: T0 - 5_000 });
      await outbox.enqueue([...backlog, waiting], position);
      const ours = (ids: string[]) => ids.filter((id) => [...backlog, waiting].some((m) => m.messageId === id));
      const all = (await outbox.dueMessages(T0, 1_000)).map((m) => m.messageId);
      expect(ours(all)).toEqual([...backlog.map((m) => m.messageId).sort(), waiting.messageId]);
      const others = (await outbox.dueMessages(T0, 1_000, [busy])).map((m) => m.messageId);
      expect(ours(others)).toEqual([waiting.messageId]);
    });

    it('settles without an attempt (a discarded message) and counts nothing', async () => {
      const m = message(randomUUID());
      await outbox.enqueue([m], position);
      const claimed = await claimOne(m.messageId, T0, T0 + 30_000);
      await settleOne(m.messageId, claimed!.claimToken, {
        state: 'discarded',
        nextAttemptAtMs: null,
        attempt: null,
        nowMs: T0 + 5,
      });
      expect(await outbox.getMessage(m.messageId)).toMatchObject({
        state: 'discarded',
        attempts: 0,
        updatedAtMs: T0 + 5,
      });
    });

    it("pages an endpoint's messages and attempts both ways, with cursors", async () => {
      const endpointId = randomUUID();
      const messages = [message(endpointId), message(endpointId), message(endpointId)];
      await outbox.enqueue([...messages, message(randomUUID())], position);
      const asc1 = await outbox.listMessages(endpointId, { limit: 2, direction: 'asc' });
      const asc2 = await outbox.listMessages(endpointId, { limit: 2, direction: 'asc', after: asc1.nextCursor! });
      expect([...asc1.items, ...asc2.items].map((m) => m.messageId)).toEqual(messages.map((m) => m.messageId));
      expect(asc2.nextCursor).toBeNull();
      const desc = await outbox.listMessages(endpointId, { limit: 3, direction: 'desc' });
      expect(desc.items.map((m) => m.messageId)).toEqual(messages.map((m) => m.messageId).reverse());
      expect(desc.nextCursor).toBeNull();

      for (const [i, m] of messages.entries()) {
        const claimed = await claimOne(m.messageId, T0, T0 + 30_000);
        await settleOne(m.messageId, claimed!.claimToken, {
          state: 'pending',
          nextAttemptAtMs: T0 + 60_000,
          attempt: attempt(m, 1, { startedAtMs: T0 + i }),
          nowMs: T0 + i,
        });
      }
      const first = await outbox.listAttempts(endpointId, { limit: 2, direction: 'desc' });
      const second = await outbox.listAttempts(endpointId, { limit: 2, direction: 'desc', after: first.nextCursor! });
      expect([...first.items, ...second.items].map((a) => a.messageId)).toEqual(
        messages.map((m) => m.messageId).reverse(),
      );
      const one = await outbox.listAttempts(endpointId, {
        limit: 10,
        direction: 'asc',
        messageId: messages[1]!.messageId,
      });
      expect(one.items).toEqual([attempt(messages[1]!, 1, { startedAtMs: T0 + 1 })]);
    });

    it('redelivers a message whatever its state: due at once, attempts counted afresh, any claim dropped', async () => {
      const m = message(randomUUID());
      await outbox.enqueue([m], position);
      const claimed = await claimOne(m.messageId, T0, T0 + 30_000);
      await settleOne(m.messageId, claimed!.claimToken, {
        state: 'failed',
        nextAttemptAtMs: null,
        attempt: attempt(m, 1, { outcome: 'failed', nextAttemptAtMs: null }),
        nowMs: T0,
      });
      const due = await outbox.redeliver(m.messageId, T0 + 1_000);
      expect(due).toMatchObject({ state: 'pending', attempts: 0, totalAttempts: 1, nextAttemptAtMs: T0 + 1_000 });
      const inFlight = await claimOne(m.messageId, T0 + 1_000, T0 + 31_000);
      expect(inFlight).not.toBeNull();
      await outbox.redeliver(m.messageId, T0 + 2_000);
      expect(await claimOne(m.messageId, T0 + 2_000, T0 + 32_000)).not.toBeNull();
      expect(await outbox.redeliver(`msg_${randomUUID()}`, T0)).toBeNull();
    });

    it('claims and settles batches in one call: only the due and unclaimed are claimed', async () => {
      const endpointId = randomUUID();
      const [a, b, c] = [message(endpointId), message(endpointId), message(endpointId, { createdAtMs: T0 + 10_000 })];
      await outbox.enqueue([a, b, c], position);
      await claimOne(b.messageId, T0, T0 + 30_000);
      const claimed = await outbox.claim(
        [a.messageId, b.messageId, c.messageId, `msg_${randomUUID()}`],
        T0,
        T0 + 30_000,
      );
      expect(claimed.map((m) => m.messageId)).toEqual([a.messageId]);
      const [other] = await outbox.claim([c.messageId], T0 + 10_000, T0 + 40_000);
      const held = await outbox.settle([
        {
          messageId: a.messageId,
          claimToken: claimed[0]!.claimToken,
          state: 'delivered',
          nextAttemptAtMs: null,
          attempt: null,
          nowMs: T0 + 11_000,
        },
        {
          messageId: c.messageId,
          claimToken: 'not-the-claim',
          state: 'delivered',
          nextAttemptAtMs: null,
          attempt: null,
          nowMs: T0 + 11_000,
        },
        {
          messageId: c.messageId,
          claimToken: other!.claimToken,
          state: 'failed',
          nextAttemptAtMs: null,
          attempt: null,
          nowMs: T0 + 11_000,
        },
      ]);
      expect(held).toEqual([true, false, true]);
      expect((await outbox.getMessage(a.messageId))?.state).toBe('delivered');
      expect((await outbox.getMessage(c.messageId))?.state).toBe('failed');
    });

    it('refuses pages and batches over its limits', async () => {
      await expect(outbox.listMessages(randomUUID(), { limit: 0, direction: 'asc' })).rejects.toThrow(RangeError);
      await expect(outbox.dueMessages(T0, 1_001)).rejects.toThrow(RangeError);
    });
  });
}

import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { JsonObject } from '../domain/shared/json.js';
import type { Clock } from '../ports/clock.js';
import {
  AppendOutcomeUnknownError,
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type StreamAppend,
} from '../ports/event-store.js';
import { appendKnown } from './append-known.js';
import type { ClaimOwners } from './claim-owners.js';

/**
 * Safe retries: the same Idempotency-Key with the same request gets the first response, and the command
 * runs once; the same key with a different request is refused.
 *
 * Each key has a stream in the event store (`idempotency-<sha256(scope, key)>`), so the record is as
 * durable as the events it guards and works the same on every engine:
 *   1. `IdempotencyKeyClaimed` (expected: no stream) - one request wins the key;
 *   2. the command runs, with ids derived from the key (see CommandContext);
 *   3. `IdempotentResponseRecorded` - the answer, replayed to every later request with that key.
 * Each claim names its owner (the instance, see claim-owners.ts) and its revision in the key's stream. A
 * retry finding a claim unanswered takes it over at once when its owner is known to be gone (ended, its
 * heartbeat stale, its process gone), never while the owner may still work (409 in progress, with
 * Retry-After); `claimLeaseMs` stays the last resort, for an owner that beats but hangs (or a claim that
 * names no owner). The command's derived ids make the second run record nothing twice, and the owner
 * records its answer at the expected revision of its claim (fencing): an owner taken over while paused
 * cannot record over the new claim, and answers what the new owner recorded.
 * A failure that is not the client's (storage unavailable) releases the claim so a retry runs at once,
 * except a write whose outcome is unknown (AppendOutcomeUnknownError): it may still land, so the claim is
 * kept (until its lease ends, or its owner is gone) and the retry runs as a takeover, which finds what the
 * first run recorded rather than racing a write in flight. Every append here reads back an
 * unknown outcome before anything is retried (appendKnown).
 */
export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';
/** The answer body's field that holds a position (see `recorded.positionOf`). */
const POSITION_FIELD = 'position';

/** Where a one-commit answer's position is: the operation's last event, at this revision of this stream. */
export interface AnswerPosition {
  readonly streamId: string;
  readonly revision: bigint;
}

export interface IdempotentRequest {
  /** Whose keys these are (the merchant): keys of different scopes never collide. */
  readonly scope: string;
  readonly key: string;
  /** Digest of what the request asks for (method, route, body): a reused key must match it. */
  readonly fingerprint: string;
}

export interface CommandResponse {
  readonly statusCode: number;
  readonly body: JsonObject;
}

export interface ExecutionAttempt {
  /** True when a previous holder of the key may have run part of the command before dying. */
  readonly takeover: boolean;
}

export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  constructor() {
    super('this Idempotency-Key was already used with a different request');
  }
}

export class IdempotentRequestInProgressError extends Error {
  override readonly name = 'IdempotentRequestInProgressError';
  constructor(readonly retryAfterMs: number) {
    super('a request with this Idempotency-Key is still being processed');
  }
}

/** Failures that are the client's answer (a refusal), recorded and replayed like a success. */
export type RecordableFailure = (error: unknown) => CommandResponse | undefined;

const claimed = z.strictObject({
  scope: z.string(),
  fingerprint: z.string(),
  claimedAt: z.string(),
  claimId: z.uuid(),
  /** The instance that claimed it (absent in claims recorded before owners were named: the lease decides). */
  owner: z.string().optional(),
  /** The claim's revision in the key's stream: the revision its owner's answer is recorded after. */
  revision: z
    .string()
    .regex(/^[0-9]+$/)
    .optional(),
});
const recorded = z.strictObject({
  statusCode: z.int().min(200).max(599),
  body: z.record(z.string(), z.any()),
  /**
   * An answer recorded in the same commit as the operation (one-commit.ts) cannot know that commit's
   * positions: the body's `position` is then the position of this event of the operation (its last),
   * read back when the answer is replayed.
   */
  positionOf: z.strictObject({ streamId: z.string(), revision: z.string().regex(/^[0-9]+$/) }).optional(),
});
const released = z.strictObject({ claimId: z.uuid(), reason: z.string() });

export function requestFingerprint(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('hex');
}

/** The last resort for a claim whose owner beats but hangs: after this long it is taken over anyway. */
export const DEFAULT_CLAIM_LEASE_MS = 30_000;

export interface IdempotencyKeeperOptions {
  readonly claimLeaseMs?: number;
  /** Who this instance is, and which owners are gone; without it, claims name no owner and the lease decides. */
  readonly owners?: ClaimOwners;
}

export class IdempotencyKeeper {
  private readonly claimLeaseMs: number;
  private readonly owners: ClaimOwners | undefined;

  constructor(
    private readonly eventStore: EventStore,
    private readonly clock: Clock,
    options: IdempotencyKeeperOptions = {},
  ) {
    this.claimLeaseMs = options.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
    this.owners = options.owners;
  }

  /** True when this keeper's store can record a key's claim and answer in an operation's own commit. */
  get joinsOneCommit(): boolean {
    return typeof this.eventStore.appendToStreams === 'function';
  }

  streamIdOf(request: IdempotentRequest): string {
    return `${IDEMPOTENCY_STREAM_PREFIX}${requestFingerprint([request.scope, request.key]).slice(0, 40)}`;
  }

  /**
   * The key's claim and answer as one part of the operation's own commit, for a key never used before
   * (expected: no stream). Another request that took the key first makes the whole commit conflict on
   * this stream, and `run` then answers as usual (a replay, in progress, or reused). A `position` in the
   * body is answered on every replay as the position of the operation's event `at` (`positionOf`).
   */
  answerInOneCommit(request: IdempotentRequest, response: CommandResponse, at?: AnswerPosition): StreamAppend {
    const claimed = this.claimInOneCommit(request);
    const answer = this.answerAfterClaim(request, response, at);
    return { ...claimed, events: [...claimed.events, ...answer.events] };
  }

  /**
   * The key's claim alone, as part of the first commit of an operation done in two (a recharge: the
   * request before the card is charged): `answerAfterClaim` records the answer in the second, and
   * `releaseAfterClaim` gives the key back if the second cannot be made.
   */
  claimInOneCommit(request: IdempotentRequest): StreamAppend & { readonly claimId: string } {
    const claimId = randomUUID();
    const streamId = this.streamIdOf(request);
    return {
      streamId,
      events: [this.event(streamId, 'IdempotencyKeyClaimed', this.claimData(request, claimId, 0n))],
      expectedRevision: 'no_stream',
      claimId,
    };
  }

  /** The answer, right after the key's first claim (revision 0): see `answerInOneCommit` for `position`. */
  answerAfterClaim(request: IdempotentRequest, response: CommandResponse, at?: AnswerPosition): StreamAppend {
    const answer: JsonObject = { statusCode: response.statusCode, body: response.body };
    if (at && POSITION_FIELD in response.body)
      answer.positionOf = { streamId: at.streamId, revision: at.revision.toString() };
    const streamId = this.streamIdOf(request);
    return {
      streamId,
      events: [this.event(streamId, 'IdempotentResponseRecorded', answer)],
      expectedRevision: 0n,
    };
  }

  /** Gives the key back after a failure that is not the client's, as `run` does (best effort). */
  async releaseAfterClaim(request: IdempotentRequest, claimId: string, error: unknown): Promise<void> {
    // An unknown outcome may still land: the claim is kept until its lease ends (see the class comment).
    if (error instanceof AppendOutcomeUnknownError) return;
    await this.append(
      this.streamIdOf(request),
      'IdempotencyClaimReleased',
      { claimId, reason: errorName(error) },
      0n,
    ).catch(() => undefined);
  }

  async run(
    request: IdempotentRequest,
    execute: (attempt: ExecutionAttempt) => Promise<CommandResponse>,
    recordableFailure: RecordableFailure,
  ): Promise<CommandResponse & { replayed: boolean }> {
    const streamId = this.streamIdOf(request);
    const claimId = randomUUID();
    const claim = await this.claim(streamId, request, claimId);
    if ('response' in claim) return { ...claim.response, replayed: true };

    let response: CommandResponse;
    try {
      response = await execute({ takeover: claim.takeover });
    } catch (error) {
      const refusal = recordableFailure(error);
      if (!refusal) {
        if (error instanceof AppendOutcomeUnknownError) throw error;
        await this.append(
          streamId,
          'IdempotencyClaimReleased',
          { claimId, reason: errorName(error) },
          claim.revision,
        ).catch(() => undefined);
        throw error;
      }
      response = refusal;
    }
    try {
      await this.append(
        streamId,
        'IdempotentResponseRecorded',
        { statusCode: response.statusCode, body: response.body },
        claim.revision,
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      // Fenced: the claim was taken over meanwhile (this owner was judged gone). The new owner's answer,
      // derived from the same operation, is the one; until it is recorded the request is in progress.
      const answer = await this.recordedAnswer(streamId);
      if (answer === undefined) throw new IdempotentRequestInProgressError(1_000);
      return { ...answer, replayed: true };
    }
    return { ...response, replayed: false };
  }

  private async claim(
    streamId: string,
    request: IdempotentRequest,
    claimId: string,
  ): Promise<{ response: CommandResponse } | { takeover: boolean; revision: bigint }> {
    // Most keys are new: claim first, and read the key's history only when it already has one.
    try {
      const data = this.claimData(request, claimId, 0n);
      const result = await this.append(streamId, 'IdempotencyKeyClaimed', data, 'no_stream');
      return { takeover: false, revision: result };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
    }
    const history: RecordedEvent[] = [];
    for await (const event of this.eventStore.readStream(streamId)) history.push(event);
    const first = claimed.parse(history[0]!.data);
    if (first.fingerprint !== request.fingerprint || first.scope !== request.scope)
      throw new IdempotencyKeyReusedError();
    const last = history[history.length - 1]!;
    if (last.type === 'IdempotentResponseRecorded') return { response: await this.answerOf(last) };
    const lastClaim = claimed.parse([...history].reverse().find((e) => e.type === 'IdempotencyKeyClaimed')!.data);
    const claimAgeMs = this.clock.now().toMillis() - Date.parse(lastClaim.claimedAt);
    const releasedSince = last.type === 'IdempotencyClaimReleased' && released.safeParse(last.data).success;
    if (!releasedSince && claimAgeMs < this.claimLeaseMs && !(await this.ownerGone(lastClaim.owner))) {
      throw new IdempotentRequestInProgressError(Math.max(1_000, this.claimLeaseMs - claimAgeMs));
    }
    try {
      const data = this.claimData(request, claimId, last.revision + 1n);
      const revision = await this.append(streamId, 'IdempotencyKeyClaimed', data, last.revision);
      return { takeover: true, revision };
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) throw new IdempotentRequestInProgressError(1_000);
      throw error;
    }
  }

  /** True when the claim's owner is known to work on it no more (see the class comment). */
  private async ownerGone(owner: string | undefined): Promise<boolean> {
    if (owner === undefined || this.owners === undefined) return false;
    return this.owners.isGone(owner);
  }

  private claimData(request: IdempotentRequest, claimId: string, revision: bigint): JsonObject {
    return {
      scope: request.scope,
      fingerprint: request.fingerprint,
      claimedAt: this.clock.now().toISO()!,
      claimId,
      ...(this.owners ? { owner: this.owners.self } : {}),
      revision: revision.toString(),
    };
  }

  /** The key's recorded answer, if its stream ends with one. */
  private async recordedAnswer(streamId: string): Promise<CommandResponse | undefined> {
    let last: RecordedEvent | undefined;
    for await (const event of this.eventStore.readStream(streamId)) last = event;
    return last?.type === 'IdempotentResponseRecorded' ? this.answerOf(last) : undefined;
  }

  private async answerOf(event: RecordedEvent): Promise<CommandResponse> {
    const answer = recorded.parse(event.data);
    const body = answer.positionOf
      ? { ...answer.body, [POSITION_FIELD]: (await this.positionOf(answer.positionOf)).toString() }
      : answer.body;
    return { statusCode: answer.statusCode, body };
  }

  private async append(
    streamId: string,
    type: string,
    data: JsonObject,
    expected: bigint | 'no_stream',
  ): Promise<bigint> {
    const result = await appendKnown(this.eventStore, streamId, [this.event(streamId, type, data)], expected);
    return result.nextExpectedRevision;
  }

  private async positionOf(at: { streamId: string; revision: string }): Promise<bigint> {
    for await (const event of this.eventStore.readStream(at.streamId, {
      fromRevision: BigInt(at.revision),
      maxCount: 1,
    }))
      return event.position;
    throw new Error(`the answer's event ${at.streamId}@${at.revision} is not in the store`);
  }

  private event(streamId: string, type: string, data: JsonObject): NewEvent {
    return {
      type,
      data,
      metadata: {
        eventId: randomUUID(),
        correlationId: streamId,
        causationId: null,
        idempotencyKey: null,
        actor: 'idempotency',
        occurredAt: this.clock.now().toISO()!,
        schemaVersion: 1,
      },
    };
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodType } from 'zod';
import type { CommandContext } from '../../commands/command-context.js';
import {
  requestFingerprint,
  type CommandResponse,
  type IdempotencyKeeper,
  type IdempotentRequest,
} from '../../commands/idempotency.js';
import {
  OneCommitUnsuitableError,
  type CommitPlan,
  type OneCommitCoordinator,
  type OneCommitDecisions,
  type TrackedStream,
} from '../../commands/one-commit.js';
import { WrongExpectedRevisionError, type AppendResult } from '../../ports/event-store.js';
import { canonicalJson } from '../../domain/audit/canonical-json.js';
import type { JsonObject, JsonValue } from '../../domain/shared/json.js';
import type { Clock } from '../../ports/clock.js';
import { PROBLEM_CONTENT_TYPE, problemOf, problemType } from './problem-details.js';

/**
 * A command decided whole in one commit (see src/commands/one-commit.ts): the streams it reads, and the
 * decision, which answers as the process would. A `position` in a success body is a placeholder: the
 * answer carries the commit's own position once it is known.
 */
export interface OneCommitCommand {
  readonly streams: readonly TrackedStream[];
  /** The operation's own stream: its last event's position is the answer's (committed after the others). */
  readonly positionStream: string;
  decide(decisions: OneCommitDecisions): CommandResponse;
}

/** A command decided whole by the command layer, answered `statusCode` with its `view`; null stays null. */
export function answeredInOneCommit<T>(
  whole: {
    readonly streams: readonly TrackedStream[];
    readonly positionStream: string;
    readonly decide: (decisions: OneCommitDecisions) => T;
  } | null,
  statusCode: number,
  view: (value: T, position: bigint) => JsonObject,
): OneCommitCommand | null {
  if (!whole) return null;
  return {
    streams: whole.streams,
    positionStream: whole.positionStream,
    decide: (decisions) => ({ statusCode, body: view(whole.decide(decisions), POSITION_PLACEHOLDER) }),
  };
}

/**
 * A command done in two commits, for work that must wait for part of the operation to be durable (a
 * recharge's request before the card is charged): `first` records that part with the key's claim (a
 * refusal there is answered at once, recording nothing else); `second`, after the first commit, gives
 * the rest, which is committed with the answer. A refusal decided in the second keeps its events (an
 * operation's recorded failure) beside the answer.
 */
export interface TwoCommitCommand {
  readonly first: { readonly streams: readonly TrackedStream[]; decide(decisions: OneCommitDecisions): void };
  second(): Promise<OneCommitCommand>;
}

/**
 * A command done in two commits by the command layer (`request`, then `finish` after the external step),
 * answered by `answer` (which may throw the refusal); null stays null.
 */
export function answeredInTwoCommits<T>(
  inTwo: { readonly request: CommitPlan<void>; readonly finish: () => Promise<CommitPlan<T>> } | null,
  answer: (value: T, position: bigint) => CommandResponse,
): TwoCommitCommand | null {
  if (!inTwo) return null;
  return {
    first: inTwo.request,
    second: async () => {
      const rest = await inTwo.finish();
      return {
        streams: rest.streams,
        positionStream: rest.positionStream,
        decide: (decisions) => answer(rest.decide(decisions), POSITION_PLACEHOLDER),
      };
    },
  };
}

/** The placeholder a one-commit answer's `position` has until the commit is known. */
export const POSITION_PLACEHOLDER = 0n;

/**
 * The command context of a request: its actor, its Idempotency-Key (the operation key is derived from
 * both, so a retry derives the same ids) or a fresh operation key without one, and the clock's time.
 */
export function commandContextOf(request: FastifyRequest, clock: Clock): CommandContext {
  const key = request.headers['idempotency-key'];
  const idempotencyKey = typeof key === 'string' && key.length > 0 ? key : null;
  const scope = request.actor ?? 'anonymous';
  return {
    actor: scope,
    correlationId: request.id,
    causationId: null,
    idempotencyKey,
    operationKey: idempotencyKey ? `${scope}\u0000${idempotencyKey}` : randomUUID(),
    occurredAt: clock.now().toISO()!,
  };
}

/**
 * Runs a command under the request's Idempotency-Key (when it has one): builds the command context,
 * records the response or the business refusal, and replays it for a retry with the same key.
 * Requests without a key (allowed only where the route says so) run once, unguarded.
 *
 * With `oneCommit` (a command that can be decided whole) on a store with a multi-stream append, a key
 * never used before gets the command's events, its claim and its answer in ONE commit; a key already
 * used, or an operation already begun, falls back to the process (`execute`), which answers it.
 */
export async function runCommand(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: {
    idempotency: IdempotencyKeeper;
    clock: Clock;
    commands?: { readonly oneCommit: OneCommitCoordinator | null };
  },
  execute: (context: CommandContext, attempt: { takeover: boolean }) => Promise<CommandResponse>,
  oneCommit?: (context: CommandContext) => OneCommitCommand | TwoCommitCommand | null,
): Promise<void> {
  const context = commandContextOf(request, deps.clock);
  const { idempotencyKey, actor: scope } = context;
  let response: CommandResponse & { replayed: boolean };
  if (idempotencyKey === null) {
    response = { ...conforming(request, await execute(context, { takeover: false })), replayed: false };
  } else {
    const fingerprint = requestFingerprint([
      request.method,
      request.routeOptions.url ?? request.url,
      JSON.stringify(request.params ?? {}),
      canonicalJson((request.body ?? null) as JsonValue),
    ]);
    const idempotent = { scope, key: idempotencyKey, fingerprint };
    const coordinator = deps.commands?.oneCommit;
    const command = coordinator && deps.idempotency.joinsOneCommit ? oneCommit?.(context) : null;
    const committed = !command
      ? null
      : 'first' in command
        ? await inTwoCommits(request, deps.idempotency, coordinator!, command, idempotent)
        : await inOneCommit(request, deps.idempotency, coordinator!, command, idempotent);
    response =
      committed ??
      (await deps.idempotency.run(
        idempotent,
        async (attempt) => conforming(request, await execute(context, attempt)),
        recordableRefusal(request),
      ));
  }
  if (response.replayed) reply.header('idempotent-replayed', 'true');
  if (response.statusCode >= 400) reply.type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify);
  await reply.status(response.statusCode).send(response.body);
}

/** The command, its claim and its answer in one commit; null when the process must answer instead. */
async function inOneCommit(
  request: FastifyRequest,
  idempotency: IdempotencyKeeper,
  coordinator: OneCommitCoordinator,
  command: OneCommitCommand,
  idempotent: IdempotentRequest,
): Promise<(CommandResponse & { replayed: boolean }) | null> {
  const refusal = recordableRefusal(request);
  try {
    const { value, results } = await coordinator.commit(command.streams, (decisions) => {
      let response: CommandResponse;
      try {
        response = conforming(request, withPosition(command.decide(decisions), POSITION_PLACEHOLDER));
      } catch (error) {
        const refused = refusal(error);
        if (!refused || error instanceof OneCommitUnsuitableError) throw error;
        // A refusal records nothing of the operation, only the answer: decided on the stored states.
        decisions.confirmRefusal();
        decisions.discardDecisions();
        response = refused;
      }
      decisions.appendUntracked(
        idempotency.answerInOneCommit(idempotent, response, answerPosition(decisions, command)),
      );
      return response;
    });
    return { ...answeredAt(value, results, command), replayed: false };
  } catch (error) {
    const keyTaken =
      error instanceof WrongExpectedRevisionError && error.streamId === idempotency.streamIdOf(idempotent);
    if (error instanceof OneCommitUnsuitableError || keyTaken) return null;
    throw error;
  }
}

/** The first part with the key's claim, the rest with its answer; null when the process must answer. */
async function inTwoCommits(
  request: FastifyRequest,
  idempotency: IdempotencyKeeper,
  coordinator: OneCommitCoordinator,
  command: TwoCommitCommand,
  idempotent: IdempotentRequest,
): Promise<(CommandResponse & { replayed: boolean }) | null> {
  const refusal = recordableRefusal(request);
  const claim = idempotency.claimInOneCommit(idempotent);
  let refused: CommandResponse | undefined;
  try {
    await coordinator.commit(command.first.streams, (decisions) => {
      try {
        command.first.decide(decisions);
        decisions.appendUntracked(claim);
      } catch (error) {
        const answer = refusal(error);
        if (!answer || error instanceof OneCommitUnsuitableError) throw error;
        decisions.confirmRefusal();
        decisions.discardDecisions();
        refused = answer;
        decisions.appendUntracked(idempotency.answerInOneCommit(idempotent, refused));
      }
    });
    if (refused) return { ...refused, replayed: false };
  } catch (error) {
    const keyTaken = error instanceof WrongExpectedRevisionError && error.streamId === claim.streamId;
    if (error instanceof OneCommitUnsuitableError || keyTaken) return null;
    throw error;
  }
  // The key is ours and the first part durable: from here on a failure gives the key back (a retry then
  // resumes the operation as its process), and a refusal is the answer.
  try {
    const rest = await command.second();
    const { value, results } = await coordinator.commit(rest.streams, (decisions) => {
      let response: CommandResponse;
      try {
        response = conforming(request, withPosition(rest.decide(decisions), POSITION_PLACEHOLDER));
      } catch (error) {
        const answer = refusal(error);
        if (!answer) throw error;
        response = answer;
      }
      decisions.appendUntracked(idempotency.answerAfterClaim(idempotent, response, answerPosition(decisions, rest)));
      return response;
    });
    return { ...answeredAt(value, results, rest), replayed: false };
  } catch (error) {
    await idempotency.releaseAfterClaim(idempotent, claim.claimId, error);
    throw error;
  }
}

/** Where the answer's position will be: the operation stream's last event, committed last of its events. */
function answerPosition(decisions: OneCommitDecisions, command: OneCommitCommand) {
  decisions.placeLast(command.positionStream);
  return { streamId: command.positionStream, revision: decisions.revision(command.positionStream) };
}

/** The answer with the position the commit gave the operation stream's last event. */
function answeredAt(
  response: CommandResponse,
  results: ReadonlyMap<string, AppendResult>,
  command: OneCommitCommand,
): CommandResponse {
  const appended = results.get(command.positionStream);
  // Nothing appended to it (the operation was finished meanwhile): its position as it stands is the answer's.
  return appended ? withPosition(response, appended.position) : response;
}

/** The body with its `position` (when it has one) set to this one. */
function withPosition(response: CommandResponse, position: bigint): CommandResponse {
  if (!('position' in response.body)) return response;
  return { ...response, body: { ...response.body, position: position.toString() } };
}

/**
 * An answer is checked against the route's response schema before it is recorded: one the schema would
 * reject (it would be answered 500 for ever after, under that key) is a bug, raised unrecorded instead,
 * so the claim is released and a retry derives the answer again.
 */
function conforming(request: FastifyRequest, response: CommandResponse): CommandResponse {
  const schemas = (request.routeOptions.schema as { response?: Record<number, unknown> } | undefined)?.response;
  const schema = schemas?.[response.statusCode];
  if (!(schema instanceof ZodType)) {
    throw new Error(`${request.method} ${request.routeOptions.url ?? '?'} documents no ${response.statusCode} answer`);
  }
  const checked = schema.safeParse(response.body);
  if (!checked.success) {
    throw new Error(
      `${request.method} ${request.routeOptions.url ?? '?'} derived a ${response.statusCode} answer its schema rejects: ${checked.error.message}`,
    );
  }
  return response;
}

/** Answers that say "try again", not "no": a retry with the same key must run the command again. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'concurrent_modification',
  'idempotency_request_in_progress',
  'idempotency_key_reused',
]);

/** Business refusals (4xx) are the command's answer and replay like a success; outages (5xx) do not. */
function recordableRefusal(request: FastifyRequest) {
  return (error: unknown): CommandResponse | undefined => {
    const problem = problemOf(error);
    if (problem.status >= 500 || TRANSIENT_CODES.has(problem.code)) return undefined;
    const body: JsonObject = {
      type: problemType(problem.code),
      title: problem.title,
      status: problem.status,
      code: problem.code,
      detail: problem.message,
      instance: request.url.split('?')[0]!,
      ...(problem.extra.details ? { details: problem.extra.details } : {}),
    };
    return { statusCode: problem.status, body };
  };
}

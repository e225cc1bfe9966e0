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
  type OneCommitCoordinator,
  type OneCommitDecisions,
  type TrackedStream,
} from '../../commands/one-commit.js';
import { WrongExpectedRevisionError } from '../../ports/event-store.js';
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
  decide(decisions: OneCommitDecisions): CommandResponse;
}

/** The placeholder a one-commit answer's `position` has until the commit is known. */
export const POSITION_PLACEHOLDER = 0n;

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
  oneCommit?: (context: CommandContext) => OneCommitCommand | null,
): Promise<void> {
  const key = request.headers['idempotency-key'];
  const idempotencyKey = typeof key === 'string' && key.length > 0 ? key : null;
  const scope = request.actor ?? 'anonymous';
  const context: CommandContext = {
    actor: scope,
    correlationId: request.id,
    causationId: null,
    idempotencyKey,
    operationKey: idempotencyKey ? `${scope}\u0000${idempotencyKey}` : randomUUID(),
    occurredAt: deps.clock.now().toISO()!,
  };
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
    const committed = command ? await inOneCommit(request, deps.idempotency, coordinator!, command, idempotent) : null;
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
      decisions.appendUntracked(idempotency.answerInOneCommit(idempotent, response));
      return response;
    });
    // The answer is the commit's last part: its position is at or after every event of the operation.
    return { ...withPosition(value, results.at(-1)!.position), replayed: false };
  } catch (error) {
    const keyTaken =
      error instanceof WrongExpectedRevisionError && error.streamId === idempotency.streamIdOf(idempotent);
    if (error instanceof OneCommitUnsuitableError || keyTaken) return null;
    throw error;
  }
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

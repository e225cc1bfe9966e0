import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { deriveId, type CommandContext } from '../../../commands/command-context.js';
import type { AwaitingChannel } from '../../../domain/channels/awaiting-channel.js';
import type { RoutingDecision } from '../../../domain/channels/routing.js';
import type { Clock } from '../../../ports/clock.js';

/**
 * What recharges and withdrawals show of their channel beyond the completed reference and fee: why the
 * router chose it, and an answer that is not final yet (the operation stays `requested` meanwhile).
 */
export const routingFields = {
  routingReason: z
    .enum(['cheapest_healthy', 'exploration', 'cheapest_degraded'])
    .nullable()
    .describe(
      'Why the router chose the channel (its decision is recorded with its inputs); null for operations recorded before routing',
    ),
  channelAnswer: z
    .object({
      outcome: z
        .enum(['pending', 'unknown'])
        .describe(
          'pending: accepted, the result comes later; unknown: perhaps done (a timeout): asked, never sent again',
        ),
      channelOrderNo: z.string().nullable(),
      payerActionUrl: z.string().nullable().describe('Online banking, platform pay: where the payer completes it'),
      nextQueryAt: z.string().describe('When the service next asks the channel for the order (UTC)'),
    })
    .nullable()
    .describe('Set while the channel has not given a final answer; GET asks the channel once'),
};

export function routingFieldsOf(
  routing: RoutingDecision | undefined,
  awaiting: AwaitingChannel | null,
): { [K in keyof typeof routingFields]: z.output<(typeof routingFields)[K]> } {
  const reason = routing?.reason;
  return {
    routingReason: reason === undefined || reason === 'no_channel' ? null : reason,
    channelAnswer: awaiting
      ? {
          outcome: awaiting.outcome,
          channelOrderNo: awaiting.channelOrderNo,
          payerActionUrl: awaiting.payerActionUrl,
          nextQueryAt: awaiting.nextQueryAt,
        }
      : null,
  };
}

/** The context of a lookup that asks a channel once for an open order (its note is a step of its own). */
export function lookupContext(request: FastifyRequest, clock: Clock, operationId: string): CommandContext {
  const occurredAt = clock.now().toISO()!;
  return {
    actor: request.actor ?? 'anonymous',
    correlationId: request.id,
    causationId: operationId,
    idempotencyKey: null,
    operationKey: deriveId(operationId, `lookup\u0000${occurredAt}`),
    occurredAt,
  };
}

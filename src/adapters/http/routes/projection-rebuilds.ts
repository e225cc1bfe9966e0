import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RebuildRefusedError, type RebuildStatus } from '../../../projections/online-rebuild.js';
import type { LedgerService } from '../../ledger-service.js';
import { positionString } from '../api-schemas.js';
import { requireOperator } from '../authorization.js';
import { HttpProblem } from '../problem-details.js';
import { problemResponses } from '../problem-responses.js';

export const rebuildStatusView = z
  .object({
    reason: z.enum(['operator', 'version']).describe('Asked for by an operator, or a projection version changed'),
    projections: z.array(z.string()).describe('Rebuilt one after the other, in this order'),
    switched: z.array(z.string()).describe('Those switched in so far'),
    current: z.string().nullable().describe('The projection being rebuilt; null once finished'),
    phase: z.enum(['building', 'catching-up', 'switching', 'done', 'failed']),
    position: positionString.nullable().describe("The log position the current projection's build has reached"),
    head: positionString.nullable().describe("The log's head when the phase began: position / head is its progress"),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    error: z.string().nullable().describe('Why it failed (phase failed); the live read model was kept'),
  })
  .meta({ id: 'ProjectionRebuild' });

export const rebuildAnswerView = z
  .object({ rebuild: rebuildStatusView.nullable() })
  .meta({ id: 'ProjectionRebuildAnswer' });

/** A status as the API shows it (positions as decimal strings). */
export function rebuildStatusJson(status: RebuildStatus): z.infer<typeof rebuildStatusView> {
  return {
    ...status,
    projections: [...status.projections],
    switched: [...status.switched],
    position: status.position === null ? null : status.position.toString(),
    head: status.head === null ? null : status.head.toString(),
  };
}

/** The problem answering a refused rebuild (each code with its one status, as docs/operations.md lists them). */
function refusalProblem(error: RebuildRefusedError): HttpProblem {
  switch (error.code) {
    case 'projection_not_found':
      return new HttpProblem(404, 'projection_not_found', 'No such projection', error.message);
    case 'rebuild_in_progress':
      return new HttpProblem(409, 'rebuild_in_progress', 'A rebuild is already running', error.message);
    case 'projections_not_held':
      return new HttpProblem(409, 'projections_not_held', 'This instance does not run the projections', error.message);
  }
}

/**
 * Online rebuild of a read model while the service takes commands (src/projections/online-rebuild.ts):
 * started here, watched at GET. Operators only. Runs on the instance holding the projections lease.
 */
export function projectionRebuildRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/projections/:name/rebuild',
      {
        schema: {
          tags: ['log'],
          summary: 'Rebuild a read model online',
          description:
            'Rebuilds the projection (or every one: `all`) from event zero beside the live read model while commands go on, catches it up with the head and switches it in at once; queries read the live model until then. Answers 202 at once; GET /v1/projections/rebuild shows progress. One rebuild at a time. Operators only, on the instance that holds the projections lease (GET /v1/projections).',
          params: z.object({ name: z.string().min(1).max(64).describe('A projection name, or `all`') }),
          response: {
            202: rebuildAnswerView,
            ...problemResponses('forbidden', 'projection_not_found', 'rebuild_in_progress', 'projections_not_held'),
          },
        },
      },
      async (request, reply) => {
        requireOperator(request);
        const { name } = request.params;
        try {
          const status = await service.projections.rebuild(name === 'all' ? 'all' : [name]);
          return reply.status(202).send({ rebuild: rebuildStatusJson(status) });
        } catch (error) {
          if (!(error instanceof RebuildRefusedError)) throw error;
          throw refusalProblem(error);
        }
      },
    );
    app.get(
      '/v1/projections/rebuild',
      {
        schema: {
          tags: ['log'],
          summary: 'Progress of the online rebuild',
          description:
            "This instance's running online rebuild, or its last one (null before any): phase, position / head. Operators only.",
          response: { 200: rebuildAnswerView, ...problemResponses('forbidden') },
        },
      },
      async (request) => {
        requireOperator(request);
        const status = service.projections.rebuildStatus;
        return { rebuild: status ? rebuildStatusJson(status) : null };
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readProjectionStatus } from '../../../projections/projection-status.js';
import type { LedgerService } from '../../ledger-service.js';
import { positionString } from '../api-schemas.js';
import { requireOperator } from '../authorization.js';
import { problemResponses } from '../problem-responses.js';
import { rebuildStatusJson, rebuildStatusView } from './projection-rebuilds.js';

export const projectionStatusView = z
  .object({
    instance: z.object({
      holder: z
        .string()
        .nullable()
        .describe("This instance's holder id (host/pid/random); null when it runs no projections"),
      holding: z.boolean().describe('This instance holds the projections lease and runs the projections'),
    }),
    projections: z.array(
      z.object({
        name: z.string(),
        checkpoint: positionString.describe('Last position the projection has written ("0": nothing yet)'),
      }),
    ),
    leases: z.array(
      z.object({
        name: z.string(),
        holder: z.string().nullable().describe('Who holds it; null once released'),
        token: z.string().describe('Fencing token of the current (or last) holding; grows with every acquisition'),
        expiresAt: z.iso.datetime().describe("Until when it is held unless renewed (the store's clock), UTC"),
        expired: z.boolean().describe("Past expiresAt by the store's clock: the next instance to poll takes it"),
      }),
    ),
    rebuild: rebuildStatusView
      .nullable()
      .describe("This instance's running online rebuild, or its last one; null before any"),
  })
  .meta({ id: 'ProjectionStatus' });

/** Which instance runs the projections, until when, and how far each has got: for operators. */
export function projectionStatusRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/projections',
      {
        schema: {
          tags: ['log'],
          summary: 'Projection checkpoints and the projections lease',
          description:
            "Each read model's checkpoint, and who holds the lease the projections run under (one instance of those sharing the stores) and until when. Read from the shared store: every instance answers the same. Operators only.",
          response: { 200: projectionStatusView, ...problemResponses('forbidden') },
        },
      },
      async (request) => {
        requireOperator(request);
        const status = await readProjectionStatus(service.readModels, service.readModelProjections);
        return {
          instance: { holder: service.projections.holder ?? null, holding: service.projections.holding },
          projections: status.checkpoints.map(({ projection, checkpoint }) => ({
            name: projection,
            checkpoint: checkpoint === 'start' ? '0' : checkpoint.toString(),
          })),
          leases: status.leases.map((lease) => ({
            name: lease.name,
            holder: lease.holder,
            token: lease.token.toString(),
            expiresAt: new Date(lease.expiresAtMs).toISOString(),
            expired: lease.holder === null || lease.expiresAtMs <= lease.nowMs,
          })),
          rebuild: service.projections.rebuildStatus ? rebuildStatusJson(service.projections.rebuildStatus) : null,
        };
      },
    );
  };
}

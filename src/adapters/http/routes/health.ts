import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LedgerService } from '../../ledger-service.js';

export const healthView = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), z.string()).optional(),
});

/** Liveness: the process answers. Readiness: both stores answer, so a load balancer may send traffic. */
export function healthRoutes(service: LedgerService, isShuttingDown: () => boolean): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health/live',
      { schema: { tags: ['health'], summary: 'Liveness', response: { 200: healthView } } },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/health/ready',
      { schema: { tags: ['health'], summary: 'Readiness', response: { 200: healthView, 503: healthView } } },
      async (_request, reply) => {
        const checks: Record<string, string> = {};
        try {
          await service.eventStore.headPosition();
          checks['eventStore'] = 'ok';
        } catch {
          checks['eventStore'] = 'unavailable';
        }
        try {
          await service.readModels.getCheckpoint('balances');
          checks['readModels'] = 'ok';
        } catch {
          checks['readModels'] = 'unavailable';
        }
        if (isShuttingDown()) checks['shutdown'] = 'in progress';
        // Projections failing (and retrying): reads would be stale, so take no traffic meanwhile.
        if (!service.projections.healthy) checks['projections'] = 'restarting';
        // An online rebuild does not take the instance out: the live read models serve meanwhile.
        const rebuild = service.projections.rebuildStatus;
        if (rebuild && rebuild.finishedAt === null)
          checks['rebuild'] =
            `${rebuild.current ?? ''} ${rebuild.phase} ${rebuild.position ?? 0}/${rebuild.head ?? 0}`.trim();
        const ready =
          checks['eventStore'] === 'ok' &&
          checks['readModels'] === 'ok' &&
          !isShuttingDown() &&
          service.projections.healthy;
        return reply.status(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
      },
    );
  };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { LedgerService } from '../../ledger-service.js';
import { accountRoutes } from './accounts.js';
import { rechargeRoutes } from './recharges.js';

/** Every /v1 resource, one plugin per resource. */
export function apiRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(accountRoutes(service));
    await app.register(rechargeRoutes(service));
  };
}

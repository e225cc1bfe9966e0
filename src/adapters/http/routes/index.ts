import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { LedgerService } from '../../ledger-service.js';
import { accountControlRoutes } from './account-controls.js';
import { accountQueryRoutes } from './account-queries.js';
import { accountRoutes } from './accounts.js';
import { booksRoutes } from './books.js';
import { cardRoutes } from './cards.js';
import { cardContractRoutes } from './card-contracts.js';
import { channelNotificationRoutes, channelRoutes } from './channel-notifications.js';
import { channelPaymentRoutes } from './channel-payments.js';
import { channelRefundRoutes } from './channel-refunds.js';
import { entityRoutes } from './entities.js';
import { entityQueryRoutes } from './entity-queries.js';
import { freezeRoutes } from './freezes.js';
import { logQueryRoutes } from './log-queries.js';
import { operationQueryRoutes } from './operation-queries.js';
import { paymentRoutes } from './payments.js';
import { paymentCodeRoutes } from './payment-codes.js';
import { projectionStatusRoutes } from './projection-status.js';
import { preauthRoutes } from './preauths.js';
import { rechargeRoutes } from './recharges.js';
import { statementRoutes } from './statements.js';
import { transferBatchRoutes } from './transfer-batches.js';
import { transferAndWithdrawalRoutes } from './transfers-and-withdrawals.js';
import { transitRoutes } from './transit.js';
import { webhookDeliveryRoutes } from './webhook-deliveries.js';
import { webhookEndpointRoutes } from './webhook-endpoints.js';

/** Every /v1 resource, one plugin per resource. */
export function apiRoutes(service: LedgerService): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(accountRoutes(service));
    await app.register(entityRoutes(service));
    await app.register(rechargeRoutes(service));
    await app.register(accountControlRoutes(service));
    await app.register(paymentRoutes(service));
    await app.register(channelPaymentRoutes(service));
    await app.register(channelRefundRoutes(service));
    await app.register(channelRoutes(service));
    await app.register(channelNotificationRoutes(service));
    await app.register(freezeRoutes(service));
    await app.register(preauthRoutes(service));
    await app.register(transferAndWithdrawalRoutes(service));
    await app.register(transferBatchRoutes(service));
    await app.register(transitRoutes(service));
    await app.register(statementRoutes(service));
    await app.register(booksRoutes(service));
    await app.register(operationQueryRoutes(service));
    await app.register(accountQueryRoutes(service));
    await app.register(entityQueryRoutes(service));
    await app.register(logQueryRoutes(service));
    await app.register(projectionStatusRoutes(service));
    await app.register(webhookEndpointRoutes(service));
    await app.register(webhookDeliveryRoutes(service));
    await app.register(cardRoutes(service));
    await app.register(paymentCodeRoutes(service));
    await app.register(cardContractRoutes(service));
  };
}

import { balancesProjection } from './balances.js';
import { booksProjection } from './books.js';
import { cardContractsProjection } from './card-contracts.js';
import { channelOrdersProjection } from './channel-orders.js';
import { entitiesProjection } from './entities.js';
import { operationsProjection } from './operations.js';
import { payerHistoryProjection } from './payer-history.js';
import { reconDaysProjection } from './recon-days.js';
import type { Projection } from './projection.js';
import { reconBreaksProjection } from './recon-breaks.js';
import { statementsProjection } from './statements.js';
import { transferBatchesProjection } from './transfer-batches.js';
import { transitProjection } from './transit.js';
import { webhookEndpointsProjection } from './webhook-endpoints.js';

/**
 * Every read model the service keeps, built for the accounting time zone that cuts their days (statements
 * and books date each line, channel orders their day). Changing ACCOUNTING_TIME_ZONE changes those dates: rebuild after changing it.
 */
export function projectionsFor(accountingTimeZone: string): readonly Projection[] {
  return [
    balancesProjection,
    operationsProjection,
    statementsProjection(accountingTimeZone),
    booksProjection(accountingTimeZone),
    entitiesProjection,
    transferBatchesProjection,
    webhookEndpointsProjection,
    payerHistoryProjection,
    transitProjection,
    channelOrdersProjection(accountingTimeZone),
    reconBreaksProjection,
    reconDaysProjection,
    cardContractsProjection,
  ];
}

import type { Projection } from './projection.js';

/**
 * Projections that cut by accounting day are built for one accounting time zone: changing the zone
 * changes every accounting date they derive, so it takes a rebuild. They say which zone they were built
 * for, so the service can refuse to serve them under another configured zone.
 */
export interface AccountingProjection extends Projection {
  readonly accountingTimeZone: string;
}

/** The configuration's default (ACCOUNTING_TIME_ZONE), for composition roots that build projections without a config. */
export const DEFAULT_ACCOUNTING_TIME_ZONE = 'Asia/Shanghai';

export function isAccountingProjection(projection: Projection): projection is AccountingProjection {
  return typeof (projection as Partial<AccountingProjection>).accountingTimeZone === 'string';
}

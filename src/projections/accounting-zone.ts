import type { Projection } from './projection.js';

/**
 * Projections that cut by accounting day are built for one accounting time zone: changing the zone
 * changes every accounting date they derive, so it takes a rebuild (`npm run rebuild`). They say which
 * zone they were built for.
 */
export interface AccountingProjection extends Projection {
  readonly accountingTimeZone: string;
}

/** The configuration's default ACCOUNTING_TIME_ZONE, for tools that build projections without a config (benchmarks). */
export const DEFAULT_ACCOUNTING_TIME_ZONE = 'Asia/Shanghai';

import { z } from 'zod';
import type { LedgerService } from '../ledger-service.js';
import { positionString } from './api-schemas.js';

/** Query pieces shared by the read-model routes (statements, books): pages, cursors, read-your-writes. */

export const cursorString = z
  .string()
  .min(1)
  .max(1_024)
  .regex(/^[A-Za-z0-9_-]+$/, 'a cursor returned as nextCursor')
  .describe("Opaque: the previous page's `nextCursor`, with the same filters");

/** A page size parameter: 1..max, `default` when absent. */
export function pageLimit(defaultSize: number, maxSize: number) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(maxSize)
    .default(defaultSize)
    .describe(`Items per page, 1 to ${maxSize} (default ${defaultSize})`);
}

export const minPositionParam = positionString
  .optional()
  .describe(
    'Wait (bounded) until the read model has applied this position: read your own write. 503 with Retry-After if it has not in time',
  );

export async function awaitReadModel(
  service: LedgerService,
  projection: string,
  minPosition: string | undefined,
): Promise<void> {
  if (minPosition === undefined) return;
  await service.projections.waitForPosition(projection, BigInt(minPosition), service.config.readYourWritesTimeoutMs);
}

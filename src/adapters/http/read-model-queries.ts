import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FindQuery, IndexValue } from '../../ports/read-model-store.js';
import { KEY_GROUP_END, compositeKey, utcInstantKey } from '../../projections/read-model-keys.js';
import type { LedgerService } from '../ledger-service.js';
import { positionString } from './api-schemas.js';
import { HttpProblem } from './problem-details.js';

/** Query pieces shared by the read-model routes (statements, books, lists): pages, cursors, read-your-writes. */

export const cursorString = z
  .string()
  .min(1)
  .max(1_024)
  .regex(/^[A-Za-z0-9_-]+$/, 'a cursor returned as nextCursor')
  .describe("Opaque: the previous page's `nextCursor`, with the same filters and order (else 400 cursor_mismatch)");

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
    'Wait (bounded) until the read model has applied this position: read your own write. 503 with Retry-After if it has not in time; 400 position_beyond_head if the log has not reached it',
  );

export async function awaitReadModel(
  service: LedgerService,
  projection: string,
  minPosition: string | undefined,
): Promise<void> {
  if (minPosition === undefined) return;
  const position = BigInt(minPosition);
  // A position the log has not reached is no write of anyone's: refused at once, not waited for.
  const head = await service.eventStore.headPosition();
  if (head === 'start' || position > head) {
    throw new HttpProblem(
      400,
      'position_beyond_head',
      'Position beyond the log',
      `minPosition ${minPosition} is beyond the log's last position (${head === 'start' ? 'none yet' : head.toString()}); pass a position this API returned`,
    );
  }
  await service.projections.waitForPosition(projection, position, service.config.readYourWritesTimeoutMs);
}

/** Items per page of every list route (accounts, entities, operations, refunds, accounting dates). */
export const LIST_PAGE_SIZE_DEFAULT = 50;
export const LIST_PAGE_SIZE_MAX = 200;

/** The query fields every list route takes: a page, its cursor, its order, read-your-writes. */
export const listQueryFields = {
  limit: pageLimit(LIST_PAGE_SIZE_DEFAULT, LIST_PAGE_SIZE_MAX),
  cursor: cursorString.optional(),
  order: z
    .enum(['desc', 'asc'])
    .default('desc')
    .describe('newest first (default) or oldest first; ties in the same millisecond in id order'),
  minPosition: minPositionParam,
};

/** A page of a list: the items, and the cursor of the next page (null on the last). */
export function listPageView<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor`, with the same filters, for the next page'),
  });
}

export const instantRangeFields = {
  from: z.iso.datetime({ offset: true }).optional().describe('Created at or after this instant (ISO-8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('Created before this instant (exclusive)'),
};

/** A half-open [from, to) range over an instant field that holds utcInstantKey values; undefined for none. */
export function instantRange(
  field: string,
  from: string | undefined,
  to: string | undefined,
): FindQuery['range'] | undefined {
  if (from === undefined && to === undefined) return undefined;
  const gte = from === undefined ? undefined : utcInstantKey(from);
  const lt = to === undefined ? undefined : utcInstantKey(to);
  if (gte !== undefined && lt !== undefined && gte > lt)
    throw new HttpProblem(400, 'invalid_query', 'Invalid query', 'from is after to');
  return { field, ...(gte !== undefined ? { gte } : {}), ...(lt !== undefined ? { lt } : {}) };
}

/**
 * The same over a composite key `<group>|<instant>` (read-model-keys.ts): one group's documents between
 * two instants, ordered by the key; the whole group without bounds.
 */
export function groupInstantRange(
  field: string,
  group: string,
  from: string | undefined,
  to: string | undefined,
): NonNullable<FindQuery['range']> {
  const bounds = instantRange(field, from, to);
  return {
    field,
    gte: compositeKey(group, String(bounds?.gte ?? '')),
    lt: bounds?.lt === undefined ? `${group}${KEY_GROUP_END}` : compositeKey(group, String(bounds.lt)),
  };
}

/**
 * A list's cursor is bound to the query it pages: the store's cursor (the last item's order value and id)
 * behind a short digest of what the page selects (the filters, the order, the path's resource, the index
 * read). The store's cursor alone would page another selection silently wrong (a cursor of all entities
 * reused with `kind=user` skips or repeats items): such a cursor is refused instead. `limit` is not bound,
 * so a client may change the page size between pages; `minPosition` only waits.
 */
const CURSOR_DIGEST_LENGTH = 12; // base64url characters: 72 bits of SHA-256, far beyond accidental matches
const UNBOUND_QUERY_FIELDS: ReadonlySet<string> = new Set(['cursor', 'limit', 'minPosition']);

function cursorDigest(query: Readonly<Record<string, unknown>>, selection: string): string {
  const bound = Object.entries(query)
    .filter(([field, value]) => !UNBOUND_QUERY_FIELDS.has(field) && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256')
    .update(JSON.stringify([selection, bound]))
    .digest('base64url')
    .slice(0, CURSOR_DIGEST_LENGTH);
}

/** The store's cursor inside the client's, checked against the query it is sent with. */
export function cursorAfter(
  query: Readonly<Record<string, unknown>> & { readonly cursor?: string | undefined },
  selection: string,
): { after?: string } {
  const { cursor } = query;
  if (cursor === undefined) return {};
  if (cursor.length <= CURSOR_DIGEST_LENGTH || cursor.slice(0, CURSOR_DIGEST_LENGTH) !== cursorDigest(query, selection))
    throw new HttpProblem(
      400,
      'cursor_mismatch',
      'Cursor does not fit the query',
      'the cursor was returned for other filters, order or resource: send it with the query that returned it, or start again without a cursor',
    );
  return { after: cursor.slice(CURSOR_DIGEST_LENGTH) };
}

/** The client's cursor of the next page: the store's, bound to the query; null on the last page. */
export function boundCursor(
  query: Readonly<Record<string, unknown>>,
  selection: string,
  storeCursor: string | null,
): string | null {
  return storeCursor === null ? null : `${cursorDigest(query, selection)}${storeCursor}`;
}

export interface ListPaging {
  /** The parts of a FindQuery that page a list: limit, order, the store's cursor. */
  readonly find: Pick<FindQuery, 'limit' | 'orderBy' | 'direction' | 'after'>;
  /** The page's `nextCursor` for the client. */
  next(storeCursor: string | null): string | null;
}

/** How a list is paged: by `orderBy`, over `selection` (what the query fields do not say: a group read). */
export function pageOf(
  query: { limit: number; order: 'asc' | 'desc'; cursor?: string | undefined },
  orderBy: string,
  selection = '',
): ListPaging {
  const bound = `${orderBy}|${selection}`;
  return {
    find: { limit: query.limit, orderBy, direction: query.order, ...cursorAfter(query, bound) },
    next: (storeCursor) => boundCursor(query, bound, storeCursor),
  };
}

/** Drops the undefined filters: `where` holds only what the client asked for. */
export function whereOf(filters: Record<string, IndexValue | undefined>): Record<string, IndexValue> {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)) as Record<string, IndexValue>;
}

/**
 * Global position at or after the last event of a stream, read after the state a view shows was loaded:
 * waiting for a read model to reach it includes everything that view shows. 0 for an empty stream.
 */
export async function streamPosition(service: LedgerService, streamId: string): Promise<bigint> {
  for await (const last of service.eventStore.readStream(streamId, { direction: 'backwards', maxCount: 1 })) {
    return last.position;
  }
  return 0n;
}

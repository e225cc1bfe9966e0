import { MAX_FIND_LIMIT, type ReadModelStore, type StoredDocument } from '../ports/read-model-store.js';

/** Documents fetched per `find` call while an audit streams a collection. */
export const DUMP_PAGE_SIZE_DOCUMENTS = Math.min(500, MAX_FIND_LIMIT);

/**
 * Orders ids as both read-model engines do by default: by UTF-8 bytes (SQLite's BINARY collation,
 * MongoDB's simple collation), which is code point order. JavaScript's `<` compares UTF-16 units and
 * disagrees for characters above U+FFFF, so it cannot be used to merge the two sides.
 */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Every live document of a collection in id order, one `find` page in memory at a time. Fails if the
 * store hands back ids out of that order, since a merge of two such streams would then report
 * documents as missing that are only misplaced.
 */
export async function* documentsInIdOrder(
  store: ReadModelStore,
  collection: string,
  pageSizeDocuments: number = DUMP_PAGE_SIZE_DOCUMENTS,
): AsyncGenerator<StoredDocument> {
  let after: string | undefined;
  let previousId: string | undefined;
  for (;;) {
    const page = await store.find(collection, {
      limit: pageSizeDocuments,
      orderBy: 'id',
      direction: 'asc',
      ...(after ? { after } : {}),
    });
    for (const document of page.items) {
      if (previousId !== undefined && compareIds(previousId, document.id) >= 0) {
        throw new Error(
          `${store.engine} read-model store returned ${collection} ids out of order: "${previousId}" before "${document.id}"`,
        );
      }
      previousId = document.id;
      yield document;
    }
    if (page.nextCursor === null) return;
    after = page.nextCursor;
  }
}

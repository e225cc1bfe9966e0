import type { JsonObject } from '../../src/domain/shared/json.js';
import { MAX_FIND_LIMIT, type ReadModelStore, type StoredDocument } from '../../src/ports/read-model-store.js';
import type { Projection } from '../../src/projections/projection.js';

/** Every live document of a collection, in id order. */
export async function allDocuments<T extends JsonObject>(
  store: ReadModelStore,
  collection: string,
): Promise<StoredDocument<T>[]> {
  const documents: StoredDocument<T>[] = [];
  let after: string | null = null;
  do {
    const page: { items: StoredDocument<T>[]; nextCursor: string | null } = await store.find<T>(collection, {
      limit: MAX_FIND_LIMIT,
      ...(after ? { after } : {}),
    });
    documents.push(...page.items);
    after = page.nextCursor;
  } while (after !== null);
  return documents;
}

/** Every document of the projections' collections with its position, in a canonical order: equal dumps, identical read models. */
export async function canonicalDump(store: ReadModelStore, projections: readonly Projection[]): Promise<string> {
  const lines: string[] = [];
  for (const projection of projections) {
    lines.push(`checkpoint ${projection.name} ${String(await store.getCheckpoint(projection.name))}`);
    for (const { name } of projection.collections) {
      for (const doc of await allDocuments(store, name))
        lines.push(`${name} ${doc.id} ${doc.position} ${JSON.stringify(doc.data)}`);
    }
  }
  return lines.join('\n');
}

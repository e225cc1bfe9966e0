import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { READ_MODELS_FILE } from '../../src/adapters/storage.js';
import type { JsonObject } from '../../src/domain/shared/json.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import type { ReadModelStore } from '../../src/ports/read-model-store.js';
import type { Projection } from '../../src/projections/projection.js';

/** Every document of the projections' collections, by collection and id: to compare two stores whole. */
export async function readModelContents(
  store: ReadModelStore,
  projections: readonly Projection[],
): Promise<Record<string, Record<string, JsonObject>>> {
  const dump: Record<string, Record<string, JsonObject>> = {};
  for (const spec of projections.flatMap((projection) => projection.collections)) {
    const documents: Record<string, JsonObject> = {};
    let after: string | undefined;
    do {
      const page = await store.find(spec.name, { limit: 1_000, ...(after ? { after } : {}) });
      for (const item of page.items) documents[item.id] = item.data;
      after = page.nextCursor ?? undefined;
    } while (after);
    dump[spec.name] = documents;
  }
  return dump;
}

/** `projections` built from event zero into a fresh SQLite store of their own: what the live one must equal. */
export async function builtAside(
  eventStore: EventStore,
  projections: readonly Projection[],
): Promise<SqliteReadModelStore> {
  const aside = new SqliteReadModelStore(join(mkdtempSync(join(tmpdir(), 'ledger-aside-')), READ_MODELS_FILE));
  await new ProjectionRunner(eventStore, aside, projections).catchUp();
  return aside;
}

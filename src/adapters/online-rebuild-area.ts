import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LedgerConfig } from '../config.js';
import type { OnlineRebuildArea, ReadModelStaging } from '../ports/read-model-staging.js';
import type { ReadModelStore } from '../ports/read-model-store.js';
import type { MongoReadModelStore } from './mongo/mongo-read-model-store.js';
import { removeWithCompanions } from './sqlite/bulk-swap.js';
import { SqliteReadModelStore } from './sqlite/sqlite-read-model-store.js';
import { READ_MODELS_FILE } from './storage.js';

/**
 * Where the online rebuild (src/projections/online-rebuild.ts) builds, per engine (src/ports/
 * read-model-staging.ts OnlineRebuildArea), beside the live store `live` it switches into.
 *
 * - SQLite: `read-models.sqlite.online-<projection>`, a file of its own, built in bulk mode (no journal,
 *   deferred indexes) and caught up as an ordinary store; the switch copies its tables into the live file
 *   in one write transaction (SqliteReadModelStore.switchInFrom): one commit, so readers see the old
 *   model or the new one, never part of each. The copy holds the read-model file's write lock for as
 *   long as it takes (the live projections are paused then anyway); the event store is another file, so
 *   commands go on.
 * - MongoDB: collections `_online.<projection>.<collection>`, renamed over the live ones
 *   (renameCollection with dropTarget: one step per collection, a query sees one collection whole, old
 *   or new) with the projection's checkpoint removed first and set after; MongoDB cannot rename several
 *   collections at once, so for the milliseconds between a projection's first rename and its last, a
 *   query reading two of its collections may meet one old and one new, and a crash there leaves the
 *   projection without a checkpoint, to be built again (swapInStaged). A projection of one collection
 *   switches in one step.
 */
export function onlineRebuildAreaFor(config: Pick<LedgerConfig, 'dataDir'>, live: ReadModelStore): OnlineRebuildArea {
  if (live instanceof SqliteReadModelStore) return sqliteArea(join(config.dataDir, READ_MODELS_FILE), live);
  if (live.engine === 'mongo') return mongoArea(live as MongoReadModelStore);
  throw new Error(`no online rebuild area for a ${live.engine} read-model store of this kind`);
}

const SQLITE_SUFFIX = '.online-';

/** The build file of `projection` beside the live file (a projection name: lower-case letters, digits, `-` and `_`). */
export function onlineBuildFile(liveFile: string, projection: string): string {
  if (!/^[a-z][a-z0-9_-]{0,62}$/.test(projection)) throw new Error(`not a projection name: ${projection}`);
  return `${liveFile}${SQLITE_SUFFIX}${projection}`;
}

function sqliteArea(liveFile: string, live: SqliteReadModelStore): OnlineRebuildArea {
  return {
    discardAll: async () => {
      const dir = dirname(liveFile);
      const prefix = `${basename(liveFile)}${SQLITE_SUFFIX}`;
      if (!existsSync(dir)) return;
      for (const name of readdirSync(dir)) if (name.startsWith(prefix)) removeWithCompanions(join(dir, name));
    },
    discard: async (projection) => removeWithCompanions(onlineBuildFile(liveFile, projection)),
    openBuild: async (projection): Promise<ReadModelStaging> => {
      const file = onlineBuildFile(liveFile, projection);
      removeWithCompanions(file);
      return new SqliteReadModelStore(file, { bulk: true });
    },
    openCatchUp: async (projection) => new SqliteReadModelStore(onlineBuildFile(liveFile, projection)),
    switchIn: async (projection, fence) => {
      live.switchInFrom(onlineBuildFile(liveFile, projection.name), projection, fence);
      removeWithCompanions(onlineBuildFile(liveFile, projection.name));
    },
  };
}

/** MongoDB's staging prefixes: `_online.` then the projection (no read-model name begins with `_`). */
const MONGO_PREFIX = '_online.';

function mongoArea(live: MongoReadModelStore): OnlineRebuildArea {
  const prefixOf = (projection: string) => `${MONGO_PREFIX}${projection}.`;
  const { url, databaseName } = live.connection;
  return {
    discardAll: () => live.dropStaged(MONGO_PREFIX),
    discard: (projection) => live.dropStaged(prefixOf(projection)),
    openBuild: async (projection) => {
      await live.dropStaged(prefixOf(projection));
      const { MongoReadModelStore } = await import('./mongo/mongo-read-model-store.js');
      return MongoReadModelStore.connect(url, { databaseName, stagingPrefix: prefixOf(projection) });
    },
    openCatchUp: async (projection) => {
      const { MongoReadModelStore } = await import('./mongo/mongo-read-model-store.js');
      return MongoReadModelStore.connect(url, { databaseName, stagingPrefix: prefixOf(projection) });
    },
    switchIn: async (projection, fence) => {
      await live.swapInStaged(prefixOf(projection.name), [projection], fence);
      await live.recordProjectionVersion(projection.name, projection.version);
      await live.dropStaged(prefixOf(projection.name));
    },
  };
}

import { SqliteReadModelStore } from '../adapters/sqlite/sqlite-read-model-store.js';
import type { JsonObject } from '../domain/shared/json.js';
import type { EventStore } from '../ports/event-store.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.js';
import type { Projection } from '../projections/projection.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { diffFields, type FieldDifference } from './document-diff.js';
import { logPrefix } from './log-prefix.js';
import { compareIds, documentsInIdOrder } from './read-model-dump.js';

/** Events the replaying runner applies per read-model transaction (as `ledger rebuild` does). */
export const REPLAY_BATCH_EVENTS = 5_000;
/** How often (in documents compared) the comparison reports progress. */
export const PROGRESS_EVERY_DOCUMENTS = 500;

interface DocumentRef {
  readonly projection: string;
  readonly collection: string;
  readonly id: string;
}

/**
 * One document on which the stored read model and the replay disagree. "missing": the replay has it,
 * the store does not; "extra": the store has it, the replay does not.
 */
export type ReadModelDifference =
  | (DocumentRef & {
      readonly problem: 'different';
      readonly fields: FieldDifference[];
      readonly storedPosition: bigint;
      readonly replayedPosition: bigint;
    })
  | (DocumentRef & { readonly problem: 'missing'; readonly replayed: JsonObject; readonly replayedPosition: bigint })
  | (DocumentRef & { readonly problem: 'extra'; readonly stored: JsonObject; readonly storedPosition: bigint });

export type ReplayProgress =
  | { readonly stage: 'replay'; readonly projection: string; readonly position: bigint; readonly lastPosition: bigint }
  | { readonly stage: 'compare'; readonly projection: string; readonly collection: string; readonly documents: number };

export interface ProjectionAudit {
  readonly projection: string;
  /** The stored checkpoint the replay stopped at: both sides describe the log up to here. */
  readonly checkpoint: bigint | 'start';
  readonly replayedEvents: number;
  /** Documents compared (stored and replayed, matched by id, counted once). */
  readonly documents: number;
  readonly differences: number;
  /**
   * The stored checkpoint moved while the audit compared: a running service wrote to the read models,
   * so differences may be its fresh writes rather than damage. Rerun with the service stopped.
   */
  readonly checkpointMoved: boolean;
}

export interface ReplayOptions {
  /** Called for every difference, in collection then id order; awaited, so output can apply backpressure. */
  readonly onDifference: (difference: ReadModelDifference) => void | Promise<void>;
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Where the replay writes; default an in-memory SQLite store, whatever engine is audited. */
  readonly openScratchStore?: () => ReadModelStore;
}

/**
 * Recomputes each projection from event zero into a scratch store and compares it with the stored read
 * models, document by document, in both directions. Each projection is replayed only up to its stored
 * checkpoint, so both sides describe the same prefix of the log even while the service appends.
 *
 * Memory: the scratch store holds one projection's replayed documents at a time (in RAM by default);
 * the comparison itself holds one `find` page per side.
 */
export async function replayReadModels(
  eventStore: EventStore,
  readModels: ReadModelStore,
  projections: readonly Projection[],
  options: ReplayOptions,
): Promise<ProjectionAudit[]> {
  const audits: ProjectionAudit[] = [];
  // `find` on the stored side needs the collections declared; this creates none that exist already.
  await readModels.ensureCollections(projections.flatMap((p) => p.collections));
  for (const projection of projections) audits.push(await auditProjection(eventStore, readModels, projection, options));
  return audits;
}

async function auditProjection(
  eventStore: EventStore,
  readModels: ReadModelStore,
  projection: Projection,
  options: ReplayOptions,
): Promise<ProjectionAudit> {
  const checkpoint = await readModels.getCheckpoint(projection.name);
  const scratch = options.openScratchStore?.() ?? new SqliteReadModelStore(':memory:');
  try {
    const runner = new ProjectionRunner(logPrefix(eventStore, checkpoint), scratch, [projection], {
      maxBatchEvents: REPLAY_BATCH_EVENTS,
    });
    const replayedEvents = await runner.catchUp((position) => {
      if (checkpoint !== 'start')
        options.onProgress?.({ stage: 'replay', projection: projection.name, position, lastPosition: checkpoint });
    });
    let documents = 0;
    let differences = 0;
    for (const { name: collection } of projection.collections) {
      const ref = { projection: projection.name, collection };
      const counts = await compareCollection(readModels, scratch, ref, options);
      documents += counts.documents;
      differences += counts.differences;
    }
    const checkpointAfter = await readModels.getCheckpoint(projection.name);
    return {
      projection: projection.name,
      checkpoint,
      replayedEvents,
      documents,
      differences,
      checkpointMoved: checkpointAfter !== checkpoint,
    };
  } finally {
    await scratch.close();
  }
}

/** A merge of the two id-ordered document streams: the same id on both sides is compared field by field. */
async function compareCollection(
  stored: ReadModelStore,
  replayed: ReadModelStore,
  ref: { readonly projection: string; readonly collection: string },
  options: ReplayOptions,
): Promise<{ documents: number; differences: number }> {
  const storedDocs = documentsInIdOrder(stored, ref.collection);
  const replayedDocs = documentsInIdOrder(replayed, ref.collection);
  let s = await nextOf(storedDocs);
  let r = await nextOf(replayedDocs);
  let documents = 0;
  let differences = 0;
  while (s || r) {
    const order = !s ? 1 : !r ? -1 : compareIds(s.id, r.id);
    const difference = order < 0 ? extra(ref, s!) : order > 0 ? missing(ref, r!) : different(ref, s!, r!);
    if (order <= 0) s = await nextOf(storedDocs);
    if (order >= 0) r = await nextOf(replayedDocs);
    documents += 1;
    if (difference) {
      differences += 1;
      await options.onDifference(difference);
    }
    if (documents % PROGRESS_EVERY_DOCUMENTS === 0) options.onProgress?.({ stage: 'compare', ...ref, documents });
  }
  options.onProgress?.({ stage: 'compare', ...ref, documents });
  return { documents, differences };
}

async function nextOf(documents: AsyncIterator<StoredDocument>): Promise<StoredDocument | undefined> {
  const next = await documents.next();
  return next.done ? undefined : next.value;
}

function extra(ref: Omit<DocumentRef, 'id'>, doc: StoredDocument): ReadModelDifference {
  return { ...ref, id: doc.id, problem: 'extra', stored: doc.data, storedPosition: doc.position };
}

function missing(ref: Omit<DocumentRef, 'id'>, doc: StoredDocument): ReadModelDifference {
  return { ...ref, id: doc.id, problem: 'missing', replayed: doc.data, replayedPosition: doc.position };
}

/** A document's position is part of what is compared: replay sets it to the last event that changed it. */
function different(
  ref: Omit<DocumentRef, 'id'>,
  stored: StoredDocument,
  replayed: StoredDocument,
): ReadModelDifference | undefined {
  const fields = diffFields(stored.data, replayed.data);
  if (fields.length === 0 && stored.position === replayed.position) return undefined;
  return {
    ...ref,
    id: stored.id,
    problem: 'different',
    fields,
    storedPosition: stored.position,
    replayedPosition: replayed.position,
  };
}

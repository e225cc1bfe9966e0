import type { LeaseState, ReadModelStore } from '../ports/read-model-store.js';
import type { Projection } from './projection.js';

/** Where each projection is, and who holds the leases it runs under: for the status route and CLI. */
export interface ProjectionStatus {
  readonly checkpoints: ReadonlyArray<{ readonly projection: string; readonly checkpoint: bigint | 'start' }>;
  readonly leases: readonly LeaseState[];
}

/** Read from the shared store, so every instance (holder or not) reports the same. */
export async function readProjectionStatus(
  readModels: ReadModelStore,
  projections: readonly Projection[],
): Promise<ProjectionStatus> {
  const checkpoints = await Promise.all(
    projections.map(async (p) => ({ projection: p.name, checkpoint: await readModels.getCheckpoint(p.name) })),
  );
  return { checkpoints, leases: await readModels.listLeases() };
}

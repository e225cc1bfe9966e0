import type { LedgerConfig } from '../src/config.js';
import { openReadModelStore } from '../src/adapters/storage.js';
import { projectionsFor } from '../src/projections/all-projections.js';
import { readProjectionStatus, type ProjectionStatus } from '../src/projections/projection-status.js';
import { requireEmbeddedStore } from './store-guards.js';

/**
 * `ledger projections`: who holds the projections lease and until when, and each read model's checkpoint,
 * read from the read-model store itself (no service needs to be running, and none is disturbed: it takes
 * no lock and changes nothing a service reads).
 */
export async function printProjectionStatus(config: LedgerConfig): Promise<ProjectionStatus> {
  requireEmbeddedStore(config, { readModels: true, events: false });
  const readModels = await openReadModelStore(config);
  try {
    const status = await readProjectionStatus(readModels, projectionsFor(config.accountingTimeZone));
    for (const line of describeProjectionStatus(status)) console.log(line);
    return status;
  } finally {
    await readModels.close();
  }
}

export function describeProjectionStatus(status: ProjectionStatus): string[] {
  const lines: string[] = [];
  if (status.leases.length === 0) lines.push('lease: none taken yet (no service has run the projections here)');
  for (const lease of status.leases) {
    const until = new Date(lease.expiresAtMs).toISOString();
    const leftMs = lease.expiresAtMs - lease.nowMs;
    lines.push(
      lease.holder === null
        ? `lease ${lease.name}: free (released; token ${lease.token})`
        : leftMs > 0
          ? `lease ${lease.name}: held by ${lease.holder} (token ${lease.token}) until ${until} (${(leftMs / 1000).toFixed(1)} s left)`
          : `lease ${lease.name}: expired at ${until}, last held by ${lease.holder} (token ${lease.token}): the next instance to poll takes it`,
    );
  }
  const width = Math.max(...status.checkpoints.map((c) => c.projection.length));
  for (const { projection, checkpoint } of status.checkpoints) {
    lines.push(`${projection.padEnd(width)}  checkpoint ${checkpoint === 'start' ? 'none yet' : checkpoint}`);
  }
  return lines;
}

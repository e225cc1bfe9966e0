import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { INSTANCES_FILE, openInstanceRegistry } from '../src/adapters/storage.js';
import { instanceState } from '../src/commands/claim-owners.js';
import type { LedgerConfig } from '../src/config.js';
import { MAX_INSTANCES_LISTED, type InstanceRecord } from '../src/ports/instance-registry.js';
import { NoStoreError } from './store-guards.js';

/**
 * `ledger instances`: the service instances on record, the latest heartbeat first, and what each may still
 * do: a `running` one may own idempotency claims (a retry waits for it); the others' claims are taken over
 * at once. Read from the registry itself: no service needs to run, and none is disturbed.
 */
export async function printInstances(config: LedgerConfig, limit: number): Promise<InstanceRecord[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INSTANCES_LISTED)
    throw new RangeError(`--limit must be an integer from 1 to ${MAX_INSTANCES_LISTED}`);
  // Opening the embedded registry creates it: a mistyped DATA_DIR must not read as "no instance".
  const embedded = !(config.eventStoreUrl && config.mongoUrl);
  if (embedded && !existsSync(join(config.dataDir, INSTANCES_FILE)))
    throw new NoStoreError(`DATA_DIR ${resolve(config.dataDir)} has no ${INSTANCES_FILE}: no service has run here`);
  const registry = await openInstanceRegistry(config);
  try {
    const records = await registry.list(limit);
    for (const line of describeInstances(records, Date.now(), config.instanceHeartbeat.staleAfterMs)) console.log(line);
    return records;
  } finally {
    await registry.close();
  }
}

export function describeInstances(records: readonly InstanceRecord[], nowMs: number, staleAfterMs: number): string[] {
  if (records.length === 0) return ['no service instance on record'];
  return records.map((record) => {
    const state = instanceState(record, nowMs, staleAfterMs);
    const since =
      record.endedAt === null
        ? `last beat ${record.lastBeatAt.toISOString()}`
        : `ended ${record.endedAt.toISOString()}`;
    return `${record.instanceId}  ${state.padEnd(7)}  started ${record.startedAt.toISOString()}, ${since}`;
  });
}

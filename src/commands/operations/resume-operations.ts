import { DateTime } from 'luxon';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import { OPERATIONS_COLLECTION, type OperationDocument } from '../../projections/operations.js';
import { deriveId, type CommandContext } from '../command-context.js';

/** Drives one operation on after a crash (LedgerCommands, and channel payments beside it). */
export interface OperationResumer {
  resumeOperation(kind: OperationDocument['kind'], operationId: string, context: CommandContext): Promise<void>;
}

/** Most operations one sweep looks at; the next sweep takes the rest. */
export const MAX_RESUMES_PER_SWEEP = 200;

/**
 * DESIGN 3.2: "a crash mid-way is resumed from the events". An operation whose request was recorded but
 * whose steps did not all run (the process died, the storage went away mid-request) is driven to its
 * end here, once it has been quiet for `graceMs` (so a request still running is left alone). Every step's
 * ids are derived from the operation, so resuming twice, or resuming while a client retries, records each
 * step once.
 */
export async function resumeStalledOperations(
  commands: OperationResumer,
  readModels: ReadModelStore,
  nowIso: string,
  graceMs: number,
  onFailure: (operationId: string, error: unknown) => void = (id, error) =>
    console.error(`resuming operation ${id} failed`, error),
): Promise<number> {
  const quietBefore = DateTime.fromISO(nowIso, { zone: 'utc' }).minus({ milliseconds: graceMs }).toISO()!;
  // Oldest first; one operation that cannot be resumed must not keep the others waiting: each is tried on its own.
  const page = await readModels.find(OPERATIONS_COLLECTION, {
    where: { inFlight: true },
    orderBy: 'updatedAt',
    limit: MAX_RESUMES_PER_SWEEP,
  });
  let resumed = 0;
  for (const { data } of page.items) {
    const operation = data as unknown as OperationDocument;
    if (operation.updatedAt >= quietBefore) continue;
    const context: CommandContext = {
      actor: 'recovery',
      correlationId: operation.operationId,
      causationId: operation.operationId,
      idempotencyKey: null,
      operationKey: deriveId(operation.operationId, `recovery\u0000${nowIso}`),
      occurredAt: nowIso,
    };
    try {
      await commands.resumeOperation(operation.kind, operation.operationId, context);
      resumed += 1;
    } catch (error) {
      onFailure(operation.operationId, error);
    }
  }
  return resumed;
}

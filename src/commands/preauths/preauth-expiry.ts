import type { ReadModelStore } from '../../ports/read-model-store.js';
import { OPERATIONS_COLLECTION, type OperationDocument } from '../../projections/operations.js';
import { deriveId, type CommandContext } from '../command-context.js';
import type { LedgerCommands } from '../ledger-commands.js';
import { DomainError } from '../../domain/shared/domain-error.js';

/** Most holds one sweep cancels; the next sweep takes the rest. */
export const MAX_EXPIRIES_PER_SWEEP = 500;

/**
 * Cancels pre-authorisations whose hold has lapsed, releasing the held funds. The read model says which
 * are due; the pre-authorisation's own stream decides (it refuses one not yet expired, or no longer
 * authorised), so a stale read model can never cancel a hold early. Ids are derived from the
 * pre-authorisation, so two sweeps (two service processes) cancel each hold once.
 */
export async function expireDuePreauths(
  commands: LedgerCommands,
  readModels: ReadModelStore,
  nowIso: string,
): Promise<number> {
  const due = await readModels.find<OperationDocument & Record<string, never>>(OPERATIONS_COLLECTION, {
    where: { kind: 'preauth', status: 'authorised' },
    range: { field: 'expiresAt', lt: nowIso },
    orderBy: 'expiresAt',
    limit: MAX_EXPIRIES_PER_SWEEP,
  });
  let expired = 0;
  for (const { data } of due.items) {
    const preauthId = String(data['operationId']);
    const context: CommandContext = {
      actor: 'preauth-expiry',
      correlationId: preauthId,
      causationId: null,
      idempotencyKey: null,
      operationKey: deriveId(preauthId, 'expiry'),
      occurredAt: nowIso,
    };
    try {
      await commands.cancelPreauth(preauthId, 'expired', context);
      expired += 1;
    } catch (error) {
      // Completed or cancelled since the read model was written: nothing to expire.
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return expired;
}

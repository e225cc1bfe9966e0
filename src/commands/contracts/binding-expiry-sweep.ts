import { DomainError } from '../../domain/shared/domain-error.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import { CARD_CONTRACTS_COLLECTION, type CardContractDocument } from '../../projections/card-contracts.js';
import { deriveId, type CommandContext } from '../command-context.js';
import type { CardBindings } from './card-bindings.js';

/**
 * Expires bindings left unconfirmed past their time (the code never typed, a verify still unknown) and
 * unsigns at the channel the pre-bindings that failed (expired, cancelled, wrong codes) while the channel
 * could not confirm them unsigned. The read model says which are due; each contract's own stream decides
 * (ExpireBinding changes nothing before the binding's time or after its end), so a stale read model can
 * never expire a binding early. Bounded per pass: the next pass takes the rest.
 */
export const DEFAULT_MAX_BINDING_EXPIRIES_PER_SWEEP = 100;

export interface BindingExpiryResult {
  readonly expired: number;
  /** Contracts the pass could not settle (a channel not confirming an unsign): tried again next pass. */
  readonly failed: number;
}

export class BindingExpirySweep {
  constructor(
    private readonly bindings: CardBindings,
    private readonly readModels: ReadModelStore,
    private readonly maxPerSweep: number = DEFAULT_MAX_BINDING_EXPIRIES_PER_SWEEP,
    private readonly onFailure: (contractId: string, error: unknown) => void = (contractId, error) =>
      console.error(`expiring card binding ${contractId} failed`, error),
  ) {
    if (!Number.isInteger(maxPerSweep) || maxPerSweep < 1 || maxPerSweep > 1_000)
      throw new RangeError(`bindings per sweep: 1..1000, not ${maxPerSweep}`);
  }

  async sweep(nowIso: string): Promise<BindingExpiryResult> {
    const due = await this.readModels.find<CardContractDocument>(CARD_CONTRACTS_COLLECTION, {
      where: { unfinished: true },
      range: { field: 'expiresAt', lt: nowIso },
      orderBy: 'expiresAt',
      limit: this.maxPerSweep,
    });
    const room = this.maxPerSweep - due.items.length;
    const unsign =
      room > 0
        ? await this.readModels.find<CardContractDocument>(CARD_CONTRACTS_COLLECTION, {
            where: { unsignPending: true },
            orderBy: 'expiresAt',
            limit: room,
          })
        : { items: [] };
    let expired = 0;
    let failed = 0;
    for (const { data } of [...due.items, ...unsign.items]) {
      const context: CommandContext = {
        actor: 'binding-expiry-sweep',
        correlationId: data.contractId,
        causationId: null,
        idempotencyKey: null,
        operationKey: deriveId(data.contractId, 'expiry'),
        occurredAt: nowIso,
      };
      try {
        const view = await this.bindings.expire(data.contractId, context);
        if (view.failure === 'expired') expired += 1;
      } catch (error) {
        failed += 1;
        if (!(error instanceof DomainError && error.code === 'channel_unavailable'))
          this.onFailure(data.contractId, error);
      }
    }
    return { expired, failed };
  }
}

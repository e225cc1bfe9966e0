import { erasureDecider, type ErasureCommand, type ErasureState } from '../../domain/identity/erasure-decider.js';
import type { ErasureEvent } from '../../domain/identity/erasure-events.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore } from '../../ports/event-store.js';
import type { ReadModelStore } from '../../ports/read-model-store.js';
import type { SecretVault } from '../../ports/secret-vault.js';
import {
  CARD_CONTRACTS_COLLECTION,
  CARD_CONTRACTS_PROJECTION,
  type CardContractDocument,
} from '../../projections/card-contracts.js';
import type { CommandContext } from '../command-context.js';
import type { CardBindings } from '../contracts/card-bindings.js';
import type { EntityCommands } from '../entities/entity-commands.js';
import { stepContext } from '../operations/operation-steps.js';
import { seedVaultSubject, type PaymentCodeSeeds } from '../payment-codes/payment-code-seeds.js';
import { DEFAULT_HANDLER_LIMITS, StreamCommandHandler } from '../stream-command-handler.js';

export function erasureStreamId(userId: string): string {
  return `erasure-${userId}`;
}

/** Contracts one erasure looks at: far above any real user's cards; beyond it the erasure is refused, not cut short. */
export const MAX_CONTRACTS_PER_ERASURE = 1_000;
const CONTRACTS_PAGE = 200;

export interface UserErasureDeps {
  readonly eventStore: EventStore;
  readonly entities: EntityCommands;
  readonly vault: SecretVault;
  readonly cardBindings: CardBindings;
  readonly seeds: PaymentCodeSeeds;
  readonly readModels: ReadModelStore;
  readonly waitForPosition: (projection: string, position: bigint, timeoutMs: number) => Promise<void>;
  readonly waitTimeoutMs: number;
}

export interface ErasureView {
  readonly userId: string;
  readonly status: 'requested' | 'erased';
  readonly requestedBy: string;
  readonly reason: string;
  readonly requestedAt: string;
  readonly erasedAt: string | null;
  readonly forgotten: { vaultSubjects: string[]; contracts: string[]; paymentCodeSeeds: string[] } | null;
}

function viewOf(state: Exclude<ErasureState, { status: 'none' }>): ErasureView {
  return {
    userId: state.userId,
    status: state.status,
    requestedBy: state.requestedBy,
    reason: state.reason,
    requestedAt: state.requestedAt,
    erasedAt: state.erased?.erasedAt ?? null,
    forgotten: state.erased
      ? {
          vaultSubjects: [...state.erased.forgotten.vaultSubjects],
          contracts: [...state.erased.forgotten.contracts],
          paymentCodeSeeds: [...state.erased.forgotten.paymentCodeSeeds],
        }
      : null,
  };
}

/**
 * Erasure of a user (crypto-shredding), in this order: the request recorded (who, why); every contract
 * still live unsigned at its channel (bound ones terminated `erased`, bindings in progress cancelled, a
 * failed pre-binding's unsign settled); the user's payment-code seeds revoked (each revocation forgets its
 * seed); the user's vault data key destroyed; then `UserErased`. A channel that cannot confirm an unsign
 * makes the erasure **wait**: nothing is destroyed yet, the request stays on record, the answer is 503
 * `channel_unavailable` naming the contracts, and asking again resumes. Destroying the key first would
 * leave a contract the platform can still charge, for a person it can no longer name.
 */
export class UserErasures {
  readonly #handler: StreamCommandHandler<ErasureCommand, ErasureEvent, ErasureState>;

  constructor(private readonly deps: UserErasureDeps) {
    this.#handler = new StreamCommandHandler(deps.eventStore, erasureDecider, DEFAULT_HANDLER_LIMITS);
  }

  async get(userId: string): Promise<ErasureView | undefined> {
    const { state } = await this.#handler.load(erasureStreamId(userId));
    return state.status === 'none' ? undefined : viewOf(state);
  }

  async erase(
    request: { readonly userId: string; readonly requestedBy: string; readonly reason: string },
    context: CommandContext,
  ): Promise<ErasureView> {
    const { userId } = request;
    const user = await this.deps.entities.get(userId);
    if (!user) throw new DomainError('entity_not_found', `entity ${userId} not found`, { entityId: userId });
    if (user.kind !== 'user')
      throw new DomainError('entity_kind_denies', 'only users are erased', { entityId: userId });
    const streamId = erasureStreamId(userId);
    const requested = await this.#handler.handle(
      streamId,
      { type: 'RequestErasure', ...request, at: context.occurredAt },
      stepContext(context, streamId, 'request'),
    );
    if (requested.state.status === 'erased') return viewOf(requested.state);

    // Every contract started before the request is in the read model once it has reached the request.
    await this.deps.waitForPosition(CARD_CONTRACTS_PROJECTION, requested.position, this.deps.waitTimeoutMs);
    const contracts = await this.#contractsOf(userId);
    const waiting: string[] = [];
    for (const contractId of contracts) {
      try {
        await this.#end(contractId, stepContext(context, contractId, 'erasure'));
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'channel_unavailable')) throw error;
        waiting.push(contractId);
      }
    }
    if (waiting.length > 0)
      throw new DomainError(
        'channel_unavailable',
        `erasure waits: ${waiting.length} contract(s) not yet confirmed unsigned at their channel; ask again`,
        { userId, contractIds: waiting.join(',') },
      );

    const { seeds } = await this.deps.seeds.list(userId);
    for (const seed of seeds)
      if (seed.status === 'live')
        await this.deps.seeds.revoke(
          userId,
          seed.seedId,
          { reason: 'operator', note: 'user erased' },
          stepContext(context, seed.seedId, 'erasure'),
        );
    const reason = requested.state.status === 'none' ? request.reason : requested.state.reason;
    await this.deps.vault.forget(userId, `user erased: ${reason}`.slice(0, 500));
    // A binding started while the erasure ran (after its list): its data is unreadable now; end it too.
    const head = await this.deps.eventStore.headPosition();
    if (head !== 'start') await this.deps.waitForPosition(CARD_CONTRACTS_PROJECTION, head, this.deps.waitTimeoutMs);
    const late = (await this.#contractsOf(userId)).filter((contractId) => !contracts.includes(contractId));
    for (const contractId of late) await this.#end(contractId, stepContext(context, contractId, 'erasure'));
    contracts.push(...late);
    const erased = await this.#handler.handle(
      streamId,
      {
        type: 'RecordErased',
        userId,
        forgotten: {
          vaultSubjects: [userId, ...seeds.map((seed) => seedVaultSubject(seed.seedId))],
          contracts,
          paymentCodeSeeds: seeds.map((seed) => seed.seedId),
        },
        at: context.occurredAt,
      },
      stepContext(context, streamId, 'erased'),
    );
    if (erased.state.status === 'none') throw new DomainError('invariant_violated', 'erasure: recorded, yet none');
    return viewOf(erased.state);
  }

  /** Ends one contract at its channel as its own stream says it stands now (the read model may lag). */
  async #end(contractId: string, context: CommandContext): Promise<void> {
    const contract = await this.deps.cardBindings.get(contractId);
    if (!contract) return;
    switch (contract.status) {
      case 'bound':
        await this.deps.cardBindings.unbind(contractId, 'erased', context);
        return;
      case 'verifying':
      case 'awaiting_bank_code':
      case 'pre_bound':
        await this.deps.cardBindings.cancel(contractId, context);
        return;
      case 'failed':
        // A failed pre-binding whose unsign the channel has not confirmed is settled here (no-op otherwise).
        await this.deps.cardBindings.expire(contractId, context);
        return;
      case 'terminated':
        return;
    }
  }

  async #contractsOf(userId: string): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await this.deps.readModels.find<CardContractDocument>(CARD_CONTRACTS_COLLECTION, {
        where: { userId },
        orderBy: 'startedAt',
        limit: CONTRACTS_PAGE,
        ...(after ? { after } : {}),
      });
      ids.push(...page.items.map((item) => item.data.contractId));
      if (ids.length > MAX_CONTRACTS_PER_ERASURE)
        throw new DomainError('invariant_violated', `erasure: more than ${MAX_CONTRACTS_PER_ERASURE} contracts`);
      after = page.nextCursor ?? undefined;
    } while (after !== undefined);
    return ids;
  }
}

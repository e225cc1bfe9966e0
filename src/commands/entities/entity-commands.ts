import { entityDecider, type EntityCommand } from '../../domain/entities/entity-decider.js';
import type { EntityEvent, SecurityLevel } from '../../domain/entities/entity-events.js';
import { entityIdOf, type EntityKind } from '../../domain/entities/entity-id.js';
import { requireEntity, requireKey } from '../../domain/entities/entity-rules.js';
import type { ApiKey, EntityState, RegisteredEntity } from '../../domain/entities/entity-state.js';
import { checkPaymentPassword } from '../../domain/entities/password-policy.js';
import { decodeEvent } from '../../domain/event-catalogue.js';
import { DomainError } from '../../domain/shared/domain-error.js';
import type { EventStore, RecordedEvent } from '../../ports/event-store.js';
import type { PasswordHasher } from '../../ports/password-hasher.js';
import { deriveEventId, deriveId, type CommandContext } from '../command-context.js';
import { findRecentEvent } from '../recorded-events.js';
import {
  DEFAULT_HANDLER_LIMITS,
  StreamCommandHandler,
  type StreamCommandHandlerLimits,
} from '../stream-command-handler.js';
import { DEFAULT_DIRECTORY_OPTIONS, EntityDirectory, type EntityDirectoryOptions } from './entity-directory.js';
import { entityStreamId } from './entity-stream.js';

export interface RegisterEntityRequest {
  readonly kind: EntityKind;
  readonly displayName: string;
  /** Default: true for users and merchants; operators never pay. */
  readonly mayPay?: boolean;
  readonly phone?: string | null;
  readonly email?: string | null;
  readonly securityLevel?: SecurityLevel;
}

export type PaymentPasswordRequest =
  | { readonly newPassword: string; readonly currentPassword: string | null }
  | { readonly newPassword: string; readonly resetVerifiedVia: 'phone' | 'email' };

export interface EntityOutcome {
  readonly entityId: string;
  readonly state: RegisteredEntity;
  /** The events this command recorded (or, for a retry that finds its own earlier run, those). */
  readonly events: readonly EntityEvent[];
}

/** Whether a previous holder of the request's idempotency key may have run the command before dying. */
export interface Attempt {
  readonly takeover: boolean;
}

type EntityHandler = StreamCommandHandler<EntityCommand, EntityEvent, EntityState>;

/**
 * The write side for entities: users, merchants and operators, their payment passwords and API keys.
 * Every id a command makes is derived from its operation key, so a retry finds its own earlier work.
 */
export class EntityCommands {
  readonly directory: EntityDirectory;
  private readonly handler: EntityHandler;

  constructor(
    private readonly eventStore: EventStore,
    private readonly passwords: PasswordHasher,
    options: { limits?: StreamCommandHandlerLimits; directory?: EntityDirectoryOptions } = {},
  ) {
    this.handler = new StreamCommandHandler(eventStore, entityDecider, options.limits ?? DEFAULT_HANDLER_LIMITS);
    this.directory = new EntityDirectory(eventStore, options.directory ?? DEFAULT_DIRECTORY_OPTIONS);
  }

  async register(request: RegisterEntityRequest, context: CommandContext): Promise<EntityOutcome> {
    const entityId = entityIdOf(request.kind, deriveId(context.operationKey, 'entity'));
    const command: EntityCommand = {
      type: 'RegisterEntity',
      entityId,
      kind: request.kind,
      displayName: request.displayName,
      mayPay: request.mayPay ?? request.kind !== 'operator',
      phone: request.phone ?? null,
      email: request.email ?? null,
      securityLevel: request.securityLevel ?? 'standard',
    };
    try {
      return await this.handle(entityId, command, context);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'entity_exists')) throw error;
      // The id is derived from the operation key: an existing entity is this request's own earlier run.
      const earlier = await this.earlierRun(entityId, context);
      if (!earlier) throw error;
      return earlier;
    }
  }

  async setPaymentPassword(
    entityId: string,
    request: PaymentPasswordRequest,
    context: CommandContext,
    attempt: Attempt,
  ): Promise<EntityOutcome> {
    // Before verifying anything: after a takeover the old password may already have been replaced.
    const earlier = attempt.takeover ? await this.earlierRun(entityId, context) : undefined;
    if (earlier) return earlier;
    checkPaymentPassword(request.newPassword);
    const entity = requireEntity((await this.handler.load(entityStreamId(entityId))).state, entityId);
    if ('resetVerifiedVia' in request) {
      const passwordHash = await this.passwords.hash(request.newPassword);
      return this.handle(
        entityId,
        { type: 'ResetPaymentPassword', entityId, passwordHash, verifiedVia: request.resetVerifiedVia },
        context,
      );
    }
    let verifiedCurrentHash: string | null = null;
    if (entity.paymentPasswordHash !== null || request.currentPassword !== null) {
      const matches =
        entity.paymentPasswordHash !== null &&
        request.currentPassword !== null &&
        (await this.passwords.verify(request.currentPassword, entity.paymentPasswordHash));
      if (!matches)
        throw new DomainError('payment_password_mismatch', 'the current payment password does not match', { entityId });
      verifiedCurrentHash = entity.paymentPasswordHash;
    }
    const passwordHash = await this.passwords.hash(request.newPassword);
    return this.handle(entityId, { type: 'SetPaymentPassword', entityId, passwordHash, verifiedCurrentHash }, context);
  }

  async changePaymentSettings(
    entityId: string,
    settings: { mayPay?: boolean; securityLevel?: SecurityLevel },
    context: CommandContext,
    attempt: Attempt,
  ): Promise<EntityOutcome> {
    const earlier = attempt.takeover ? await this.earlierRun(entityId, context) : undefined;
    return earlier ?? this.handle(entityId, { type: 'ChangePaymentSettings', entityId, ...settings }, context);
  }

  /** `publicKey`: base64 DER SubjectPublicKeyInfo of an Ed25519 key. */
  async registerApiKey(
    entityId: string,
    publicKey: string,
    context: CommandContext,
    attempt: Attempt,
  ): Promise<EntityOutcome & { key: ApiKey }> {
    const outcome =
      (attempt.takeover ? await this.earlierRun(entityId, context) : undefined) ??
      (await this.handle(entityId, { type: 'RegisterApiKey', entityId, publicKey }, context));
    const registered = outcome.events.find((event) => event.type === 'ApiKeyRegistered');
    if (!registered) throw new Error('registering an API key records ApiKeyRegistered');
    return { ...outcome, key: requireKey(outcome.state, registered.data.keyNo) };
  }

  async revokeApiKey(
    entityId: string,
    keyNo: number,
    reason: string,
    context: CommandContext,
    attempt: Attempt,
  ): Promise<EntityOutcome & { key: ApiKey }> {
    const outcome =
      (attempt.takeover ? await this.earlierRun(entityId, context) : undefined) ??
      (await this.handle(entityId, { type: 'RevokeApiKey', entityId, keyNo, reason }, context));
    return { ...outcome, key: requireKey(outcome.state, keyNo) };
  }

  /** The entity as the event store has it now (not the directory's cached copy). */
  async get(entityId: string): Promise<RegisteredEntity | undefined> {
    const current = await this.handler.load(entityStreamId(entityId));
    this.directory.remember(entityId, current.state, current.revision);
    return current.state.exists ? current.state : undefined;
  }

  /** For payment commands: does this password match the entity's payment password? */
  async verifyPaymentPassword(entityId: string, password: string): Promise<boolean> {
    const entity = await this.get(entityId);
    return entity ? this.verifyPaymentPasswordOf(entity, password) : false;
  }

  /** The same, against the entity as the caller has just loaded it (with `get`): not loaded again. */
  async verifyPaymentPasswordOf(entity: RegisteredEntity, password: string): Promise<boolean> {
    if (!entity.paymentPasswordHash) return false;
    return this.passwords.verify(password, entity.paymentPasswordHash);
  }

  private async handle(entityId: string, command: EntityCommand, context: CommandContext): Promise<EntityOutcome> {
    const handled = await this.handler
      .handle(entityStreamId(entityId), command, context)
      .finally(() => this.directory.forget(entityId));
    return { entityId, state: requireEntity(handled.state, entityId), events: handled.events };
  }

  /** The events an earlier run under this operation key recorded on the entity's stream, if any. */
  private async earlierRun(entityId: string, context: CommandContext): Promise<EntityOutcome | undefined> {
    const streamId = entityStreamId(entityId);
    const recorded: RecordedEvent[] = [];
    for (let index = 0; ; index += 1) {
      const event = await findRecentEvent(
        this.eventStore,
        streamId,
        deriveEventId(context.operationKey, streamId, index),
      );
      if (!event) break;
      recorded.push(event);
    }
    if (recorded.length === 0) return undefined;
    const state = await this.get(entityId);
    if (!state) return undefined;
    return { entityId, state, events: recorded.map((event) => decodeEvent(event.type, event.data) as EntityEvent) };
  }
}

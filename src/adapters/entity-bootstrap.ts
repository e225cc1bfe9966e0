import { randomUUID } from 'node:crypto';
import { deriveId, type CommandContext } from '../commands/command-context.js';
import type { EntityCommands } from '../commands/entities/entity-commands.js';
import { entityIdOf } from '../domain/entities/entity-id.js';
import { keyIdOf } from '../domain/entities/entity-state.js';
import type { Clock } from '../ports/clock.js';
import { generateEd25519KeyPair } from './crypto/ed25519-keys.js';

export interface BootstrappedEntity {
  readonly entityId: string;
  readonly keyId: string;
  /** PKCS#8 PEM. The ledger never stores it: whoever called this must keep it or lose it. */
  readonly privateKeyPem: string;
}

export interface BootstrapRequest {
  readonly kind: 'operator' | 'merchant';
  readonly displayName: string;
  readonly email?: string | null;
  readonly phone?: string | null;
  /** Who is doing this, recorded on the events ("cli:alice"). */
  readonly actor: string;
  /**
   * Called with the new entity's id and private key before anything is recorded, so a key that cannot
   * be stored (a key file that already exists) leaves no entity behind.
   */
  readonly beforeRecording?: (entity: BootstrappedEntity) => void | Promise<void>;
}

/**
 * Registers an operator or merchant with a fresh Ed25519 key, straight through the command layer: how
 * the first operator comes to exist (no one could sign the API request for it), and how tests make
 * their callers.
 */
export async function bootstrapEntity(
  entities: EntityCommands,
  clock: Clock,
  request: BootstrapRequest,
): Promise<BootstrappedEntity> {
  const operationKey = `bootstrap\u0000${randomUUID()}`;
  const context = (purpose: string): CommandContext => ({
    actor: request.actor,
    correlationId: operationKey.slice('bootstrap\u0000'.length),
    causationId: null,
    idempotencyKey: null,
    operationKey: `${operationKey}\u0000${purpose}`,
    occurredAt: clock.now().toISO()!,
  });
  const registration = context('register');
  const entityId = entityIdOf(request.kind, deriveId(registration.operationKey, 'entity'));
  const { publicKey, privateKeyPem } = generateEd25519KeyPair();
  const entity: BootstrappedEntity = { entityId, keyId: keyIdOf(entityId, 1), privateKeyPem };
  await request.beforeRecording?.(entity);
  const registered = await entities.register(
    {
      kind: request.kind,
      displayName: request.displayName,
      email: request.email ?? null,
      phone: request.phone ?? null,
    },
    registration,
  );
  if (registered.entityId !== entityId) throw new Error('the registered entity id differs from the derived one');
  const { key } = await entities.registerApiKey(entityId, publicKey, context('key'), { takeover: false });
  return { ...entity, keyId: keyIdOf(entityId, key.keyNo) };
}

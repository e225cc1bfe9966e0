import { DomainError } from '../shared/domain-error.js';
import type { ApiKeyRegistered, ApiKeyRevoked } from './entity-events.js';
import { requireEntity, requireKey, requireKind } from './entity-rules.js';
import type { EntityState } from './entity-state.js';

/**
 * API signing keys. The ledger holds only public keys; merchants and operators keep the private halves.
 * Several keys may be active at once so a key can be rotated without downtime: add the new one, move
 * the clients, revoke the old one. A revoked key never comes back, not even by registering it again.
 */
export const MAX_ACTIVE_KEYS_PER_ENTITY = 5;
/** Every registration and revocation is an event on the entity's stream; this keeps the stream short. */
export const MAX_KEYS_PER_ENTITY = 100;

/**
 * DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): this fixed 12-byte header, then the 32-byte key.
 * Checking it here keeps the domain free of crypto libraries; the HTTP adapter also parses the key.
 */
const ED25519_SPKI_HEADER = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_SPKI_BYTES = ED25519_SPKI_HEADER.length + 32;

export function isEd25519Spki(base64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return false;
  const der = Buffer.from(base64, 'base64');
  return der.length === ED25519_SPKI_BYTES && der.subarray(0, ED25519_SPKI_HEADER.length).equals(ED25519_SPKI_HEADER);
}

export interface RegisterApiKey {
  readonly entityId: string;
  /** base64 of the DER SubjectPublicKeyInfo. */
  readonly publicKey: string;
}

export interface RevokeApiKey {
  readonly entityId: string;
  readonly keyNo: number;
  readonly reason: string;
}

export function decideRegisterApiKey(command: RegisterApiKey, state: EntityState): ApiKeyRegistered[] {
  const entity = requireEntity(state, command.entityId);
  // Users never call the API: merchants act for them.
  requireKind(entity, ['merchant', 'operator'], 'hold API keys');
  if (!isEd25519Spki(command.publicKey)) {
    throw new DomainError('invalid_public_key', 'the public key is not an Ed25519 SubjectPublicKeyInfo', {
      entityId: entity.entityId,
    });
  }
  const same = entity.keys.find((key) => key.publicKey === command.publicKey);
  if (same) {
    throw new DomainError('api_key_exists', `this public key is already key ${same.keyNo} (${same.status})`, {
      entityId: entity.entityId,
      keyNo: String(same.keyNo),
    });
  }
  const active = entity.keys.filter((key) => key.status === 'active').length;
  if (active >= MAX_ACTIVE_KEYS_PER_ENTITY || entity.keys.length >= MAX_KEYS_PER_ENTITY) {
    throw new DomainError(
      'api_key_limit',
      `an entity holds at most ${MAX_ACTIVE_KEYS_PER_ENTITY} active and ${MAX_KEYS_PER_ENTITY} keys in all; revoke one first`,
      {
        entityId: entity.entityId,
      },
    );
  }
  const keyNo = entity.keys.length + 1;
  return [
    {
      type: 'ApiKeyRegistered',
      data: { entityId: entity.entityId, keyNo, algorithm: 'ed25519', publicKey: command.publicKey },
    },
  ];
}

/** Revoking a revoked key records nothing: the key is as the caller wants it. */
export function decideRevokeApiKey(command: RevokeApiKey, state: EntityState): ApiKeyRevoked[] {
  const entity = requireEntity(state, command.entityId);
  const key = requireKey(entity, command.keyNo);
  if (key.status === 'revoked') return [];
  return [{ type: 'ApiKeyRevoked', data: { entityId: entity.entityId, keyNo: key.keyNo, reason: command.reason } }];
}

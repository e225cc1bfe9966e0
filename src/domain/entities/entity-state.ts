import { assert } from '../shared/domain-error.js';
import type { EntityEvent, SecurityLevel } from './entity-events.js';
import type { EntityKind } from './entity-id.js';

export interface ApiKey {
  readonly keyNo: number;
  readonly algorithm: 'ed25519';
  /** base64 of the DER SubjectPublicKeyInfo. */
  readonly publicKey: string;
  readonly status: 'active' | 'revoked';
}

export type EntityState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly entityId: string;
      readonly kind: EntityKind;
      readonly displayName: string;
      readonly mayPay: boolean;
      readonly phone: string | null;
      readonly email: string | null;
      readonly securityLevel: SecurityLevel;
      /** Encoded scrypt hash; null until a payment password is set. Never leaves the ledger. */
      readonly paymentPasswordHash: string | null;
      /** In keyNo order: keys[n - 1] is key n. */
      readonly keys: readonly ApiKey[];
    };

export type RegisteredEntity = Extract<EntityState, { exists: true }>;

export function initialEntityState(): EntityState {
  return { exists: false };
}

export function keyIdOf(entityId: string, keyNo: number): string {
  return `${entityId}/${keyNo}`;
}

export function evolveEntity(state: EntityState, event: EntityEvent): EntityState {
  if (event.type === 'EntityRegistered') {
    assert(!state.exists, 'an entity is registered once');
    return { exists: true, ...event.data, paymentPasswordHash: null, keys: [] };
  }
  assert(state.exists, `${event.type} needs a registered entity`);
  switch (event.type) {
    case 'PaymentPasswordSet':
      return { ...state, paymentPasswordHash: event.data.passwordHash };
    case 'EntityMayPayChanged':
      return { ...state, mayPay: event.data.mayPay };
    case 'EntitySecurityLevelChanged':
      return { ...state, securityLevel: event.data.securityLevel };
    case 'ApiKeyRegistered': {
      const { keyNo, algorithm, publicKey } = event.data;
      assert(keyNo === state.keys.length + 1, 'API keys are numbered 1, 2, 3... without gaps');
      return { ...state, keys: [...state.keys, { keyNo, algorithm, publicKey, status: 'active' }] };
    }
    case 'ApiKeyRevoked': {
      const { keyNo } = event.data;
      assert(state.keys[keyNo - 1] !== undefined, 'only a registered key is revoked');
      return {
        ...state,
        keys: state.keys.map((key) => (key.keyNo === keyNo ? { ...key, status: 'revoked' as const } : key)),
      };
    }
  }
}

import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_ACTIVE_KEYS_PER_ENTITY, isEd25519Spki } from '../../src/domain/entities/api-keys.js';
import { entityDecider, type EntityCommand } from '../../src/domain/entities/entity-decider.js';
import type {
  ApiKeyRegistered,
  EntityEvent,
  EntityRegistered,
  PaymentPasswordSet,
} from '../../src/domain/entities/entity-events.js';
import { entityIdOf, kindOfEntityId } from '../../src/domain/entities/entity-id.js';
import type { EntityState } from '../../src/domain/entities/entity-state.js';
import { checkPaymentPassword } from '../../src/domain/entities/password-policy.js';
import { DomainError } from '../../src/domain/shared/domain-error.js';
import { deciderSpecification } from '../support/decider-specification.js';

const spec = deciderSpecification<EntityCommand, EntityEvent, EntityState>(entityDecider);

const merchantId = entityIdOf('merchant', '0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3');
const userId = entityIdOf('user', '0190c1d2-3e4f-7a5b-8c6d-000000000001');
const operatorId = entityIdOf('operator', '0190c1d2-3e4f-7a5b-8c6d-000000000002');
const HASH_A = '$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
const HASH_B = '$scrypt$ln=15,r=8,p=1$b3RoZXJzYWx0b3RoZXJzYQ$YW5vdGhlcmhhc2hhbm90aGVyaGFzaGFub3RoZXJoYXM';

function publicKey(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

const registered = (
  entityId: string,
  kind: EntityRegistered['data']['kind'],
  extra: Partial<EntityRegistered['data']> = {},
): EntityRegistered => ({
  type: 'EntityRegistered',
  data: {
    entityId,
    kind,
    displayName: 'Blue Lantern',
    mayPay: kind !== 'operator',
    phone: '+8613800138000',
    email: null,
    securityLevel: 'standard',
    ...extra,
  },
});
const merchant = registered(merchantId, 'merchant');
const passwordSet = (
  passwordHash: string,
  reason: PaymentPasswordSet['data']['reason'] = 'initial',
): PaymentPasswordSet => ({
  type: 'PaymentPasswordSet',
  data: { entityId: merchantId, passwordHash, reason, verifiedVia: null },
});
const keyRegistered = (keyNo: number, key: string): ApiKeyRegistered => ({
  type: 'ApiKeyRegistered',
  data: { entityId: merchantId, keyNo, algorithm: 'ed25519', publicKey: key },
});

describe('entity ids', () => {
  it('carry their kind in the prefix', () => {
    expect(merchantId).toBe('m-0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3');
    expect(kindOfEntityId(merchantId)).toBe('merchant');
    expect(kindOfEntityId(userId)).toBe('user');
    expect(kindOfEntityId(operatorId)).toBe('operator');
    expect(kindOfEntityId('x-0190c1d2-3e4f-7a5b-8c6d-7e8f90a1b2c3')).toBeUndefined();
  });
});

describe('registering an entity', () => {
  const command: EntityCommand = {
    type: 'RegisterEntity',
    entityId: merchantId,
    kind: 'merchant',
    displayName: 'Blue Lantern',
    mayPay: true,
    phone: '+8613800138000',
    email: null,
    securityLevel: 'standard',
  };

  it('given nothing, when registered, then the entity is recorded', () => {
    spec.given([]).when(command).then([merchant]);
  });

  it('given the entity, when registered again, then it is refused', () => {
    spec.given([merchant]).when(command).thenRefuses('entity_exists');
  });

  it('given nothing, when an operator that may pay is registered, then it is refused: staff do not pay', () => {
    spec
      .given([])
      .when({ ...command, entityId: operatorId, kind: 'operator' })
      .thenRefuses('entity_kind_denies', { kind: 'operator' });
  });
});

describe('payment passwords', () => {
  it('given no password, when one is set, then it is recorded as the initial one', () => {
    spec
      .given([merchant])
      .when({ type: 'SetPaymentPassword', entityId: merchantId, passwordHash: HASH_A, verifiedCurrentHash: null })
      .then([passwordSet(HASH_A)]);
  });

  it('given a password, when changed with the old one verified, then the change is recorded', () => {
    spec
      .given([merchant, passwordSet(HASH_A)])
      .when({ type: 'SetPaymentPassword', entityId: merchantId, passwordHash: HASH_B, verifiedCurrentHash: HASH_A })
      .then([passwordSet(HASH_B, 'change')]);
  });

  it('given a password, when changed without verifying the old one, then it is refused', () => {
    spec
      .given([merchant, passwordSet(HASH_A)])
      .when({ type: 'SetPaymentPassword', entityId: merchantId, passwordHash: HASH_B, verifiedCurrentHash: null })
      .thenRefuses('payment_password_mismatch');
  });

  it('given a password changed meanwhile, when changed with the old hash verified, then it is refused (a concurrent change won)', () => {
    spec
      .given([merchant, passwordSet(HASH_A), passwordSet(HASH_B, 'change')])
      .when({ type: 'SetPaymentPassword', entityId: merchantId, passwordHash: HASH_A, verifiedCurrentHash: HASH_A })
      .thenRefuses('payment_password_mismatch');
  });

  it('given a phone on file, when reset through it, then the reset is recorded', () => {
    spec
      .given([merchant, passwordSet(HASH_A)])
      .when({ type: 'ResetPaymentPassword', entityId: merchantId, passwordHash: HASH_B, verifiedVia: 'phone' })
      .then([
        {
          type: 'PaymentPasswordSet',
          data: { entityId: merchantId, passwordHash: HASH_B, reason: 'reset', verifiedVia: 'phone' },
        },
      ]);
  });

  it('given no e-mail on file, when reset through e-mail, then it is refused', () => {
    spec
      .given([merchant])
      .when({ type: 'ResetPaymentPassword', entityId: merchantId, passwordHash: HASH_B, verifiedVia: 'email' })
      .thenRefuses('entity_contact_missing', { verifiedVia: 'email' });
  });

  it('given an operator, when a password is set, then it is refused', () => {
    spec
      .given([registered(operatorId, 'operator')])
      .when({ type: 'SetPaymentPassword', entityId: operatorId, passwordHash: HASH_A, verifiedCurrentHash: null })
      .thenRefuses('entity_kind_denies');
  });

  it('given no entity, when a password is set, then it is refused: not found', () => {
    spec
      .given([])
      .when({ type: 'SetPaymentPassword', entityId: merchantId, passwordHash: HASH_A, verifiedCurrentHash: null })
      .thenRefuses('entity_not_found');
  });

  it.each(['12345', '111111', '123456', '987654', 'aaaaaaaa'])('refuses the weak password %s', (password) => {
    expect(() => checkPaymentPassword(password)).toThrow(DomainError);
  });

  it.each(['583920', 'correct horse battery', '135790'])('accepts %s', (password) => {
    expect(() => checkPaymentPassword(password)).not.toThrow();
  });
});

describe('payment settings', () => {
  it('given a merchant that may pay, when barred and raised to high security, then both changes are recorded', () => {
    spec
      .given([merchant])
      .when({ type: 'ChangePaymentSettings', entityId: merchantId, mayPay: false, securityLevel: 'high' })
      .then([
        { type: 'EntityMayPayChanged', data: { entityId: merchantId, mayPay: false } },
        { type: 'EntitySecurityLevelChanged', data: { entityId: merchantId, securityLevel: 'high' } },
      ]);
  });

  it('given the same settings, when changed to them, then nothing is recorded', () => {
    spec
      .given([merchant])
      .when({ type: 'ChangePaymentSettings', entityId: merchantId, mayPay: true, securityLevel: 'standard' })
      .then([]);
  });

  it('given an operator, when allowed to pay, then it is refused', () => {
    spec
      .given([registered(operatorId, 'operator')])
      .when({ type: 'ChangePaymentSettings', entityId: operatorId, mayPay: true })
      .thenRefuses('entity_kind_denies');
  });
});

describe('API keys', () => {
  const first = publicKey();
  const second = publicKey();

  it('given a merchant, when a key is registered, then it becomes key 1', () => {
    spec
      .given([merchant])
      .when({ type: 'RegisterApiKey', entityId: merchantId, publicKey: first })
      .then([keyRegistered(1, first)]);
  });

  it('given key 1, when another is registered, then it becomes key 2', () => {
    spec
      .given([merchant, keyRegistered(1, first)])
      .when({ type: 'RegisterApiKey', entityId: merchantId, publicKey: second })
      .then([keyRegistered(2, second)]);
  });

  it('given a revoked key, when the same public key is registered again, then it is refused: revoked keys never come back', () => {
    spec
      .given([
        merchant,
        keyRegistered(1, first),
        { type: 'ApiKeyRevoked', data: { entityId: merchantId, keyNo: 1, reason: 'leaked' } },
      ])
      .when({ type: 'RegisterApiKey', entityId: merchantId, publicKey: first })
      .thenRefuses('api_key_exists', { keyNo: '1' });
  });

  it('given a user, when a key is registered, then it is refused: users do not call the API', () => {
    spec
      .given([registered(userId, 'user')])
      .when({ type: 'RegisterApiKey', entityId: userId, publicKey: first })
      .thenRefuses('entity_kind_denies', { kind: 'user' });
  });

  it('given a merchant, when something that is not an Ed25519 key is registered, then it is refused', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    spec
      .given([merchant])
      .when({ type: 'RegisterApiKey', entityId: merchantId, publicKey: rsa })
      .thenRefuses('invalid_public_key');
    expect(isEd25519Spki(first)).toBe(true);
    expect(isEd25519Spki(rsa)).toBe(false);
  });

  it(`given ${MAX_ACTIVE_KEYS_PER_ENTITY} active keys, when one more is registered, then it is refused`, () => {
    const keys = Array.from({ length: MAX_ACTIVE_KEYS_PER_ENTITY }, (_, i) => keyRegistered(i + 1, publicKey()));
    spec
      .given([merchant, ...keys])
      .when({ type: 'RegisterApiKey', entityId: merchantId, publicKey: first })
      .thenRefuses('api_key_limit');
  });

  it('given an active key, when revoked, then the revocation is recorded; revoking it again records nothing', () => {
    const revoked = { type: 'ApiKeyRevoked' as const, data: { entityId: merchantId, keyNo: 1, reason: 'rotated' } };
    spec
      .given([merchant, keyRegistered(1, first)])
      .when({ type: 'RevokeApiKey', entityId: merchantId, keyNo: 1, reason: 'rotated' })
      .then([revoked]);
    spec
      .given([merchant, keyRegistered(1, first), revoked])
      .when({ type: 'RevokeApiKey', entityId: merchantId, keyNo: 1, reason: 'again' })
      .then([]);
  });

  it('given no key 3, when key 3 is revoked, then it is refused: not found', () => {
    spec
      .given([merchant, keyRegistered(1, first)])
      .when({ type: 'RevokeApiKey', entityId: merchantId, keyNo: 3, reason: 'x' })
      .thenRefuses('api_key_not_found');
  });

  it('evolves a revoked key to revoked and keeps the others active', () => {
    const events: EntityEvent[] = [
      merchant,
      keyRegistered(1, first),
      keyRegistered(2, second),
      { type: 'ApiKeyRevoked', data: { entityId: merchantId, keyNo: 1, reason: 'rotated' } },
    ];
    const state = events.reduce(entityDecider.evolve, entityDecider.initialState());
    expect(state.exists && state.keys.map((k) => [k.keyNo, k.status])).toEqual([
      [1, 'revoked'],
      [2, 'active'],
    ]);
  });
});
